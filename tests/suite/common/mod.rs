//! A fluent test builder: lay out a host's root filesystem, run the docker-harden binary on it
//! with --root, and assert on the files afterwards. Nothing here touches the real host.

#![allow(dead_code)]

pub mod dockerd;
pub mod workloads;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_docker-harden");

pub struct Host {
    pub dir: tempfile::TempDir,
}

/// What a run printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn code(&self, want: i32) -> &Run {
        assert_eq!(
            self.code, want,
            "exit code {} (want {want})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
    pub fn stdout_has(&self, text: &str) -> &Run {
        assert!(
            self.stdout.contains(text),
            "stdout lacks {text:?}:\n{}",
            self.stdout
        );
        self
    }
    pub fn stderr_has(&self, text: &str) -> &Run {
        assert!(
            self.stderr.contains(text),
            "stderr lacks {text:?}:\n{}",
            self.stderr
        );
        self
    }
    pub fn stdout_lacks(&self, text: &str) -> &Run {
        assert!(
            !self.stdout.contains(text),
            "stdout has {text:?}:\n{}",
            self.stdout
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr))
    }

    /// One item of a `check --format json` report.
    pub fn item(&self, id: &str) -> serde_json::Value {
        self.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("no item {id} in\n{}", self.stdout))
            .clone()
    }

    pub fn status(&self, id: &str) -> String {
        self.item(id)["status"].as_str().unwrap().to_string()
    }

    /// The item's remediation ("" when it has none).
    pub fn remediation(&self, id: &str) -> String {
        self.item(id)["remediation"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn evidence(&self, id: &str) -> String {
        self.item(id)["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// IDs of the WARN items of a `check --format json` report.
    pub fn warn_ids(&self) -> Vec<String> {
        self.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["status"] == "WARN")
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    }
}

/// The settings the tests run with: the default playbook numbered as benchmark v1.6.0, no
/// colour, the local engine; on the root filesystem at `root`, or live (`None`).
pub fn settings(root: Option<&Path>) -> docker_harden::settings::Settings {
    docker_harden::settings::Settings::new(
        root,
        &docker_harden::playbook::Source::Default,
        Default::default(),
        docker_harden::benchmark::Version::V1_6_0,
    )
    .unwrap()
}

/// Runs one command through the library with these seams, as the binary would: an error is
/// printed to stderr and gives its exit code.
pub fn dispatch(
    settings: &docker_harden::settings::Settings,
    runner: &dyn docker_harden::runner::Runner,
    engine: &dyn docker_harden::engine::Engine,
    command: &docker_harden::cli::flags::Command,
) -> Run {
    use std::io::Write;
    let mut out = Vec::new();
    let mut err = Vec::new();
    let result = {
        let mut env = docker_harden::commands::Env {
            settings,
            runner,
            engine,
            out: &mut out,
            err: &mut err,
        };
        docker_harden::cli::dispatch(&mut env, command)
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            writeln!(err, "docker-harden: error: {e}").unwrap();
            e.exit_code()
        }
    };
    Run {
        code,
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err).unwrap(),
    }
}

/// One entry of a tree snapshot: type, mode, owner and content (or link target).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: &'static str,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub data: Vec<u8>,
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
            fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
}

impl Host {
    pub fn empty() -> Host {
        Host {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// A checked-in fixture tree from tests/fixtures/NAME, owned by root, files 0644, dirs 0755.
    pub fn fixture(name: &str) -> Host {
        let host = Host::empty();
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        copy_tree(&src, host.dir.path());
        host
    }

    /// Debian 12 with docker.io: merged /usr, dockerd and runc in /usr/sbin, unit reads
    /// /etc/default/docker, rules.d in use, no daemon.json yet.
    pub fn debian12() -> Host {
        Host::fixture("debian12")
            .symlink("/bin", "usr/bin")
            .symlink("/sbin", "usr/sbin")
            .symlink("/lib", "usr/lib")
            .symlink("/var/run", "/run")
            .dir("/etc/docker", 0o755)
            .dir("/var/lib/docker", 0o710)
            .dir("/run", 0o755)
            .mode("/etc/audit/rules.d/audit.rules", 0o640)
            .mode("/etc/audit/audit.rules", 0o640)
            .executables(&[
                "/usr/sbin/dockerd",
                "/usr/sbin/runc",
                "/usr/bin/containerd",
                "/usr/bin/containerd-shim",
                "/usr/bin/containerd-shim-runc-v1",
                "/usr/bin/containerd-shim-runc-v2",
                "/usr/bin/docker",
            ])
    }

    /// Ubuntu 22.04 with Docker CE: binaries in /usr/bin, a daemon.json with json-file log
    /// options (4-space indent) owned by a user and world-writable, a registry certificate,
    /// live sockets with loose modes.
    pub fn ubuntu2204() -> Host {
        Host::fixture("ubuntu2204")
            .symlink("/var/run", "/run")
            .dir("/var/lib/docker", 0o710)
            .dir("/run/containerd", 0o711)
            .mode("/etc/audit/rules.d/audit.rules", 0o640)
            .mode("/etc/docker/daemon.json", 0o666)
            .owner("/etc/docker/daemon.json", 1000, 1000)
            .socket("/run/docker.sock", 0o666, 0, 999)
            .socket("/run/containerd/containerd.sock", 0o660, 0, 0)
            .executables(&[
                "/usr/bin/dockerd",
                "/usr/bin/runc",
                "/usr/bin/containerd",
                "/usr/bin/containerd-shim",
                "/usr/bin/containerd-shim-runc-v1",
                "/usr/bin/containerd-shim-runc-v2",
                "/usr/bin/docker",
            ])
    }

    /// A RHEL-family host: /etc/sysconfig/docker OPTIONS, no rules.d (audit.rules ends with
    /// `-e 2`), rsyslog with RainerScript include, a tab-indented daemon.json.
    pub fn rhel9() -> Host {
        Host::fixture("rhel9")
            .dir("/var/lib/docker", 0o710)
            .mode("/etc/audit/audit.rules", 0o600)
            .executables(&[
                "/usr/bin/dockerd",
                "/usr/bin/runc",
                "/usr/bin/containerd",
                "/usr/bin/containerd-shim-runc-v2",
                "/usr/bin/docker",
            ])
    }

    pub fn path(&self, host_path: &str) -> PathBuf {
        self.dir.path().join(host_path.trim_start_matches('/'))
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(self, host_path: &str, content: &str) -> Host {
        let p = self.path(host_path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, content).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        self
    }

    pub fn bytes(self, host_path: &str, content: &[u8]) -> Host {
        let p = self.path(host_path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, content).unwrap();
        self
    }

    pub fn remove(self, host_path: &str) -> Host {
        let p = self.path(host_path);
        if p.is_dir() {
            fs::remove_dir_all(p).unwrap();
        } else {
            fs::remove_file(p).unwrap();
        }
        self
    }

    pub fn dir(self, host_path: &str, mode: u32) -> Host {
        let p = self.path(host_path);
        fs::create_dir_all(&p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
        self
    }

    pub fn mode(self, host_path: &str, mode: u32) -> Host {
        fs::set_permissions(self.path(host_path), fs::Permissions::from_mode(mode)).unwrap();
        self
    }

    pub fn owner(self, host_path: &str, uid: u32, gid: u32) -> Host {
        std::os::unix::fs::lchown(self.path(host_path), Some(uid), Some(gid)).unwrap();
        self
    }

    pub fn symlink(self, host_path: &str, target: &str) -> Host {
        let p = self.path(host_path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        symlink(target, &p).unwrap();
        self
    }

    /// A Unix socket file, as a running daemon leaves it.
    pub fn socket(self, host_path: &str, mode: u32, uid: u32, gid: u32) -> Host {
        let p = self.path(host_path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        drop(std::os::unix::net::UnixListener::bind(&p).unwrap());
        self.mode(host_path, mode).owner(host_path, uid, gid)
    }

    /// Makes process `pid` (its comm, cmdline and stat are the caller's) serve the Unix socket
    /// at `socket` the way the kernel shows it: its status says `uid`, its network namespace's
    /// table lists a listening socket bound there, one of its descriptors is that socket and
    /// its root is the fixture's. The socket file is made (owned by `uid`) unless it exists;
    /// symlinks on the way are followed inside the fixture.
    pub fn serving(self, pid: u32, uid: u32, socket: &str) -> Host {
        let inode = 40_000 + u64::from(pid);
        let rootfs = docker_harden::rootfs::RootFs::new(self.root()).unwrap();
        let resolved = rootfs.resolve(Path::new(socket)).unwrap();
        let resolved = resolved.to_str().unwrap();
        let host = if self.exists(resolved) {
            self
        } else {
            self.socket(resolved, 0o660, uid, uid)
        };
        // Again for the same process (a restarted daemon): its descriptors anew.
        let _ = fs::remove_file(host.path(&format!("/proc/{pid}/root")));
        let _ = fs::remove_dir_all(host.path(&format!("/proc/{pid}/fd")));
        let table = format!(
            "Num       RefCount Protocol Flags    Type St Inode Path\n\
             0000000000000000: 00000002 00000000 00010000 0001 01 {inode:>5} {socket}\n"
        );
        host.file(
            &format!("/proc/{pid}/status"),
            &format!("Name:\tdockerd\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{uid}\t{uid}\t{uid}\t{uid}\n"),
        )
        .file(&format!("/proc/{pid}/net/unix"), &table)
        .symlink(&format!("/proc/{pid}/fd/0"), "/dev/null")
        .symlink(&format!("/proc/{pid}/fd/7"), &format!("socket:[{inode}]"))
        .symlink(&format!("/proc/{pid}/root"), "../..")
    }

    pub fn executables(self, paths: &[&str]) -> Host {
        paths.iter().fold(self, |h, p| h.mode(p, 0o755))
    }

    pub fn read(&self, host_path: &str) -> String {
        fs::read_to_string(self.path(host_path)).unwrap_or_else(|e| panic!("{host_path}: {e}"))
    }

    pub fn exists(&self, host_path: &str) -> bool {
        self.path(host_path).symlink_metadata().is_ok()
    }

    pub fn meta(&self, host_path: &str) -> (u32, u32, u32) {
        let m = fs::symlink_metadata(self.path(host_path)).unwrap();
        (m.mode() & 0o7777, m.uid(), m.gid())
    }

    /// Every entry under the root except docker-harden's own state directory.
    pub fn snapshot(&self) -> BTreeMap<String, Entry> {
        let mut out = tree(self.root());
        out.retain(|k, _| !k.starts_with("/var/lib/docker-harden"));
        out
    }

    /// The binary on this root with colours off, for a test that sets up the streams itself.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_under(&[], args)
    }

    /// As `command`, run by another program (`program`, such as strace, then the binary).
    pub fn command_under(&self, program: &[&str], args: &[&str]) -> Command {
        let mut cmd = match program.split_first() {
            Some((first, rest)) => {
                let mut cmd = Command::new(first);
                cmd.args(rest).arg(BIN);
                cmd
            }
            None => Command::new(BIN),
        };
        cmd.args(args)
            .arg("--root")
            .arg(self.root())
            .env("NO_COLOR", "1")
            // The tests were written with v1.6.0's IDs; `--benchmark` on the command line wins.
            .env("DOCKER_HARDEN_BENCHMARK", "1.6.0")
            .env_remove("DOCKER_HOST");
        cmd
    }

    /// Runs the binary on this root with colours off.
    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.command(args).output().expect("run docker-harden");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Stdout with the temporary root replaced, for snapshots.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.root().display().to_string(), "[ROOT]")
    }
}

/// Every entry under `dir` (type, mode, owner, content or link target), by path from `dir`.
pub fn tree(dir: &Path) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Entry>) {
    let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).unwrap();
        let rel = format!("/{}", path.strip_prefix(root).unwrap().display());
        let ft = meta.file_type();
        let (kind, data) = if ft.is_symlink() {
            (
                "link",
                fs::read_link(&path)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes(),
            )
        } else if ft.is_dir() {
            ("dir", Vec::new())
        } else if ft.is_file() {
            ("file", fs::read(&path).unwrap())
        } else {
            ("other", Vec::new())
        };
        out.insert(
            rel,
            Entry {
                kind,
                mode: meta.mode() & 0o7777,
                uid: meta.uid(),
                gid: meta.gid(),
                data,
            },
        );
        if ft.is_dir() {
            walk(root, &path, out);
        }
    }
}

/// Paths whose entries differ between two snapshots.
pub fn changed(before: &BTreeMap<String, Entry>, after: &BTreeMap<String, Entry>) -> Vec<String> {
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect()
}
