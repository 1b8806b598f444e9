//! A hostile root: symlinks planted in each path component docker-harden reads or writes (its
//! own state directory, the host's directories, a rootless user's directories), FIFOs and
//! devices where files belong, oversize files. Whatever the root holds, nothing outside it
//! changes: a sentinel directory beside the root, holding files by the names docker-harden
//! writes, is compared entry by entry (content, mode, owner) before and after every run.

use crate::common;

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Entry, Host, Run, changed, tree};

/// A directory outside the root for planted symlinks to point at.
struct Sentinel {
    dir: tempfile::TempDir,
}

impl Sentinel {
    fn new() -> Sentinel {
        let dir = tempfile::Builder::new()
            .prefix("dh-sentinel-")
            .tempdir()
            .unwrap();
        for (name, text) in [
            ("daemon.json", "{\"sentinel\": true}\n"),
            ("lock", "sentinel\n"),
            ("manifest.json", "{}\n"),
            ("50-docker-harden.rules", "# sentinel\n"),
            ("rsyslog.conf", "# sentinel\n"),
            ("zz-carol.sh", "# sentinel\n"),
        ] {
            fs::write(dir.path().join(name), text).unwrap();
            fs::set_permissions(dir.path().join(name), fs::Permissions::from_mode(0o600)).unwrap();
        }
        fs::create_dir(dir.path().join("backups")).unwrap();
        Sentinel { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn snapshot(&self) -> BTreeMap<String, Entry> {
        tree(self.path())
    }
}

/// Runs the binary and asserts the sentinel did not change.
fn run_guarded(host: &Host, sentinel: &Sentinel, args: &[&str]) -> Run {
    let before = sentinel.snapshot();
    let run = host.run(args);
    assert_eq!(
        changed(&before, &sentinel.snapshot()),
        Vec::<String>::new(),
        "{args:?} changed the sentinel outside the root\n{}\n{}",
        run.stdout,
        run.stderr
    );
    run
}

/// Exit 2 naming `message`, nothing changed inside the root (docker-harden's state aside).
fn refused(host: &Host, sentinel: &Sentinel, args: &[&str], message: &str) {
    let before = host.snapshot();
    run_guarded(host, sentinel, args)
        .code(2)
        .stderr_has(message);
    assert_eq!(
        changed(&before, &host.snapshot()),
        Vec::<String>::new(),
        "{args:?} wrote inside the root"
    );
}

const STATE: &str = "/var/lib/docker-harden";

#[test]
fn a_lock_symlinked_out_of_the_root_is_refused_and_the_target_untouched() {
    let sentinel = Sentinel::new();
    let target = sentinel.path().join("lock");
    for link in [
        target.display().to_string(),
        "../../../../../../../../../../../../../../../../..".to_string()
            + &target.display().to_string(),
    ] {
        let host = Host::debian12()
            .dir(STATE, 0o700)
            .symlink(&format!("{STATE}/lock"), &link);
        for args in [&["fix", "--yes"][..], &["rollback"]] {
            refused(
                &host,
                &sentinel,
                args,
                &format!("{STATE}/lock is a symlink"),
            );
        }
    }
}

#[test]
fn a_lock_that_is_a_fifo_is_refused_without_blocking() {
    let sentinel = Sentinel::new();
    let host = Host::debian12().dir(STATE, 0o700);
    nix::unistd::mkfifo(
        &host.path(&format!("{STATE}/lock")),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    refused(
        &host,
        &sentinel,
        &["fix", "--yes"],
        "lock: expected a regular file, found a FIFO",
    );
}

#[test]
fn a_state_dir_symlinked_to_another_roots_never_mixes_their_runs() {
    let sentinel = Sentinel::new();
    let first = Host::debian12();
    first.run(&["fix", "--yes", "--only", "2.2"]).code(0);
    let first_state = first.path(STATE);
    let first_tree = tree(first.root());
    for link in [
        first_state.display().to_string(),
        format!("../../../../../../../../../../..{}", first_state.display()),
    ] {
        let second = Host::debian12()
            .dir("/var/lib", 0o755)
            .symlink(STATE, &link);
        for args in [
            &["fix", "--yes", "--only", "2.2"][..],
            &["rollback"],
            &["rollback", "--force"],
            &["rollback", "--list"],
        ] {
            refused(&second, &sentinel, args, &format!("{STATE} is a symlink"));
        }
        assert_eq!(
            changed(&first_tree, &tree(first.root())),
            Vec::<String>::new()
        );
    }
}

#[test]
fn var_lib_is_resolved_inside_the_root_like_any_path() {
    let sentinel = Sentinel::new();
    // An image that keeps /var on its own volume: the state goes where the booted host has it.
    let host = Host::debian12().dir("/data/var", 0o755);
    fs::rename(host.path("/var/lib"), host.path("/data/var/lib")).unwrap();
    let host = host.symlink("/var/lib", "/data/var/lib");
    let before = host.snapshot();
    run_guarded(&host, &sentinel, &["fix", "--yes", "--only", "2.2"])
        .code(0)
        .stdout_has("originals saved in /data/var/lib/docker-harden/backups/");
    assert!(host.exists("/data/var/lib/docker-harden/lock"));
    run_guarded(&host, &sentinel, &["rollback"]).code(0);
    let mut after = host.snapshot();
    after.retain(|k, _| !k.starts_with("/data/var/lib/docker-harden"));
    assert_eq!(changed(&before, &after), Vec::<String>::new());

    // A relative link that climbs out of the root is refused, as for every path.
    let escaping = Host::debian12().remove("/var/lib").symlink(
        "/var/lib",
        &format!("../../../../../../../../..{}", sentinel.path().display()),
    );
    refused(
        &escaping,
        &sentinel,
        &["fix", "--yes", "--only", "2.2"],
        "leads out of the root",
    );
}

#[test]
fn a_state_dir_others_can_write_is_not_trusted() {
    let sentinel = Sentinel::new();
    for (mode, uid) in [(0o777, 0), (0o700, 1000)] {
        let host = Host::debian12().dir(STATE, mode).owner(STATE, uid, uid);
        refused(
            &host,
            &sentinel,
            &["fix", "--yes", "--only", "2.2"],
            "it must be owned by uid 0 and writable by no one else",
        );
    }
    // The backups directory the same.
    let host = Host::debian12();
    host.run(&["fix", "--yes", "--only", "2.2"]).code(0);
    let host = host.mode(&format!("{STATE}/backups"), 0o777);
    refused(
        &host,
        &sentinel,
        &["rollback"],
        "it must be owned by uid 0 and writable by no one else",
    );
}

/// Every directory between the root and `path`.
fn ancestors(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut p = Path::new(path).parent();
    while let Some(dir) = p {
        if dir != Path::new("/") {
            out.push(dir.display().to_string());
        }
        p = dir.parent();
    }
    out
}

/// Moves the root's `dir` into the sentinel and puts a symlink to it in its place; returns
/// the moved directory, for `unplant`.
fn plant(host: &Host, sentinel: &Sentinel, dir: &str, relative: bool) -> PathBuf {
    let moved = sentinel
        .path()
        .join(dir.trim_start_matches('/').replace('/', "_"));
    fs::rename(host.path(dir), &moved).unwrap();
    let target = if relative {
        let depth = host.path(dir).components().count();
        format!("{}{}", "../".repeat(depth), moved.display())
    } else {
        moved.display().to_string()
    };
    symlink(target, host.path(dir)).unwrap();
    moved
}

fn unplant(host: &Host, dir: &str, moved: &Path) {
    fs::remove_file(host.path(dir)).unwrap();
    fs::rename(moved, host.path(dir)).unwrap();
}

#[test]
fn rollback_never_follows_a_symlink_planted_in_any_component() {
    let host = Host::debian12();
    let before = host.snapshot();
    let fix = host.run(&["fix", "--yes"]);
    fix.code(1);
    let touched = changed(&before, &host.snapshot());
    let files: Vec<&String> = touched
        .iter()
        .filter(|p| before.get(*p).is_some_and(|e| e.kind == "file") || host.path(p).is_file())
        .collect();
    assert!(files.len() >= 3, "{touched:?}");
    let mut dirs: Vec<String> = files.iter().flat_map(|f| ancestors(f)).collect();
    dirs.sort();
    dirs.dedup();
    for dir in &dirs {
        for relative in [false, true] {
            let sentinel = Sentinel::new();
            let moved = plant(&host, &sentinel, dir, relative);
            // What was moved out is now outside the root: it must stay as the fix left it.
            let outside = sentinel.snapshot();
            for args in [&["rollback"][..], &["rollback", "--force"]] {
                let run = host.run(args);
                assert_eq!(
                    run.code, 2,
                    "{dir} {args:?}\n{}\n{}",
                    run.stdout, run.stderr
                );
                assert!(run.stderr.contains("is a symlink"), "{dir}: {}", run.stderr);
                assert_eq!(
                    changed(&outside, &sentinel.snapshot()),
                    Vec::<String>::new(),
                    "rollback {args:?} wrote through {dir}"
                );
            }
            unplant(&host, dir, &moved);
        }
    }
    // With the real directories back, the rollback is whole and byte for byte.
    host.run(&["rollback"]).code(0);
    assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());
}

#[test]
fn a_file_swapped_for_a_symlink_after_the_fix_is_never_written_through() {
    let sentinel = Sentinel::new();
    let host = Host::debian12();
    host.run(&["fix", "--yes", "--only", "2.2"]).code(0);
    fs::remove_file(host.path("/etc/docker/daemon.json")).unwrap();
    symlink(
        sentinel.path().join("daemon.json"),
        host.path("/etc/docker/daemon.json"),
    )
    .unwrap();
    for args in [&["rollback"][..], &["rollback", "--force"]] {
        run_guarded(&host, &sentinel, args)
            .code(2)
            .stderr_has("/etc/docker/daemon.json is a symlink");
    }
}

#[test]
fn an_absolute_symlink_to_outside_leads_inside_the_root_when_fixing() {
    // As on the booted image, an absolute link is taken inside the root: the fix writes
    // there, never where the link would lead on the machine running docker-harden. (A
    // directory swapped for a symlink while the plan waits: tests/suite/interactive.rs.)
    let sentinel = Sentinel::new();
    let host = Host::debian12()
        .dir("/etc/docker", 0o755)
        .file("/etc/docker/daemon.json", "{}\n");
    let copy = sentinel.path().join("etc_docker");
    fs::create_dir(&copy).unwrap();
    fs::write(copy.join("daemon.json"), "{}\n").unwrap();
    fs::remove_dir_all(host.path("/etc/docker")).unwrap();
    symlink(&copy, host.path("/etc/docker")).unwrap();
    // The absolute link leads inside the root, where nothing exists: the plan creates
    // /tmp/.../etc_docker inside the root, never the sentinel's.
    run_guarded(&host, &sentinel, &["fix", "--yes", "--only", "2.2"]);
    assert_eq!(
        fs::read_to_string(copy.join("daemon.json")).unwrap(),
        "{}\n"
    );
}

// ---------------------------------------------------------------------------------------------
// A rootless user's home (item 3): written as the user, so the kernel refuses what the user
// could not do.

const CAROL: u32 = 1003;
const CAROL_CONFIG: &str = "/home/carol/.config/docker";

/// Debian 12 with carol, who runs a rootless daemon (her user unit and socket).
fn carol() -> Host {
    Host::debian12()
        .file(
            "/etc/passwd",
            "root:x:0:0:root:/root:/bin/bash\ncarol:x:1003:1003:Carol:/home/carol:/bin/bash\n",
        )
        .file("/etc/group", "root:x:0:\ndocker:x:999:\ncarol:x:1003:\n")
        .file("/usr/bin/dockerd-rootless.sh", "#!/bin/sh\n")
        .file("/usr/bin/rootlesskit", "")
        .executables(&["/usr/bin/dockerd-rootless.sh", "/usr/bin/rootlesskit"])
        .dir("/etc/profile.d", 0o755)
        .dir("/home/carol/.config/systemd/user", 0o755)
        .file(
            "/home/carol/.config/systemd/user/docker.service",
            "[Service]\nExecStart=/usr/bin/dockerd-rootless.sh\n",
        )
        .owner("/home/carol", CAROL, CAROL)
        .owner("/home/carol/.config", CAROL, CAROL)
        .owner("/home/carol/.config/systemd", CAROL, CAROL)
        .owner("/home/carol/.config/systemd/user", CAROL, CAROL)
        .owner(
            "/home/carol/.config/systemd/user/docker.service",
            CAROL,
            CAROL,
        )
        .dir("/run/user/1003", 0o700)
        .owner("/run/user/1003", CAROL, CAROL)
        .socket("/run/user/1003/docker.sock", 0o660, CAROL, CAROL)
}

fn carol_with_config_dir() -> Host {
    carol()
        .dir(CAROL_CONFIG, 0o755)
        .owner(CAROL_CONFIG, CAROL, CAROL)
}

const CAROL_FIX: &[&str] = &[
    "fix",
    "--yes",
    "--daemon",
    "rootless:carol",
    "--only",
    "2.2,3.17,3.18",
];

#[test]
fn a_rootless_users_symlink_never_makes_root_write_or_chown_a_system_file() {
    let sentinel = Sentinel::new();
    let cases: Vec<(Host, &str)> = vec![
        // A root-sourced shell file: root would create it, owned by carol.
        (
            carol_with_config_dir().symlink(
                &format!("{CAROL_CONFIG}/daemon.json"),
                "/etc/profile.d/zz-carol.sh",
            ),
            "/etc/profile.d/zz-carol.sh",
        ),
        // The system daemon's own file: root would give it to carol.
        (
            carol_with_config_dir()
                .dir("/etc/docker", 0o755)
                .file("/etc/docker/daemon.json", "{\n  \"icc\": true\n}\n")
                .symlink(
                    &format!("{CAROL_CONFIG}/daemon.json"),
                    "/etc/docker/daemon.json",
                ),
            "/etc/docker/daemon.json",
        ),
        // A symlinked ~/.config/docker: root's directory would be chowned.
        (
            carol()
                .dir("/etc/carol-docker", 0o755)
                .symlink(CAROL_CONFIG, "/etc/carol-docker"),
            "/etc/carol-docker",
        ),
        // The same, with an absolute link straight out of the root.
        (
            carol_with_config_dir().symlink(
                &format!("{CAROL_CONFIG}/daemon.json"),
                &sentinel.path().join("daemon.json").display().to_string(),
            ),
            "/etc/docker",
        ),
    ];
    for (host, system_path) in cases {
        let before = host.snapshot();
        let system_before: Vec<_> = before
            .iter()
            .filter(|(k, _)| k.starts_with(system_path))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        // With pre-flight: refused with the reason. Without (the hidden test flag), the
        // kernel refuses the write itself, since it is carol's, and the run undoes itself.
        for skip in [false, true] {
            let mut args = CAROL_FIX.to_vec();
            if skip {
                args.push("--skip-preflight");
            }
            let run = run_guarded(&host, &sentinel, &args);
            assert!(
                run.code == 1 || run.code == 2,
                "{}\n{}",
                run.stdout,
                run.stderr
            );
            let after = host.snapshot();
            let system_after: Vec<_> = after
                .iter()
                .filter(|(k, _)| k.starts_with(system_path))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            assert_eq!(
                system_before, system_after,
                "{system_path} changed (skip-preflight {skip})\n{}\n{}",
                run.stdout, run.stderr
            );
            for (path, entry) in &after {
                if before.get(path).is_none_or(|e| e.uid != CAROL)
                    && !path.starts_with("/home/carol")
                {
                    assert_ne!(entry.uid, CAROL, "{path} was given to carol");
                }
            }
        }
    }
}

#[test]
fn a_rootless_users_own_files_are_written_as_the_user() {
    let sentinel = Sentinel::new();
    let host = carol();
    let before = host.snapshot();
    run_guarded(&host, &sentinel, CAROL_FIX).code(0);
    for path in [
        "/home/carol/.config/docker",
        "/home/carol/.config/docker/daemon.json",
    ] {
        let (_, uid, gid) = host.meta(path);
        assert_eq!((uid, gid), (CAROL, CAROL), "{path}");
    }
    run_guarded(&host, &sentinel, &["rollback"]).code(0);
    assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());
}

#[test]
fn a_root_owned_file_in_a_users_home_is_given_to_her_only_with_its_ownership_item() {
    let sentinel = Sentinel::new();
    let json = format!("{CAROL_CONFIG}/daemon.json");
    let host = carol_with_config_dir().file(&json, "{\n  \"log-level\": \"info\"\n}\n");
    let before = host.snapshot();
    // Alone, the daemon.json edit would have to leave the file root's, which carol cannot do.
    run_guarded(
        &host,
        &sentinel,
        &[
            "fix",
            "--yes",
            "--daemon",
            "rootless:carol",
            "--only",
            "2.2",
        ],
    )
    .code(1)
    .stdout_has("is owned by 0:0, and carol cannot keep it another's");
    assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());
    // With the ownership item, it is hers and the edit goes through.
    run_guarded(&host, &sentinel, CAROL_FIX).code(0);
    assert_eq!(host.meta(&json).1, CAROL);
    // Rollback restores the content and mode as carol, and says the owner stays hers.
    run_guarded(&host, &sentinel, &["rollback"])
        .code(0)
        .stdout_has("stays owned by carol (uid 1003): it was 0:0 before the run");
    assert_eq!(host.read(&json), "{\n  \"log-level\": \"info\"\n}\n");
}

// ---------------------------------------------------------------------------------------------
// FIFOs, devices and oversize files where files belong (item 8).

/// Runs with a deadline: a read that blocks on a FIFO fails the test instead of hanging it.
fn run_bounded(mut cmd: Command, limit: Duration) -> Run {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{cmd:?} still ran after {limit:?}: it blocked");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

/// The files docker-harden reads on Debian 12, each of which a FIFO or device could replace.
const READ_FILES: &[&str] = &[
    "/etc/passwd",
    "/etc/group",
    "/etc/fstab",
    "/etc/docker/daemon.json",
    "/etc/default/docker",
    "/etc/audit/rules.d/audit.rules",
    "/etc/rsyslog.conf",
    "/etc/subuid",
];

#[test]
fn fifos_and_devices_where_files_belong_are_refused_by_name_without_blocking() {
    let sentinel = Sentinel::new();
    for file in READ_FILES {
        for kind in ["fifo", "device"] {
            let host = Host::debian12().dir("/etc/docker", 0o755);
            let path = host.path(file);
            let _ = fs::remove_file(&path);
            match kind {
                "fifo" => {
                    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o644))
                        .unwrap()
                }
                _ => nix::sys::stat::mknod(
                    &path,
                    nix::sys::stat::SFlag::S_IFCHR,
                    nix::sys::stat::Mode::from_bits_truncate(0o644),
                    // /dev/zero's numbers: an endless read, were it read.
                    nix::sys::stat::makedev(1, 5),
                )
                .unwrap(),
            }
            let before = host.snapshot();
            for args in [&["check"][..], &["fix", "--yes"]] {
                let run = run_bounded(host.command(args), Duration::from_secs(20));
                assert_eq!(
                    run.code, 2,
                    "{file} {kind} {args:?}\n{}\n{}",
                    run.stdout, run.stderr
                );
                assert!(
                    run.stderr.contains(file)
                        && run.stderr.contains("expected a regular file, found a"),
                    "{file} {kind}: {}",
                    run.stderr
                );
            }
            assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());
            assert!(!host.exists("/var/lib/docker-harden/backups"));
            let _ = &sentinel;
        }
    }
}

#[test]
fn an_oversize_file_is_refused_by_name_before_it_is_read() {
    for file in [
        "/etc/docker/daemon.json",
        "/etc/passwd",
        "/etc/audit/rules.d/audit.rules",
    ] {
        let host = Host::debian12().dir("/etc/docker", 0o755);
        let f = fs::File::create(host.path(file)).unwrap();
        // 50 MB, sparse: quick to make, and ruinous to parse.
        f.set_len(50 << 20).unwrap();
        let started = Instant::now();
        let run = run_bounded(host.command(&["check"]), Duration::from_secs(20));
        assert_eq!(run.code, 2, "{file}\n{}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "{file}: 52428800 bytes, more than the 16777216 bytes"
            )),
            "{}",
            run.stderr
        );
        // Refused from its size, not after reading it (which took 25 s and 1 GB before).
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

#[test]
fn a_playbook_that_is_a_fifo_or_includes_a_device_is_refused() {
    let host = Host::debian12();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("playbook.yml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let run = run_bounded(
        host.command(&["check", "--playbook", fifo.to_str().unwrap()]),
        Duration::from_secs(20),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("playbook.yml: expected a regular file, found a FIFO"),
        "{}",
        run.stderr
    );

    let including = dir.path().join("site.yml");
    fs::write(&including, "include: /dev/zero\n").unwrap();
    let run = run_bounded(
        host.command(&["check", "--playbook", including.to_str().unwrap()]),
        Duration::from_secs(20),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("/dev/zero: expected a regular file, found a character device"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_fifo_named_as_the_only_argument_does_not_block() {
    // One path argument is how Ansible runs a binary module: it is read as every input is.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("args");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let mut cmd = Command::new(common::BIN);
    cmd.arg(&fifo);
    let run = run_bounded(cmd, Duration::from_secs(20));
    assert_eq!(run.code, 2, "{}", run.stderr);
}
