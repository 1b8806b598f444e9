//! The private-dockerd harness shared by tests/suite/dockerd.rs and tests/suite/containers.rs: a sandbox
//! directory `/tmp/dh-XXXXXX` per test with its own socket, data root, exec root, pid file and
//! config file, a FROM-scratch busybox image, and the live-host settings and recording runner
//! docker-harden runs with against it. `exclusive()` serialises every test that starts a dockerd,
//! across test binaries (a file lock) and threads (a mutex); other dockerds on the machine (a
//! system one, a CI runner's) may run meanwhile. See tests/suite/dockerd.rs for the full description.

#![allow(dead_code)]

use std::fs;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use docker_harden::engine::BollardEngine;
use docker_harden::runner::{CommandOutput, RecordingRunner};
use docker_harden::settings::Settings;
use serde_json::Value;

/// How long dockerd may take to answer `/_ping` (or to exit, when it must refuse to start).
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long dockerd may take to shut down after SIGTERM before it is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(15);
pub const INSTALL_HINT: &str =
    "install them with `apt-get install -y docker.io busybox-static systemd`";

pub static SERIAL: Mutex<()> = Mutex::new(());

// ---------------------------------------------------------------------------------------------
// The harness

pub fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// A program the tests cannot do without: missing is a failure with the fix, never a skip.
pub fn require(program: &str) -> PathBuf {
    find_in_path(program).unwrap_or_else(|| {
        panic!(
            "`{program}` is not installed: tests/suite/dockerd.rs runs a real private dockerd; \
             {INSTALL_HINT}"
        )
    })
}

/// PIDs of every process named dockerd.
pub fn dockerd_pids() -> Vec<u32> {
    let mut pids: Vec<u32> = fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|pid: &u32| {
            fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "dockerd")
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// Held for a whole test: the in-process lock (cargo runs tests as threads) and a file lock
/// (a runner such as nextest runs them as parallel processes).
pub struct Exclusive {
    _file: nix::fcntl::Flock<fs::File>,
    _thread: MutexGuard<'static, ()>,
}

/// One test with private dockerds at a time: each starts and stops its own, and a machine
/// running several tests' dockerds and containers at once would make the timeouts flaky.
/// Other dockerds may run meanwhile: the facts judge the dockerd serving the socket they ask,
/// never merely one found in /proc.
pub fn exclusive() -> Exclusive {
    let thread = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dockerd-tests.lock");
    let file = fs::File::create(&path).unwrap();
    let file = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
        .unwrap_or_else(|(_, e)| panic!("cannot lock {}: {e}", path.display()));
    require("dockerd");
    Exclusive {
        _file: file,
        _thread: thread,
    }
}

/// How dockerd gets its API socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listen {
    /// `-H unix://D/sock`: dockerd binds it.
    Path,
    /// `-H fd://`: bound by systemd-socket-activate, which then execs dockerd (same pid).
    Activated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    /// The host's network namespace, `--iptables=false`.
    Host,
    /// A new network namespace (`unshare --net`), iptables on: icc=false is accepted.
    Private,
    /// A new network namespace with its loopback up (swarm listens on 127.0.0.1), iptables on
    /// and the default bridge docker0, which exists only in that namespace.
    Isolated,
}

/// A private dockerd's directory and, while it runs, its process.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub child: Option<Child>,
}

impl Sandbox {
    /// A sandbox whose daemon.json holds `settings` (plus the key path), written a minute ago.
    pub fn new(settings: Value) -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("dh-")
            .tempdir_in("/tmp")
            .unwrap();
        let sandbox = Sandbox { dir, child: None };
        sandbox.write_daemon_json(settings);
        sandbox.backdate_daemon_json();
        sandbox
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn config(&self) -> PathBuf {
        self.path("daemon.json")
    }

    pub fn socket(&self) -> PathBuf {
        self.path("sock")
    }

    /// `unix://D/sock`
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    pub fn log_path(&self) -> PathBuf {
        self.path("dockerd.log")
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Writes D/daemon.json: `settings` and the trust key path that keeps dockerd 20.10 out of
    /// the real /etc/docker.
    pub fn write_daemon_json(&self, settings: Value) {
        let Value::Object(mut map) = settings else {
            panic!("daemon.json must be an object: {settings}")
        };
        map.insert(
            "deprecated-key-path".into(),
            Value::String(self.path("key.json").display().to_string()),
        );
        let text = serde_json::to_string_pretty(&Value::Object(map)).unwrap() + "\n";
        fs::write(self.config(), text).unwrap();
    }

    /// daemon.json as an operator left it long before dockerd started.
    pub fn backdate_daemon_json(&self) {
        fs::File::options()
            .write(true)
            .open(self.config())
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(60))
            .unwrap();
    }

    pub fn daemon_json_mtime(&self) -> SystemTime {
        fs::metadata(self.config()).unwrap().modified().unwrap()
    }

    pub fn command(&self, net: Net, extra: &[&str]) -> Command {
        self.command_on(Listen::Path, net, extra)
    }

    fn command_on(&self, listen: Listen, net: Net, extra: &[&str]) -> Command {
        let dockerd = require("dockerd");
        let mut cmd = match (listen, net) {
            (Listen::Activated, Net::Host) => {
                // systemd's way: the socket is bound before dockerd starts, passed as fd 3
                // with LISTEN_PID and LISTEN_FDS; it execs dockerd at the first connection.
                let mut cmd = Command::new(require("systemd-socket-activate"));
                cmd.arg("-l").arg(self.socket()).arg(&dockerd);
                cmd
            }
            (Listen::Activated, _) => panic!("socket activation is set up for Net::Host only"),
            (Listen::Path, Net::Host) => Command::new(&dockerd),
            (Listen::Path, Net::Private) => {
                let mut cmd = Command::new(require("unshare"));
                cmd.arg("--net").arg(&dockerd);
                cmd
            }
            (Listen::Path, Net::Isolated) => {
                // The shell execs dockerd, so the process keeps the name the facts look for.
                let mut cmd = Command::new(require("unshare"));
                cmd.args([
                    "--net",
                    "sh",
                    "-c",
                    "/bin/busybox ip link set lo up && exec \"$@\"",
                    "sh",
                ])
                .arg(&dockerd);
                cmd
            }
        };
        let p = |name: &str| self.path(name).display().to_string();
        let host = match listen {
            Listen::Path => self.host(),
            Listen::Activated => "fd://".to_string(),
        };
        cmd.args(["--data-root", &p("data")])
            .args(["--exec-root", &p("exec")])
            .args(["-H", &host])
            .args(["--pidfile", &p("pid")]);
        if net != Net::Isolated {
            cmd.arg("--bridge=none");
        }
        if net == Net::Host {
            cmd.arg("--iptables=false");
        }
        cmd.args(extra).args(["--config-file", &p("daemon.json")]);
        cmd
    }

    /// Starts dockerd; `extra` flags go before `--config-file D/daemon.json`.
    pub fn spawn(&mut self, net: Net, extra: &[&str]) {
        self.spawn_on(Listen::Path, net, extra);
    }

    fn spawn_on(&mut self, listen: Listen, net: Net, extra: &[&str]) {
        assert!(self.child.is_none(), "dockerd already runs in this sandbox");
        let mut log = fs::File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        writeln!(
            log,
            "=== starting dockerd ({listen:?}, {net:?}, extra flags {extra:?})"
        )
        .unwrap();
        let child = self
            .command_on(listen, net, extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start dockerd: {e}"));
        self.child = Some(child);
    }

    /// Starts dockerd and waits until its API answers; returns its pid.
    pub fn start(&mut self, net: Net, extra: &[&str]) -> u32 {
        self.start_on(Listen::Path, net, extra)
    }

    /// Starts dockerd as systemd's docker.socket does (`-H fd://`, the socket bound first and
    /// handed over, on the host's network) and waits until its API answers; returns its pid.
    pub fn start_activated(&mut self, extra: &[&str]) -> u32 {
        self.start_on(Listen::Activated, Net::Host, extra)
    }

    fn start_on(&mut self, listen: Listen, net: Net, extra: &[&str]) -> u32 {
        self.spawn_on(listen, net, extra);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                self.child = None;
                panic!(
                    "dockerd exited ({status}) before its API answered\n--- dockerd log\n{}",
                    self.log()
                );
            }
            if ping(&self.socket()) {
                return self.pid();
            }
            if Instant::now() > deadline {
                panic!(
                    "dockerd did not answer on {} within {READY_TIMEOUT:?}\n--- dockerd log\n{}",
                    self.host(),
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts dockerd expecting it to refuse: its exit status and what it logged.
    pub fn start_refused(&mut self, net: Net, extra: &[&str]) -> (ExitStatus, String) {
        let logged_before = self.log().len();
        self.spawn(net, extra);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                self.child = None;
                return (status, self.log()[logged_before..].to_string());
            }
            assert!(
                !ping(&self.socket()),
                "dockerd started and answers on {}; it should have refused\n--- dockerd log\n{}",
                self.host(),
                self.log()
            );
            assert!(
                Instant::now() < deadline,
                "dockerd neither exited nor answered within {READY_TIMEOUT:?}\n--- dockerd log\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("dockerd is not running").id()
    }

    /// SIGTERM, then SIGKILL after STOP_TIMEOUT; waits for the process either way.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + STOP_TIMEOUT;
        while child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                eprintln!("dockerd (pid {pid}) ignored SIGTERM for {STOP_TIMEOUT:?}: killing it");
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The docker CLI against this sandbox only.
    pub fn docker(&self, args: &[&str]) -> Output {
        self.docker_cmd(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run docker: {e}"))
    }

    pub fn docker_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(require("docker"));
        cmd.arg("-H")
            .arg(self.host())
            .args(args)
            .env("DOCKER_CONFIG", self.path("cli"))
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH");
        cmd
    }

    /// Runs the docker CLI and returns its stdout; a failure fails the test.
    pub fn docker_ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            out.status.success(),
            "docker {args:?} failed ({}):\n{}\n--- dockerd log\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `docker info` as JSON.
    pub fn info(&self) -> Value {
        serde_json::from_str(&self.docker_ok(&["info", "--format", "{{json .}}"])).unwrap()
    }

    /// `tar -C D/tree -c . | docker import - dh-busybox`: an image holding only a static
    /// /bin/busybox (FROM scratch; no registry needed).
    pub fn import_busybox(&self) {
        let busybox = Path::new("/bin/busybox");
        let bytes = fs::read(busybox)
            .unwrap_or_else(|e| panic!("{}: {e}; {INSTALL_HINT}", busybox.display()));
        assert!(
            !elf_has_interpreter(&bytes),
            "{} is dynamically linked and cannot run in a FROM-scratch image; {INSTALL_HINT}",
            busybox.display()
        );
        let tree = self.path("tree");
        fs::create_dir_all(tree.join("bin")).unwrap();
        fs::copy(busybox, tree.join("bin/busybox")).unwrap();
        let mut tar = Command::new("tar")
            .arg("-C")
            .arg(&tree)
            .args(["-c", "."])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run tar: {e}"));
        let import = self
            .docker_cmd(&["import", "-", "dh-busybox"])
            .stdin(tar.stdout.take().unwrap())
            .output()
            .unwrap();
        assert!(tar.wait().unwrap().success(), "tar failed");
        assert!(
            import.status.success(),
            "docker import: {}\n--- dockerd log\n{}",
            String::from_utf8_lossy(&import.stderr),
            self.log()
        );
    }

    /// `docker build -t TAG` with the classic builder (dockerd 20.10 records its history in
    /// the classic form) from a context holding `dockerfile` and `files` (name, content).
    pub fn build_image(&self, tag: &str, dockerfile: &str, files: &[(&str, &str)]) {
        let context = self.path(&format!("build-{}", tag.replace([':', '/'], "-")));
        fs::create_dir_all(&context).unwrap();
        fs::write(context.join("Dockerfile"), dockerfile).unwrap();
        for (name, content) in files {
            fs::write(context.join(name), content).unwrap();
        }
        let out = self
            .docker_cmd(&["build", "-q", "-t", tag])
            .arg(&context)
            .env("DOCKER_BUILDKIT", "0")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "docker build {tag}: {}\n--- dockerd log\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }

    pub fn engine(&self) -> BollardEngine {
        BollardEngine::new(Some(self.host()))
    }

    /// Mount points dockerd may leave under D (it bind-mounts its data root onto itself).
    pub fn unmount_all(&self) {
        let dir = self.dir.path().display().to_string();
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut points: Vec<String> = mountinfo
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .map(|p| p.replace("\\040", " "))
            .filter(|p| p == &dir || p.starts_with(&format!("{dir}/")))
            .collect();
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        points.dedup();
        for point in points {
            let _ = Command::new("umount").arg("-l").arg(&point).status();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!(
                "--- dockerd log ({})\n{}",
                self.log_path().display(),
                self.log()
            );
        }
        self.unmount_all();
        // The TempDir field then removes D.
    }
}

/// Whether dockerd at `socket` answers `GET /_ping` with 200.
pub fn ping(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.") && answer.lines().next().is_some_and(|l| l.contains(" 200"))
}

// ---------------------------------------------------------------------------------------------
// docker-harden, live, on this host

pub fn live_settings() -> Settings {
    super::settings(None)
}

pub fn recording_runner() -> RecordingRunner {
    RecordingRunner::new()
        .answer("auditctl -l", Ok(CommandOutput::ok("No rules\n")))
        .answer(
            "auditctl -s",
            Ok(CommandOutput::ok("enabled 1\nfailure 1\npid 612\n")),
        )
}

/// Calls that would change the host had they run for real.
pub fn acting_calls(runner: &RecordingRunner) -> Vec<String> {
    runner
        .calls()
        .into_iter()
        .filter(|c| {
            ["systemctl", "service", "augenrules", "auditctl -R", "kill"]
                .iter()
                .any(|p| c.starts_with(p))
        })
        .collect()
}

/// Whether an ELF executable asks for a program interpreter (is dynamically linked).
pub fn elf_has_interpreter(bytes: &[u8]) -> bool {
    assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(bytes[5], 1, "not little-endian");
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
    let (phoff, phentsize, phnum) = if bytes[4] == 2 {
        let phoff = u64::from_le_bytes(bytes[0x20..0x28].try_into().unwrap()) as usize;
        (phoff, u16_at(0x36), u16_at(0x38))
    } else {
        (u32_at(0x1c) as usize, u16_at(0x2a), u16_at(0x2c))
    };
    const PT_INTERP: u32 = 3;
    (0..phnum).any(|i| u32_at(phoff + i * phentsize) == PT_INTERP)
}
