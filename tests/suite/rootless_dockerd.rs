//! A real rootless dockerd (Debian's dockerd-rootless.sh under RootlessKit), run by an
//! unprivileged user with a private HOME and XDG_RUNTIME_DIR, judged live by the binary: found
//! from /proc by its uid and environment, asked at its own socket, its own daemon.json read.
//! The user (DOCKER_HARDEN_ROOTLESS_USER, default `dh-rootless`, with /etc/subuid and
//! /etc/subgid ranges) is created by .ci/run; nothing here writes outside its temporary dir.

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::dockerd::{exclusive, require};
use serde_json::Value;

const SETUP_SCRIPT: &str = "/usr/share/docker.io/contrib/dockerd-rootless.sh";

struct User {
    name: String,
    uid: u32,
    gid: u32,
}

fn test_user() -> User {
    let name = std::env::var("DOCKER_HARDEN_ROOTLESS_USER").unwrap_or("dh-rootless".into());
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let entry = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f[0] == name)
        .unwrap_or_else(|| {
            panic!(
                "no user {name}: create it with `useradd --system --add-subids-for-system --shell /usr/sbin/nologin {name}` (.ci/run does)"
            )
        });
    let subuid = std::fs::read_to_string("/etc/subuid").unwrap_or_default();
    assert!(
        subuid.lines().any(|l| l.starts_with(&format!("{name}:"))),
        "{name} has no /etc/subuid range: RootlessKit needs one"
    );
    User {
        uid: entry[2].parse().unwrap(),
        gid: entry[3].parse().unwrap(),
        name,
    }
}

/// The user's rootless dockerd, in its own process group so the whole RootlessKit tree stops.
struct Rootless {
    child: Child,
    dir: tempfile::TempDir,
}

impl Rootless {
    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }
    fn runtime(&self) -> PathBuf {
        self.dir.path().join("run")
    }
    fn socket(&self) -> PathBuf {
        self.runtime().join("docker.sock")
    }
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }

    fn start(user: &User, daemon_json: &str) -> Rootless {
        require("rootlesskit");
        require("newuidmap");
        assert!(
            Path::new(SETUP_SCRIPT).exists(),
            "{SETUP_SCRIPT} is missing (docker.io)"
        );
        let dir = tempfile::Builder::new()
            .prefix("dh-rootless-")
            .tempdir()
            .unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let config = dir.path().join("home/.config/docker");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::create_dir_all(dir.path().join("run")).unwrap();
        std::fs::write(config.join("daemon.json"), daemon_json).unwrap();
        for p in [
            "home",
            "home/.config",
            "home/.config/docker",
            "home/.config/docker/daemon.json",
            "run",
        ] {
            std::os::unix::fs::chown(dir.path().join(p), Some(user.uid), Some(user.gid)).unwrap();
        }
        std::fs::set_permissions(
            dir.path().join("run"),
            std::fs::Permissions::from_mode(0o700),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("dockerd.log")).unwrap();
        // No tap device here, so RootlessKit shares the host's network namespace; iptables
        // and the bridge are off, as for the private rootful dockerds of the other tests.
        let child = Command::new("setpriv")
            .args([
                format!("--reuid={}", user.uid),
                format!("--regid={}", user.gid),
                "--init-groups".into(),
                SETUP_SCRIPT.into(),
                "--iptables=false".into(),
                "--bridge=none".into(),
            ])
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HOME", dir.path().join("home"))
            .env("XDG_RUNTIME_DIR", dir.path().join("run"))
            .env("DOCKERD_ROOTLESS_ROOTLESSKIT_NET", "host")
            .env("DOCKERD_ROOTLESS_ROOTLESSKIT_PORT_DRIVER", "none")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("start dockerd-rootless.sh");
        let mut rootless = Rootless { child, dir };
        let start = Instant::now();
        loop {
            let up = rootless.socket().exists()
                && Command::new("docker")
                    .arg("-H")
                    .arg(format!("unix://{}", rootless.socket().display()))
                    .args(["version", "--format", "{{.Server.Version}}"])
                    .output()
                    .is_ok_and(|o| o.status.success());
            if up {
                return rootless;
            }
            if let Ok(Some(status)) = rootless.child.try_wait() {
                panic!(
                    "the rootless dockerd exited ({status})\n--- log\n{}",
                    rootless.log()
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the rootless dockerd did not answer within 60 s\n--- log\n{}",
                rootless.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Rootless {
    fn drop(&mut self) {
        let group = nix::unistd::Pid::from_raw(-(self.child.id() as i32));
        let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if matches!(self.child.try_wait(), Ok(Some(_)))
                && !common::dockerd::dockerd_pids().iter().any(|pid| {
                    std::fs::read_to_string(format!("/proc/{pid}/environ"))
                        .is_ok_and(|e| e.contains(&self.dir.path().display().to_string()))
                })
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

fn harden(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_docker-harden"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("DOCKER_HARDEN_BENCHMARK", "1.6.0")
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .env("DOCKER_CONFIG", "/nonexistent-docker-config")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn item<'a>(report: &'a Value, daemon: &str, id: &str) -> &'a Value {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["daemon"] == daemon && i["id"] == id)
        .unwrap_or_else(|| panic!("no item {id} for {daemon}"))
}

fn evidence(item: &Value) -> String {
    item["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_real_rootless_dockerd_is_found_and_judged_against_its_own_files() {
    let _lock = exclusive();
    let user = test_user();
    let daemon = Rootless::start(&user, "{\n  \"log-level\": \"warn\"\n}\n");
    let key = format!("rootless:{}", user.name);
    let json_path = daemon.home().join(".config/docker/daemon.json");

    let (code, stdout, stderr) = harden(&["check", "--format", "json"]);
    assert!(code == 0 || code == 1, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let found = report["daemons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["key"] == key)
        .unwrap_or_else(|| panic!("{key} not found: {}", report["daemons"]))
        .clone();
    assert_eq!(found["rootless"], true);
    assert_eq!(found["running"], true);
    assert_eq!(found["uid"], user.uid);
    // Found from the process's environment, not from a home directory in /etc/passwd.
    assert_eq!(found["socket"], daemon.socket().display().to_string());
    assert_eq!(found["config_file"], json_path.display().to_string());

    // Its own daemon.json and its own engine decide.
    let log_level = item(&report, &key, "2.3");
    assert_eq!(log_level["status"], "WARN", "{log_level}");
    assert!(
        evidence(log_level).contains(&json_path.display().to_string()),
        "{log_level}"
    );
    let iptables = item(&report, &key, "2.4");
    assert!(
        evidence(iptables).contains("--iptables=false on the running dockerd (pid"),
        "{iptables}"
    );
    let version = item(&report, &key, "1.2.2");
    assert!(
        evidence(version).contains("the running engine is Docker 20.10"),
        "{version}"
    );
    assert_eq!(item(&report, &key, "2.1")["status"], "PASS");
    // dockerd gives its socket its namespace's docker group (a subordinate ID) and the
    // sticky bit (so systemd's runtime-dir clean-up keeps it): both are as they should be.
    let owner = item(&report, &key, "3.15");
    assert_eq!(owner["status"], "PASS", "{owner}");
    let mode = item(&report, &key, "3.16");
    assert_eq!(mode["status"], "PASS", "{mode}");
    assert_eq!(item(&report, &key, "3.3")["status"], "N/A");

    // The dry run for that daemon edits its user's daemon.json and nothing of the system's.
    let (code, stdout, stderr) = harden(&["diff", "--daemon", &key, "--only", "2.3"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("+++ b{}", json_path.display())),
        "{stdout}"
    );
    assert!(stdout.contains("+  \"log-level\": \"info\""), "{stdout}");
    assert!(!stdout.contains("/etc/docker/daemon.json"), "{stdout}");
    assert!(stdout.contains("restart docker"), "{stdout}");
}
