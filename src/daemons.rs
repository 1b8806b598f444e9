//! Which Docker daemons a host has, and where each keeps its files. The system daemon reads
//! /etc/docker and listens on /var/run/docker.sock; a rootless daemon (one per user, run by
//! RootlessKit from a systemd user unit) keeps everything under the user's XDG directories.
//! Both kinds can run side by side, so each is judged against its own paths.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::rootfs::RootFs;
use crate::vocabulary::paths::{
    DEFAULT_CONFIG_FILE, DEFAULT_DATA_ROOT, DEFAULT_SOCKET, FLAGS_DROPIN, UNIT_DIRS,
};

/// The variable dockerd itself tests to know it runs under RootlessKit (moby's
/// `RunningWithRootlessKit`): a dockerd with it in its environment is a rootless daemon.
pub(crate) const ROOTLESSKIT_ENV: &str = "ROOTLESSKIT_STATE_DIR";

/// systemd's search path for user units below the user's own directory, highest first.
const USER_UNIT_DIRS: &[&str] = &[
    "/etc/systemd/user",
    "/run/systemd/user",
    "/usr/local/lib/systemd/user",
    "/usr/lib/systemd/user",
    "/lib/systemd/user",
];

/// A user who runs (or has set up) a rootless daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootlessUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
    /// $XDG_CONFIG_HOME (default ~/.config): docker/daemon.json and systemd/user live here.
    pub config_home: PathBuf,
    /// $XDG_DATA_HOME (default ~/.local/share): the data root is docker/ under it.
    pub data_home: PathBuf,
    /// $XDG_RUNTIME_DIR (default /run/user/UID): the API socket and the exec root.
    pub runtime_dir: PathBuf,
    /// The running rootless dockerd, if any.
    pub pid: Option<u32>,
}

/// One Docker daemon of the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Daemon {
    /// The rootful daemon of /etc/docker and docker.service.
    System,
    Rootless(RootlessUser),
}

impl Daemon {
    /// Stable name for selectors, reports and run records: `system` or `rootless:USER`.
    pub(crate) fn key(&self) -> String {
        match self {
            Daemon::System => "system".into(),
            Daemon::Rootless(u) => format!("rootless:{}", u.name),
        }
    }

    /// For people: "the system daemon", "the rootless daemon of alice (uid 1000)".
    pub(crate) fn describe(&self) -> String {
        match self {
            Daemon::System => "the system daemon".into(),
            Daemon::Rootless(u) => format!("the rootless daemon of {} (uid {})", u.name, u.uid),
        }
    }

    pub(crate) fn rootless(&self) -> Option<&RootlessUser> {
        match self {
            Daemon::System => None,
            Daemon::Rootless(u) => Some(u),
        }
    }

    pub(crate) fn config_dir(&self) -> PathBuf {
        match self {
            Daemon::System => PathBuf::from("/etc/docker"),
            Daemon::Rootless(u) => u.config_home.join("docker"),
        }
    }

    pub(crate) fn default_config_file(&self) -> PathBuf {
        match self {
            Daemon::System => PathBuf::from(DEFAULT_CONFIG_FILE),
            Daemon::Rootless(_) => self.config_dir().join("daemon.json"),
        }
    }

    pub(crate) fn default_data_root(&self) -> PathBuf {
        match self {
            Daemon::System => PathBuf::from(DEFAULT_DATA_ROOT),
            Daemon::Rootless(u) => u.data_home.join("docker"),
        }
    }

    pub(crate) fn default_socket(&self) -> PathBuf {
        match self {
            Daemon::System => PathBuf::from(DEFAULT_SOCKET),
            Daemon::Rootless(u) => u.runtime_dir.join("docker.sock"),
        }
    }

    /// Where containerd keeps its state and socket: the system containerd's /run/containerd,
    /// or the containerd a rootless dockerd starts under its exec root.
    pub(crate) fn containerd_run_dir(&self) -> PathBuf {
        match self {
            Daemon::System => PathBuf::from("/run/containerd"),
            Daemon::Rootless(u) => u.runtime_dir.join("docker/containerd"),
        }
    }

    pub(crate) fn containerd_socket(&self) -> PathBuf {
        self.containerd_run_dir().join("containerd.sock")
    }

    /// Registry certificates (moby's `CertsDir()`).
    pub(crate) fn certs_dir(&self) -> PathBuf {
        self.config_dir().join("certs.d")
    }

    /// Where systemd looks for the daemon's unit, highest priority first.
    pub(crate) fn unit_dirs(&self) -> Vec<PathBuf> {
        match self {
            Daemon::System => UNIT_DIRS.iter().map(PathBuf::from).collect(),
            Daemon::Rootless(u) => {
                let mut dirs = vec![u.config_home.join("systemd/user")];
                dirs.extend(USER_UNIT_DIRS.iter().map(PathBuf::from));
                dirs
            }
        }
    }

    /// Where docker-harden puts its ExecStart drop-in for the daemon's unit.
    pub(crate) fn flags_dropin(&self) -> PathBuf {
        match self {
            Daemon::System => PathBuf::from(FLAGS_DROPIN),
            Daemon::Rootless(u) => u
                .config_home
                .join("systemd/user/docker.service.d/zz-docker-harden.conf"),
        }
    }

    /// The address the engine seam is asked at for the daemon listening on `socket`: the bare
    /// path for the system daemon (so --docker-host can replace it), a `unix://` address for a
    /// rootless one, which only its own socket reaches.
    pub(crate) fn api_address(&self, socket: &Path) -> String {
        match self {
            Daemon::System => socket.display().to_string(),
            Daemon::Rootless(_) => format!("unix://{}", socket.display()),
        }
    }

    /// The command that reaches the manager running the daemon's unit, before the verb:
    /// `systemctl` for the system's; for a rootless daemon, systemctl run as the user against
    /// the user's own manager (its private socket in $XDG_RUNTIME_DIR, there while the manager
    /// runs, which lingering keeps), which needs neither a login session nor a user bus.
    pub(crate) fn systemctl(&self) -> Vec<String> {
        match self {
            Daemon::System => vec!["systemctl".into()],
            Daemon::Rootless(u) => vec![
                "runuser".into(),
                "-u".into(),
                u.name.clone(),
                "--".into(),
                "env".into(),
                format!("XDG_RUNTIME_DIR={}", u.runtime_dir.display()),
                "systemctl".into(),
                "--user".into(),
            ],
        }
    }

    /// Who owns the files the daemon reads: the user for a rootless daemon, who must be able
    /// to read and write them (the playbook's owner for the system daemon).
    pub(crate) fn file_owner(&self) -> Option<(u32, u32)> {
        self.rootless().map(|u| (u.uid, u.gid))
    }
}

/// A process named dockerd: its uid as the initial namespace sees it and, for a rootless one,
/// the XDG variables it was started with. Anyone can name a process dockerd: which daemon, if
/// any, it is, only the socket it serves tells (`facts::serving`).
#[derive(Debug, Clone)]
pub(crate) struct DockerdProcess {
    pub pid: u32,
    /// The real user ID.
    pub uid: u32,
    /// The effective user ID (a set-user-ID program differs).
    pub euid: u32,
    pub gid: u32,
    pub rootless: bool,
    pub env: BTreeMap<String, String>,
}

/// Every dockerd under the root's /proc.
pub(crate) fn dockerd_processes(rootfs: &RootFs) -> Result<Vec<DockerdProcess>> {
    let proc_dir = Path::new("/proc");
    let mut pids: Vec<u32> = rootfs
        .list_dir(proc_dir)?
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect();
    pids.sort_unstable();
    let mut found = Vec::new();
    for pid in pids {
        let base = proc_dir.join(pid.to_string());
        // Processes can exit while we look; a vanished entry is simply skipped.
        let comm = std::fs::read_to_string(rootfs.real(&base.join("comm"))).unwrap_or_default();
        if comm.trim() != "dockerd" {
            continue;
        }
        let status = std::fs::read_to_string(rootfs.real(&base.join("status"))).unwrap_or_default();
        // The IDs come in four (real, effective, saved, filesystem).
        let ids = |field: &str| -> Vec<u32> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(field))
                .map(|v| v.split_whitespace().map_while(|n| n.parse().ok()).collect())
                .unwrap_or_default()
        };
        let (uids, gids) = (ids("Uid:"), ids("Gid:"));
        // A process that exited since its name was read has no status: skip it rather than
        // take a missing user ID for root's.
        let [uid, euid, ..] = uids[..] else {
            continue;
        };
        let gid = gids.first().copied().unwrap_or(0);
        let env: BTreeMap<String, String> = std::fs::read(rootfs.real(&base.join("environ")))
            .unwrap_or_default()
            .split(|b| *b == 0)
            .filter_map(|kv| {
                let kv = String::from_utf8_lossy(kv);
                let (k, v) = kv.split_once('=')?;
                Some((k.to_string(), v.to_string()))
            })
            .collect();
        let rootless = env.contains_key(ROOTLESSKIT_ENV) || uid != 0;
        found.push(DockerdProcess {
            pid,
            uid,
            euid,
            gid,
            rootless,
            env,
        });
    }
    Ok(found)
}

/// The daemons of the host: the system daemon when it runs or is installed as a service (or
/// when nothing else is found, so a bare host is still judged), then one rootless daemon per
/// user who runs one or has set one up (socket in the runtime dir, user unit, or user
/// daemon.json), in uid order.
pub(crate) fn discover(rootfs: &RootFs, live: bool) -> Result<Vec<Daemon>> {
    let processes = if live {
        dockerd_processes(rootfs)?
    } else {
        Vec::new()
    };
    let mut rootless = Vec::new();
    for entry in crate::accounts::read_passwd(rootfs)? {
        // Root has no rootless daemon; an account without an absolute home has no XDG paths.
        if entry.uid == 0 || !entry.home.is_absolute() {
            continue;
        }
        let process = processes.iter().find(|p| p.rootless && p.uid == entry.uid);
        let var = |name: &str| {
            process
                .and_then(|p| p.env.get(name))
                .filter(|v| v.starts_with('/'))
                .map(PathBuf::from)
        };
        // The running daemon's HOME wins: it is where dockerd-rootless.sh looked.
        let home = var("HOME").unwrap_or(entry.home);
        let user = RootlessUser {
            config_home: var("XDG_CONFIG_HOME").unwrap_or_else(|| home.join(".config")),
            data_home: var("XDG_DATA_HOME").unwrap_or_else(|| home.join(".local/share")),
            runtime_dir: var("XDG_RUNTIME_DIR")
                .unwrap_or_else(|| PathBuf::from(format!("/run/user/{}", entry.uid))),
            name: entry.name,
            uid: entry.uid,
            gid: entry.gid,
            home,
            pid: process.map(|p| p.pid),
        };
        let set_up = [
            user.runtime_dir.join("docker.sock"),
            user.config_home.join("systemd/user/docker.service"),
            user.config_home.join("docker/daemon.json"),
        ];
        let mut present = process.is_some();
        for path in &set_up {
            present = present || rootfs.metadata(path)?.is_some();
        }
        if present {
            rootless.push(Daemon::Rootless(user));
        }
    }
    // A rootless dockerd of a user /etc/passwd does not list (a directory-service account):
    // its environment still says where its home and runtime directory are.
    for p in processes.iter().filter(|p| p.rootless) {
        if rootless
            .iter()
            .any(|d| matches!(d, Daemon::Rootless(u) if u.uid == p.uid))
        {
            continue;
        }
        let Some(home) = p
            .env
            .get("HOME")
            .filter(|h| h.starts_with('/'))
            .map(PathBuf::from)
        else {
            continue;
        };
        let var = |name: &str| {
            p.env
                .get(name)
                .filter(|v| v.starts_with('/'))
                .map(PathBuf::from)
        };
        rootless.push(Daemon::Rootless(RootlessUser {
            name: p
                .env
                .get("USER")
                .cloned()
                .unwrap_or_else(|| p.uid.to_string()),
            uid: p.uid,
            gid: p.gid,
            config_home: var("XDG_CONFIG_HOME").unwrap_or_else(|| home.join(".config")),
            data_home: var("XDG_DATA_HOME").unwrap_or_else(|| home.join(".local/share")),
            runtime_dir: var("XDG_RUNTIME_DIR")
                .unwrap_or_else(|| PathBuf::from(format!("/run/user/{}", p.uid))),
            home,
            pid: Some(p.pid),
        }));
    }
    let rootful_running = processes.iter().any(|p| !p.rootless);
    let mut system_installed = rootfs.metadata(Path::new(DEFAULT_CONFIG_FILE))?.is_some();
    for dir in UNIT_DIRS {
        system_installed = system_installed
            || rootfs
                .metadata(&Path::new(dir).join("docker.service"))?
                .is_some();
    }
    let mut daemons = Vec::new();
    if rootful_running || system_installed || rootless.is_empty() {
        daemons.push(Daemon::System);
    }
    daemons.extend(rootless);
    Ok(daemons)
}

/// The daemons a command works on: all of them, or the one `--daemon KEY` names.
pub(crate) fn select(all: Vec<Daemon>, key: Option<&str>) -> Result<Vec<Daemon>> {
    let Some(key) = key else { return Ok(all) };
    let known: Vec<String> = all.iter().map(Daemon::key).collect();
    match all.into_iter().find(|d| d.key() == key) {
        Some(d) => Ok(vec![d]),
        None => Err(Error::Selector(format!(
            "--daemon {key}: no such daemon on this host (found: {})",
            known.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, bytes: &[u8]) {
        let p = root.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    fn dockerd(root: &Path, pid: u32, uid: u32, env: &[u8]) {
        write(root, &format!("/proc/{pid}/comm"), b"dockerd\n");
        write(
            root,
            &format!("/proc/{pid}/status"),
            format!("Name:\tdockerd\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{uid}\t{uid}\t{uid}\t{uid}\n")
                .as_bytes(),
        );
        write(root, &format!("/proc/{pid}/environ"), env);
    }

    #[test]
    fn processes_decide_rootful_and_rootless() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "/etc/passwd",
            b"root:x:0:0:root:/root:/bin/bash\nann:x:1000:1000::/home/ann:/bin/sh\n",
        );
        dockerd(root, 10, 0, b"PATH=/usr/bin\0");
        // Listed in /etc/passwd, with her own XDG_RUNTIME_DIR.
        dockerd(
            root,
            20,
            1000,
            b"ROOTLESSKIT_STATE_DIR=/x\0XDG_RUNTIME_DIR=/tmp/ann-run\0",
        );
        // A directory-service account: only its environment says where it lives.
        dockerd(
            root,
            30,
            5000,
            b"ROOTLESSKIT_STATE_DIR=/y\0HOME=/srv/home/ldap\0USER=ldap\0",
        );
        let rootfs = RootFs::new(root).unwrap();
        let found = discover(&rootfs, true).unwrap();
        let keys: Vec<String> = found.iter().map(Daemon::key).collect();
        assert_eq!(keys, ["system", "rootless:ann", "rootless:ldap"]);
        let ann = found[1].rootless().unwrap();
        assert_eq!(ann.pid, Some(20));
        assert_eq!(
            found[1].default_socket(),
            Path::new("/tmp/ann-run/docker.sock")
        );
        assert_eq!(
            found[1].default_config_file(),
            Path::new("/home/ann/.config/docker/daemon.json")
        );
        let ldap = found[2].rootless().unwrap();
        assert_eq!((ldap.uid, ldap.gid), (5000, 5000));
        assert_eq!(
            found[2].default_data_root(),
            Path::new("/srv/home/ldap/.local/share/docker")
        );
        // Under --root no process is looked at: nothing on disk, only the system daemon.
        let offline = discover(&rootfs, false).unwrap();
        assert_eq!(offline, vec![Daemon::System]);
        // A selector for a daemon that is not there names the ones that are.
        let err = select(found, Some("rootless:bob")).unwrap_err().to_string();
        assert!(
            err.contains("found: system, rootless:ann, rootless:ldap"),
            "{err}"
        );
    }
}
