//! Which dockerd serves a Unix socket. A host can run several dockerds (a CI runner's,
//! docker-in-docker, one rootless daemon per user), and anyone can name a process "dockerd",
//! so the daemon is matched by the socket its API is asked at, never by name or by order in
//! /proc. A process serves the socket when all of these hold:
//!
//! - one of its open files (`/proc/PID/fd/N` → `socket:[INODE]`) is a listening Unix socket
//!   that its network namespace's table (`/proc/PID/net/unix`) lists bound at a path;
//! - that path, resolved inside the process's own root (`/proc/PID/root`, so a dockerd in
//!   another mount namespace that bound the same name is told apart), is the very file (device
//!   and inode) the engine connects to.
//!
//! A socket handed over by systemd (`-H fd://`) is found the same way: it is among dockerd's
//! files whatever its command line says. Only a match is then judged by its user: the system
//! daemon's dockerd runs as root, outside RootlessKit, and its socket belongs to root; a
//! rootless one runs as its user, who owns the socket.

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::daemons::{Daemon, DockerdProcess, ROOTLESSKIT_ENV, dockerd_processes};
use crate::error::Result;
use crate::rootfs::RootFs;

/// `__SO_ACCEPTCON` in the Flags column of /proc/net/unix: the socket listens.
const ACCEPTING: u32 = 0x10000;

/// Who serves the socket, as far as the daemon is concerned.
#[derive(Debug)]
pub(crate) enum Served {
    /// This dockerd serves it and runs as the daemon's user.
    By(DockerdProcess),
    /// No dockerd of the daemon serves it; why, for people.
    Nobody(String),
}

/// The file a path names: device and inode tell one file from every other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

/// The dockerd of `daemon` that serves `socket` (a host path), from the root's /proc.
pub(crate) fn dockerd_serving(rootfs: &RootFs, daemon: &Daemon, socket: &Path) -> Result<Served> {
    let shown = socket.display();
    let Some(meta) = metadata_in(rootfs.root(), socket) else {
        return Ok(Served::Nobody(format!(
            "no dockerd serves {shown}: nothing is there"
        )));
    };
    if !meta.file_type().is_socket() {
        return Ok(Served::Nobody(format!(
            "no dockerd serves {shown}: it is not a socket"
        )));
    }
    let (owner, whose) = match daemon {
        Daemon::System => (0, "root".to_string()),
        Daemon::Rootless(u) => (u.uid, format!("{} (uid {})", u.name, u.uid)),
    };
    // A socket file belongs to whoever bound it (or to the socket unit's SocketUser, root):
    // one the daemon's user does not own was not made for its dockerd, whoever listens on it
    // now. Nobody but root can hand a file to root.
    if meta.uid() != owner {
        return Ok(Served::Nobody(format!(
            "{shown} belongs to uid {}, not {whose}: it is not the socket of {}",
            meta.uid(),
            daemon.describe()
        )));
    }
    let target = FileId {
        dev: meta.dev(),
        ino: meta.ino(),
    };
    let processes = dockerd_processes(rootfs)?;
    let (serving, elsewhere): (Vec<DockerdProcess>, Vec<DockerdProcess>) = processes
        .into_iter()
        .partition(|p| serves(rootfs, p.pid, target));
    let (ours, strangers): (Vec<DockerdProcess>, Vec<DockerdProcess>) =
        serving.into_iter().partition(|p| belongs(daemon, p));
    if let Some(stranger) = strangers.first()
        && ours.is_empty()
    {
        return Ok(Served::Nobody(format!(
            "{shown} is served by a process named dockerd (pid {}) running {}, not as {whose}: it is not {}",
            stranger.pid,
            running_as(stranger),
            daemon.describe()
        )));
    }
    // Two dockerds can hold a listening socket bound at the same name when one removed the
    // other's file and bound its own (a second daemon with another pid file): the name now
    // reaches the one that bound last, which started last.
    let latest = ours
        .into_iter()
        .max_by_key(|p| (start_ticks(rootfs, p.pid), p.pid));
    Ok(match latest {
        Some(p) => Served::By(p),
        None if elsewhere.is_empty() => Served::Nobody(format!("no dockerd serves {shown}")),
        None => Served::Nobody(format!(
            "no dockerd serves {shown} (dockerd {} {} other sockets)",
            pids(&elsewhere),
            if elsewhere.len() == 1 {
                "serves"
            } else {
                "serve"
            }
        )),
    })
}

/// "pid 12", "pids 12, 34".
fn pids(processes: &[DockerdProcess]) -> String {
    let list: Vec<String> = processes.iter().map(|p| p.pid.to_string()).collect();
    let noun = if list.len() == 1 { "pid" } else { "pids" };
    format!("{noun} {}", list.join(", "))
}

/// "as uid 1000", "as uid 1000 (effective 0)", "under RootlessKit as uid 0".
fn running_as(p: &DockerdProcess) -> String {
    let under = if p.env.contains_key(ROOTLESSKIT_ENV) {
        "under RootlessKit "
    } else {
        ""
    };
    let effective = if p.euid != p.uid {
        format!(" (effective {})", p.euid)
    } else {
        String::new()
    };
    format!("{under}as uid {}{effective}", p.uid)
}

/// A dockerd the daemon can be judged by: the system daemon's runs as root outside
/// RootlessKit; a rootless daemon's, as its user under RootlessKit.
fn belongs(daemon: &Daemon, p: &DockerdProcess) -> bool {
    match daemon {
        Daemon::System => !p.rootless && p.uid == 0 && p.euid == 0,
        Daemon::Rootless(u) => p.rootless && p.uid == u.uid && p.euid == u.uid,
    }
}

/// Whether process `pid` holds a listening socket bound at the file `target`. Any entry that
/// vanished or cannot be read (the process exited while we looked) means no.
fn serves(rootfs: &RootFs, pid: u32, target: FileId) -> bool {
    let base = Path::new("/proc").join(pid.to_string());
    let Ok(table) = std::fs::read_to_string(rootfs.real(&base.join("net/unix"))) else {
        return false;
    };
    let listening = listening_sockets(&table);
    let Ok(fds) = std::fs::read_dir(rootfs.real(&base.join("fd"))) else {
        return false;
    };
    let process_root = rootfs.real(&base.join("root"));
    for fd in fds.flatten() {
        let Ok(link) = std::fs::read_link(fd.path()) else {
            continue;
        };
        let Some(inode) = socket_inode(&link) else {
            continue;
        };
        let Some(path) = listening.get(&inode) else {
            continue;
        };
        // A relative name was bound from the process's working directory.
        let found = if path.is_absolute() {
            metadata_in(&process_root, path)
        } else {
            std::fs::metadata(rootfs.real(&base.join("cwd")).join(path)).ok()
        };
        if found.is_some_and(|m| m.dev() == target.dev && m.ino() == target.ino) {
            return true;
        }
    }
    false
}

/// `socket:[12345]` → 12345.
fn socket_inode(link: &Path) -> Option<u64> {
    link.to_str()?
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The listening sockets bound at a path in a /proc/net/unix table, by inode. The kernel
/// prints a bound name as it is, newlines included, so a name can forge a line: an inode listed
/// twice is dropped, and the socket it names is not taken to be bound anywhere.
fn listening_sockets(table: &str) -> BTreeMap<u64, PathBuf> {
    let mut found: BTreeMap<u64, Option<PathBuf>> = BTreeMap::new();
    for line in table.lines().skip(1) {
        let Some((inode, listens, path)) = unix_line(line) else {
            continue;
        };
        let bound =
            (listens && !path.is_empty() && !path.starts_with('@')).then(|| PathBuf::from(path));
        match found.entry(inode) {
            std::collections::btree_map::Entry::Occupied(mut seen) => {
                seen.insert(None);
            }
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(bound);
            }
        }
    }
    found
        .into_iter()
        .filter_map(|(inode, path)| Some((inode, path?)))
        .collect()
}

/// One line of /proc/net/unix, as the kernel prints it (`%pK: %08X %08X %08X %04X %02X %5lu`,
/// then a space and the name when the socket has one): its inode, whether it listens, and the
/// name ("" for none; an abstract name starts with '@').
fn unix_line(line: &str) -> Option<(u64, bool, &str)> {
    let mut rest = line;
    let mut field = || {
        rest = rest.trim_start_matches(' ');
        let end = rest.find(' ').unwrap_or(rest.len());
        let (f, tail) = rest.split_at(end);
        rest = tail;
        Some(f).filter(|f| !f.is_empty())
    };
    let (num, _refs, _proto, flags, _type, _state, inode) = (
        field()?,
        field()?,
        field()?,
        field()?,
        field()?,
        field()?,
        field()?,
    );
    if !num.ends_with(':') {
        return None;
    }
    let flags = u32::from_str_radix(flags, 16).ok()?;
    let inode = inode.parse().ok()?;
    Some((
        inode,
        flags & ACCEPTING != 0,
        rest.strip_prefix(' ').unwrap_or(rest),
    ))
}

/// Metadata of `path` resolved with `root` as its root: absolute symlinks on the way stay
/// inside it, as they do for a process whose root it is (the kernel alone would take them from
/// ours when walking /proc/PID/root). `None` when there is nothing there.
fn metadata_in(root: &Path, path: &Path) -> Option<std::fs::Metadata> {
    use nix::fcntl::{OFlag, OpenHow, ResolveFlag, open, openat2};
    use nix::sys::stat::Mode;
    let relative = path.strip_prefix("/").unwrap_or(path);
    let dir = open(
        root,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    match openat2(&dir, relative, how) {
        Ok(fd) => std::fs::File::from(fd).metadata().ok(),
        // Kernels before 5.6 lack openat2, and some seccomp profiles refuse it: the plain
        // walk is right whenever no absolute symlink is on the way.
        Err(nix::errno::Errno::ENOSYS | nix::errno::Errno::EPERM) => {
            std::fs::metadata(root.join(relative)).ok()
        }
        Err(_) => None,
    }
}

/// When the process started, in clock ticks since boot (field 22 of /proc/PID/stat); 0 when
/// it cannot be read.
fn start_ticks(rootfs: &RootFs, pid: u32) -> u64 {
    std::fs::read_to_string(rootfs.real(Path::new(&format!("/proc/{pid}/stat"))))
        .ok()
        .and_then(|stat| {
            // The command name (field 2) may hold spaces and parentheses.
            let after_comm = &stat[stat.rfind(')')? + 1..];
            after_comm.split_whitespace().nth(19)?.parse().ok()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemons::RootlessUser;
    use std::os::unix::fs::symlink;

    /// A fake host: files under a temporary root, real sockets where a test binds one.
    struct Fixture {
        dir: tempfile::TempDir,
    }

    impl Fixture {
        fn new() -> Fixture {
            Fixture {
                dir: tempfile::tempdir().unwrap(),
            }
        }

        fn path(&self, host_path: &str) -> PathBuf {
            self.dir.path().join(host_path.trim_start_matches('/'))
        }

        fn write(&self, host_path: &str, bytes: &[u8]) {
            let p = self.path(host_path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }

        fn link(&self, host_path: &str, target: &str) {
            let p = self.path(host_path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            symlink(target, p).unwrap();
        }

        /// A Unix socket file at `host_path`, as a bind leaves it.
        fn socket(&self, host_path: &str) {
            let p = self.path(host_path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            drop(std::os::unix::net::UnixListener::bind(p).unwrap());
        }

        /// A process named dockerd running as `uid`, started at `ticks`, holding the socket
        /// `inode` that its network namespace lists at `bound`; its root is the fixture's.
        fn dockerd(&self, pid: u32, uid: u32, ticks: u64, inode: u64, bound: &str) {
            let base = format!("/proc/{pid}");
            self.write(&format!("{base}/comm"), b"dockerd\n");
            self.write(
                &format!("{base}/status"),
                format!("Name:\tdockerd\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t0\t0\t0\t0\n")
                    .as_bytes(),
            );
            self.write(
                &format!("{base}/stat"),
                format!(
                    "{pid} (dockerd) S 1 {pid} {pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 24 0 \
                     {ticks} 0 0\n"
                )
                .as_bytes(),
            );
            self.write(&format!("{base}/environ"), b"PATH=/usr/bin\0");
            self.write(
                &format!("{base}/net/unix"),
                format!(
                    "Num       RefCount Protocol Flags    Type St Inode Path\n\
                     0000000000000000: 00000002 00000000 00000000 0001 03 9 \n\
                     0000000000000000: 00000002 00000000 00010000 0001 01 {inode} {bound}\n"
                )
                .as_bytes(),
            );
            self.link(&format!("{base}/fd/0"), "/dev/null");
            self.link(&format!("{base}/fd/3"), "pipe:[7]");
            self.link(&format!("{base}/fd/4"), &format!("socket:[{inode}]"));
            self.link(&format!("{base}/root"), "../..");
        }

        fn rootfs(&self) -> RootFs {
            RootFs::new(self.dir.path()).unwrap()
        }

        fn served(&self, daemon: &Daemon, socket: &str) -> Served {
            dockerd_serving(&self.rootfs(), daemon, Path::new(socket)).unwrap()
        }
    }

    fn pid_of(served: Served) -> u32 {
        match served {
            Served::By(p) => p.pid,
            Served::Nobody(why) => panic!("nobody serves it: {why}"),
        }
    }

    fn why(served: Served) -> String {
        match served {
            Served::By(p) => panic!("pid {} was taken to serve it", p.pid),
            Served::Nobody(why) => why,
        }
    }

    #[test]
    fn the_dockerd_holding_the_socket_is_chosen_not_the_first_in_proc() {
        let f = Fixture::new();
        f.socket("/run/ci.sock");
        f.socket("/run/docker.sock");
        // /var/run is the usual link to /run: the name a dockerd bound and the name asked may
        // differ and still be one file.
        f.link("/var/run", "/run");
        f.dockerd(100, 0, 500, 41, "/run/ci.sock");
        f.dockerd(200, 0, 900, 42, "/var/run/docker.sock");
        assert_eq!(
            pid_of(f.served(&Daemon::System, "/var/run/docker.sock")),
            200
        );
        assert_eq!(pid_of(f.served(&Daemon::System, "/run/ci.sock")), 100);
        assert_eq!(
            why(f.served(&Daemon::System, "/run/none.sock")),
            "no dockerd serves /run/none.sock: nothing is there"
        );
        f.socket("/run/idle.sock");
        assert_eq!(
            why(f.served(&Daemon::System, "/run/idle.sock")),
            "no dockerd serves /run/idle.sock (dockerd pids 100, 200 serve other sockets)"
        );
    }

    #[test]
    fn a_socket_passed_by_systemd_is_found_among_the_files() {
        // `dockerd -H fd://`: nothing on the command line names the socket; systemd bound it
        // and dockerd holds it.
        let f = Fixture::new();
        f.socket("/run/docker.sock");
        f.dockerd(300, 0, 10, 77, "/run/docker.sock");
        f.write("/proc/300/cmdline", b"/usr/sbin/dockerd\0-H\0fd://\0");
        assert_eq!(pid_of(f.served(&Daemon::System, "/run/docker.sock")), 300);
    }

    #[test]
    fn a_dockerd_that_does_not_hold_the_listed_socket_does_not_serve_it() {
        let f = Fixture::new();
        f.socket("/run/docker.sock");
        f.dockerd(100, 0, 10, 41, "/run/docker.sock");
        // Its table lists the socket, but the file it holds is another one.
        std::fs::remove_file(f.path("/proc/100/fd/4")).unwrap();
        f.link("/proc/100/fd/4", "socket:[40]");
        assert!(why(f.served(&Daemon::System, "/run/docker.sock")).contains("pid 100"));
    }

    #[test]
    fn a_process_named_dockerd_that_is_not_root_is_never_the_system_daemon() {
        let f = Fixture::new();
        // Root's socket, held by a process of uid 1000 named dockerd (it inherited the
        // listening socket).
        f.socket("/run/docker.sock");
        f.dockerd(100, 1000, 10, 41, "/run/docker.sock");
        assert_eq!(
            why(f.served(&Daemon::System, "/run/docker.sock")),
            "/run/docker.sock is served by a process named dockerd (pid 100) running as uid \
             1000, not as root: it is not the system daemon"
        );
        // Set-user-ID root does not make it root's either.
        f.write(
            "/proc/100/status",
            b"Name:\tdockerd\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n",
        );
        assert!(why(f.served(&Daemon::System, "/run/docker.sock")).contains("pid 100"));
        // Root's dockerd under RootlessKit's variable is not the system daemon.
        f.write(
            "/proc/100/status",
            b"Name:\tdockerd\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n",
        );
        f.write("/proc/100/environ", b"ROOTLESSKIT_STATE_DIR=/x\0");
        assert!(why(f.served(&Daemon::System, "/run/docker.sock")).contains("pid 100"));
    }

    #[test]
    fn a_socket_root_does_not_own_is_not_the_system_daemons() {
        let f = Fixture::new();
        f.socket("/tmp/evil.sock");
        std::os::unix::fs::chown(f.path("/tmp/evil.sock"), Some(1000), Some(1000)).unwrap();
        f.dockerd(100, 0, 10, 41, "/tmp/evil.sock");
        assert_eq!(
            why(f.served(&Daemon::System, "/tmp/evil.sock")),
            "/tmp/evil.sock belongs to uid 1000, not root: it is not the socket of the system \
             daemon"
        );
        f.write("/tmp/file", b"");
        assert!(why(f.served(&Daemon::System, "/tmp/file")).ends_with("it is not a socket"));
    }

    #[test]
    fn a_rootless_daemon_is_its_users_dockerd_on_its_users_socket() {
        let f = Fixture::new();
        f.socket("/run/user/1000/docker.sock");
        std::os::unix::fs::chown(f.path("/run/user/1000/docker.sock"), Some(1000), None).unwrap();
        f.dockerd(100, 1000, 10, 41, "/run/user/1000/docker.sock");
        f.write(
            "/proc/100/environ",
            b"ROOTLESSKIT_STATE_DIR=/run/user/1000/dockerd-rootless\0",
        );
        let ann = |uid| {
            Daemon::Rootless(RootlessUser {
                name: "ann".into(),
                uid,
                gid: uid,
                home: "/home/ann".into(),
                config_home: "/home/ann/.config".into(),
                data_home: "/home/ann/.local/share".into(),
                runtime_dir: "/run/user/1000".into(),
                pid: None,
            })
        };
        assert_eq!(
            pid_of(f.served(&ann(1000), "/run/user/1000/docker.sock")),
            100
        );
        assert!(why(f.served(&ann(1001), "/run/user/1000/docker.sock")).contains("uid 1000"));
    }

    #[test]
    fn a_dockerd_in_another_mount_namespace_binding_the_same_name_is_told_apart() {
        // Docker-in-docker on the host's network: the inner dockerd bound /run/docker.sock in
        // its own root, where that name is another file.
        let f = Fixture::new();
        f.socket("/run/docker.sock");
        f.socket("/containers/inner/run/docker.sock");
        f.dockerd(100, 0, 10, 41, "/run/docker.sock");
        f.dockerd(200, 0, 90, 42, "/run/docker.sock");
        std::fs::remove_file(f.path("/proc/200/root")).unwrap();
        f.link("/proc/200/root", "../../containers/inner");
        // Its absolute links resolve inside its root, not ours.
        std::fs::rename(
            f.path("/containers/inner/run"),
            f.path("/containers/inner/real-run"),
        )
        .unwrap();
        f.link("/containers/inner/run", "/real-run");
        assert_eq!(pid_of(f.served(&Daemon::System, "/run/docker.sock")), 100);
        // Asked at the inner socket's file as the host sees it (a RootlessKit daemon's
        // socket seen through its copied-up /run is the same case), the inner one serves it.
        assert_eq!(
            pid_of(f.served(&Daemon::System, "/containers/inner/real-run/docker.sock")),
            200
        );
        std::fs::remove_file(f.path("/proc/100/fd/4")).unwrap();
        assert_eq!(
            why(f.served(&Daemon::System, "/run/docker.sock")),
            "no dockerd serves /run/docker.sock (dockerd pids 100, 200 serve other sockets)"
        );
    }

    #[test]
    fn of_two_dockerds_bound_at_one_name_the_later_one_serves_it() {
        let f = Fixture::new();
        f.socket("/run/docker.sock");
        f.dockerd(100, 0, 900, 41, "/run/docker.sock");
        f.dockerd(200, 0, 500, 42, "/run/docker.sock");
        assert_eq!(pid_of(f.served(&Daemon::System, "/run/docker.sock")), 100);
    }

    #[test]
    fn vanished_and_garbled_entries_are_skipped() {
        let f = Fixture::new();
        f.socket("/run/docker.sock");
        // Exited between the listing and the reads: a name, nothing else.
        f.write("/proc/50/comm", b"dockerd\n");
        // Its status is gone: never taken for root's.
        f.dockerd(60, 0, 10, 41, "/run/docker.sock");
        std::fs::remove_file(f.path("/proc/60/status")).unwrap();
        // Its fd directory is gone.
        f.dockerd(70, 0, 10, 41, "/run/docker.sock");
        std::fs::remove_dir_all(f.path("/proc/70/fd")).unwrap();
        f.dockerd(80, 0, 10, 43, "/run/docker.sock");
        f.write(
            "/proc/80/net/unix",
            b"garbage\n\n: : : zz 1 01 x /run/docker.sock\n",
        );
        f.dockerd(90, 0, 10, 44, "/run/docker.sock");
        assert_eq!(pid_of(f.served(&Daemon::System, "/run/docker.sock")), 90);
    }

    #[test]
    fn a_bound_name_that_forges_a_line_claims_nothing() {
        // A name with a newline makes the table show a second line for someone else's inode.
        let table = "Num       RefCount Protocol Flags    Type St Inode Path\n\
             0000000000000000: 00000002 00000000 00010000 0001 01 41 /tmp/x\n\
             0000000000000000: 00000002 00000000 00010000 0001 01 42 /run/docker.sock\n\
             0000000000000000: 00000002 00000000 00010000 0001 01 42 /tmp/real.sock\n\
             0000000000000000: 00000002 00000000 00010000 0001 01 43 @abstract\n\
             0000000000000000: 00000003 00000000 00000000 0001 03 44 /run/connected.sock\n\
             0000000000000000: 00000002 00000000 00010000 0001 01 45 /run/spaced name.sock\n";
        let found = listening_sockets(table);
        assert_eq!(
            found,
            BTreeMap::from([
                (41, PathBuf::from("/tmp/x")),
                (45, PathBuf::from("/run/spaced name.sock")),
            ])
        );
    }
}
