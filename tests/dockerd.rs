//! Tests against a real dockerd that this file starts and stops itself.
//!
//! Each test creates a sandbox directory `/tmp/dh-XXXXXX` (short: Unix socket paths are limited
//! to ~107 bytes) and runs a private dockerd in it:
//!
//! ```text
//! dockerd --data-root D/data --exec-root D/exec -H unix://D/sock --pidfile D/pid
//!         --bridge=none --config-file D/daemon.json --iptables=false
//! ```
//!
//! `Net::Private` starts it under `unshare --net` instead, with iptables left on: icc=false is
//! only accepted together with iptables, and its chains then land in a throw-away network
//! namespace, never in the host's firewall. Every daemon.json the harness writes carries
//! `"deprecated-key-path": "D/key.json"`, because dockerd 20.10 otherwise creates
//! /etc/docker/key.json on the real host. The docker CLI is always called with `-H unix://D/sock`
//! and `DOCKER_CONFIG=D/cli`. Readiness is `GET /_ping` on the socket, bounded by
//! READY_TIMEOUT. Dropping the sandbox stops dockerd (SIGTERM, then SIGKILL), unmounts what it
//! left mounted under D, removes D, and prints dockerd's log when the test is failing.
//!
//! The library-level checks run live on the real host (`RootFs::host()`, real /proc, real /etc
//! read only) with a RecordingRunner (no systemctl, augenrules or auditctl runs) and the engine
//! pointed at the private socket. The facts take the first process named dockerd, so the tests
//! here run one at a time (a mutex and a file lock) and refuse to start while any other dockerd
//! runs. Nothing writes outside D and the tempdir of a `--root` fixture (except the container
//! shim's socket, which containerd always puts in /run/containerd/s and removes when the
//! container exits); `fix` never runs against "/".
//!
//! dockerd missing is a failure, not a skip: CI must install `docker.io busybox-static`.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use common::{Host, Run};
use docker_harden::cli::dispatch;
use docker_harden::commands::Env;
use docker_harden::engine::BollardEngine;
use docker_harden::facts::{Facts, LiveSources, Sources};
use docker_harden::playbook::Playbook;
use docker_harden::render::Paint;
use docker_harden::rootfs::RootFs;
use docker_harden::runner::{CommandOutput, RecordingRunner};
use docker_harden::settings::{CheckArgs, Command as Cmd, Format, Selectors, Settings};
use serde_json::{Value, json};

/// How long dockerd may take to answer `/_ping` (or to exit, when it must refuse to start).
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long dockerd may take to shut down after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
const INSTALL_HINT: &str = "install them with `apt-get install -y docker.io busybox-static`";

static SERIAL: Mutex<()> = Mutex::new(());

// ---------------------------------------------------------------------------------------------
// The harness

fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// A program the tests cannot do without: missing is a failure with the fix, never a skip.
fn require(program: &str) -> PathBuf {
    find_in_path(program).unwrap_or_else(|| {
        panic!(
            "`{program}` is not installed: tests/dockerd.rs runs a real private dockerd; \
             {INSTALL_HINT}"
        )
    })
}

/// PIDs of every process named dockerd.
fn dockerd_pids() -> Vec<u32> {
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
struct Exclusive {
    _file: nix::fcntl::Flock<fs::File>,
    _thread: MutexGuard<'static, ()>,
}

/// One test at a time, and no dockerd but ours: the facts judge the first dockerd in /proc.
fn exclusive() -> Exclusive {
    let thread = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dockerd-tests.lock");
    let file = fs::File::create(&path).unwrap();
    let file = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
        .unwrap_or_else(|(_, e)| panic!("cannot lock {}: {e}", path.display()));
    require("dockerd");
    let others = dockerd_pids();
    assert!(
        others.is_empty(),
        "another dockerd runs on this machine (pids {others:?}); these tests read the real \
         /proc and would judge it instead of their private dockerd: stop it first"
    );
    Exclusive {
        _file: file,
        _thread: thread,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Net {
    /// The host's network namespace, `--iptables=false`.
    Host,
    /// A new network namespace (`unshare --net`), iptables on: icc=false is accepted.
    Private,
}

/// A private dockerd's directory and, while it runs, its process.
struct Sandbox {
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Sandbox {
    /// A sandbox whose daemon.json holds `settings` (plus the key path), written a minute ago.
    fn new(settings: Value) -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("dh-")
            .tempdir_in("/tmp")
            .unwrap();
        let sandbox = Sandbox { dir, child: None };
        sandbox.write_daemon_json(settings);
        sandbox.backdate_daemon_json();
        sandbox
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn config(&self) -> PathBuf {
        self.path("daemon.json")
    }

    fn socket(&self) -> PathBuf {
        self.path("sock")
    }

    /// `unix://D/sock`
    fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    fn log_path(&self) -> PathBuf {
        self.path("dockerd.log")
    }

    fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Writes D/daemon.json: `settings` and the trust key path that keeps dockerd 20.10 out of
    /// the real /etc/docker.
    fn write_daemon_json(&self, settings: Value) {
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
    fn backdate_daemon_json(&self) {
        fs::File::options()
            .write(true)
            .open(self.config())
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(60))
            .unwrap();
    }

    fn daemon_json_mtime(&self) -> SystemTime {
        fs::metadata(self.config()).unwrap().modified().unwrap()
    }

    fn command(&self, net: Net, extra: &[&str]) -> Command {
        let dockerd = require("dockerd");
        let mut cmd = match net {
            Net::Host => Command::new(&dockerd),
            Net::Private => {
                let mut cmd = Command::new(require("unshare"));
                cmd.arg("--net").arg(&dockerd);
                cmd
            }
        };
        let p = |name: &str| self.path(name).display().to_string();
        cmd.args(["--data-root", &p("data")])
            .args(["--exec-root", &p("exec")])
            .args(["-H", &self.host()])
            .args(["--pidfile", &p("pid")])
            .arg("--bridge=none");
        if net == Net::Host {
            cmd.arg("--iptables=false");
        }
        cmd.args(extra).args(["--config-file", &p("daemon.json")]);
        cmd
    }

    /// Starts dockerd; `extra` flags go before `--config-file D/daemon.json`.
    fn spawn(&mut self, net: Net, extra: &[&str]) {
        assert!(self.child.is_none(), "dockerd already runs in this sandbox");
        let mut log = fs::File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        writeln!(log, "=== starting dockerd ({net:?}, extra flags {extra:?})").unwrap();
        let child = self
            .command(net, extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start dockerd: {e}"));
        self.child = Some(child);
    }

    /// Starts dockerd and waits until its API answers; returns its pid.
    fn start(&mut self, net: Net, extra: &[&str]) -> u32 {
        self.spawn(net, extra);
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
    fn start_refused(&mut self, net: Net, extra: &[&str]) -> (ExitStatus, String) {
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

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("dockerd is not running").id()
    }

    /// SIGTERM, then SIGKILL after STOP_TIMEOUT; waits for the process either way.
    fn stop(&mut self) {
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
    fn docker(&self, args: &[&str]) -> Output {
        self.docker_cmd(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run docker: {e}"))
    }

    fn docker_cmd(&self, args: &[&str]) -> Command {
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
    fn docker_ok(&self, args: &[&str]) -> String {
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
    fn info(&self) -> Value {
        serde_json::from_str(&self.docker_ok(&["info", "--format", "{{json .}}"])).unwrap()
    }

    /// `tar -C D/tree -c . | docker import - dh-busybox`: an image holding only a static
    /// /bin/busybox (FROM scratch; no registry needed).
    fn import_busybox(&self) {
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

    fn engine(&self) -> BollardEngine {
        BollardEngine::new(Some(self.host()))
    }

    /// Mount points dockerd may leave under D (it bind-mounts its data root onto itself).
    fn unmount_all(&self) {
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
fn ping(socket: &Path) -> bool {
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

fn live_settings() -> Settings {
    Settings {
        rootfs: RootFs::host(),
        live: true,
        playbook: Playbook::default_playbook().unwrap(),
        paint: Paint { enabled: false },
    }
}

fn recording_runner() -> RecordingRunner {
    RecordingRunner::new()
        .answer("auditctl -l", Ok(CommandOutput::ok("No rules\n")))
        .answer(
            "auditctl -s",
            Ok(CommandOutput::ok("enabled 1\nfailure 1\npid 612\n")),
        )
}

/// Calls that would change the host had they run for real.
fn acting_calls(runner: &RecordingRunner) -> Vec<String> {
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

/// `check --format json --only ONLY` through dispatch, live, engine at the sandbox's socket.
fn check(sandbox: &Sandbox, only: &[&str]) -> Run {
    let settings = live_settings();
    let runner = recording_runner();
    let engine = sandbox.engine();
    let command = Cmd::Check(CheckArgs {
        selectors: Selectors {
            only: only.iter().map(|s| s.to_string()).collect(),
            skip: Vec::new(),
        },
        format: Format::Json,
        output: None,
    });
    let mut out = Vec::new();
    let mut err = Vec::new();
    let result = {
        let mut env = Env {
            settings: &settings,
            runner: &runner,
            engine: &engine,
            out: &mut out,
            err: &mut err,
        };
        dispatch(&mut env, &command)
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            writeln!(err, "docker-harden: error: {e}").unwrap();
            e.exit_code()
        }
    };
    let run = Run {
        code,
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err).unwrap(),
    };
    assert!(run.code == 0 || run.code == 1, "check failed: {run:?}");
    assert_eq!(
        acting_calls(&runner),
        Vec::<String>::new(),
        "check acted on the host"
    );
    run
}

fn gather(sandbox: &Sandbox) -> Facts {
    let settings = live_settings();
    let runner = recording_runner();
    let engine = sandbox.engine();
    let sources = Sources {
        rootfs: settings.rootfs.clone(),
        live: Some(LiveSources {
            runner: &runner,
            engine: &engine,
        }),
    };
    let facts = Facts::gather(&sources, &settings.playbook).unwrap();
    assert_eq!(acting_calls(&runner), Vec::<String>::new());
    facts
}

/// Status and evidence of one item, for messages.
fn item(run: &Run, id: &str) -> (String, String) {
    (run.status(id), run.evidence(id))
}

// ---------------------------------------------------------------------------------------------
// 1. Facts from the real API

#[test]
fn facts_come_from_the_running_private_dockerd_and_its_api() {
    let _serial = exclusive();
    let mut sandbox = Sandbox::new(json!({}));
    let pid = sandbox.start(Net::Host, &[]);

    let facts = gather(&sandbox);
    let running = facts
        .daemon
        .running
        .as_ref()
        .expect("no running dockerd found");
    assert_eq!(running.pid, pid, "the facts judged another process");
    assert!(running.started_ns.is_some());
    assert_eq!(facts.daemon.config_file, sandbox.config());
    assert_eq!(facts.daemon.data_root, sandbox.path("data"));
    assert_eq!(facts.daemon.api_socket, sandbox.socket());

    let info = match &facts.daemon.engine {
        Some(Ok(info)) => info.clone(),
        other => panic!("the Docker API was not asked or failed: {other:?}"),
    };
    let server = sandbox.docker_ok(&["version", "--format", "{{.Server.Version}}"]);
    assert!(!info.server_version.is_empty());
    assert_eq!(info.server_version, server.trim());
    // Pinned at 1.41 and negotiated with the daemon: what the daemon speaks (1.41 on 20.10).
    let api = sandbox.docker_ok(&["version", "--format", "{{.Server.APIVersion}}"]);
    assert_eq!(info.api_version, api.trim());
    assert_eq!(info.logging_driver, "json-file");
    assert!(!info.live_restore);
    assert_eq!(
        info.docker_root_dir,
        sandbox.path("data").display().to_string()
    );

    let run = check(&sandbox, &["2.15"]);
    run.code(1);
    assert_eq!(run.status("2.15"), "WARN", "{:?}", item(&run, "2.15"));
    assert!(
        run.evidence("2.15")
            .contains("live-restore is false (not set: dockerd's default)"),
        "{:?}",
        item(&run, "2.15")
    );
    assert_eq!(run.json()["live"], true);
}

#[test]
fn live_restore_in_the_config_file_is_reported_by_the_api_and_passes() {
    let _serial = exclusive();
    let mut sandbox = Sandbox::new(json!({"live-restore": true}));
    sandbox.start(Net::Host, &[]);

    let facts = gather(&sandbox);
    let info = facts.daemon.engine_info().expect("the Docker API answered");
    assert!(info.live_restore, "{info:?}");
    assert_eq!(sandbox.info()["LiveRestoreEnabled"], true);

    let run = check(&sandbox, &["2.15"]);
    run.code(0);
    assert_eq!(run.status("2.15"), "PASS", "{:?}", item(&run, "2.15"));
    let want = format!("live-restore is true (in {})", sandbox.config().display());
    assert_eq!(run.evidence("2.15"), want);
}

// ---------------------------------------------------------------------------------------------
// 2. Effective configuration: the running dockerd's flags, in both forms

fn log_level_flag_counts(extra: &[&str], raw: &str) {
    let _serial = exclusive();
    // Set only in the config file the running dockerd was given: proves --config-file is
    // followed (the real /etc/docker/daemon.json does not say so).
    let mut sandbox = Sandbox::new(json!({"no-new-privileges": true}));
    let pid = sandbox.start(Net::Host, extra);

    let run = check(&sandbox, &["2.3", "2.14"]);
    run.code(1);
    let (status, evidence) = item(&run, "2.3");
    assert_eq!(status, "WARN", "{evidence}");
    let want = format!("log-level is warn ({raw} on the running dockerd (pid {pid})); want info");
    assert_eq!(evidence, want);

    let (status, evidence) = item(&run, "2.14");
    assert_eq!(status, "PASS", "{evidence}");
    assert_eq!(
        evidence,
        format!(
            "no-new-privileges is true (in {})",
            sandbox.config().display()
        )
    );
}

#[test]
fn log_level_flag_with_equals_sign_is_the_running_dockerds() {
    log_level_flag_counts(&["--log-level=warn"], "--log-level=warn");
}

#[test]
fn log_level_flag_with_separate_value_is_the_running_dockerds() {
    log_level_flag_counts(&["--log-level", "warn"], "--log-level warn");
}

// ---------------------------------------------------------------------------------------------
// 3. Pending restart

#[test]
fn daemon_json_changed_after_start_is_pending_until_dockerd_restarts() {
    let _serial = exclusive();
    let mut sandbox = Sandbox::new(json!({}));
    // icc=false needs iptables: a private network namespace (see the module docs).
    let first = sandbox.start(Net::Private, &[]);
    let run = check(&sandbox, &["2.2"]);
    assert_eq!(run.status("2.2"), "WARN", "{:?}", item(&run, "2.2"));
    assert!(
        run.evidence("2.2").contains("icc is true"),
        "{:?}",
        item(&run, "2.2")
    );

    std::thread::sleep(Duration::from_millis(1100));
    sandbox.write_daemon_json(json!({"icc": false}));
    let run = check(&sandbox, &["2.2"]);
    run.code(1);
    let (status, evidence) = item(&run, "2.2");
    assert_eq!(status, "WARN", "{evidence}");
    assert_eq!(run.item("2.2")["pending_restart"], true);
    assert_eq!(
        evidence,
        format!(
            "icc is false (in {}) but the running dockerd does not use it yet: pending restart",
            sandbox.config().display()
        )
    );

    sandbox.stop();
    // The tool dates dockerd's start from /proc/stat's whole-second btime, up to a second early
    // (see daemon_json_written_just_before_dockerd_started_is_not_pending): start dockerd more
    // than a second after the write, as an operator's restart would.
    let written = sandbox.daemon_json_mtime();
    while SystemTime::now() < written + Duration::from_millis(1100) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let second = sandbox.start(Net::Private, &[]);
    assert_ne!(first, second);
    let run = check(&sandbox, &["2.2"]);
    run.code(0);
    let (status, evidence) = item(&run, "2.2");
    assert_eq!(status, "PASS", "{evidence}");
    assert!(run.item("2.2").get("pending_restart").is_none());
    assert_eq!(
        evidence,
        format!("icc is false (in {})", sandbox.config().display())
    );
}

/// A daemon.json written a moment before dockerd starts (as `fix` then `systemctl restart
/// docker` do) is in effect: /proc/stat's btime alone is whole seconds and would say pending.
#[test]
fn daemon_json_written_just_before_dockerd_started_is_not_pending() {
    let _serial = exclusive();
    let mut sandbox = Sandbox::new(json!({}));
    // Written now, not backdated, and dockerd started at once: as `fix` then
    // `systemctl restart docker` do.
    sandbox.write_daemon_json(json!({"no-new-privileges": true}));
    sandbox.start(Net::Host, &[]);
    let run = check(&sandbox, &["2.14"]);
    // The running dockerd does use the setting.
    sandbox.import_busybox();
    assert_no_new_privs(&sandbox, &[]);
    let (status, evidence) = item(&run, "2.14");
    assert_eq!(status, "PASS", "{evidence}");
    assert!(!evidence.contains("pending"), "{evidence}");
}

// ---------------------------------------------------------------------------------------------
// 4. What dockerd 20.10 accepts in daemon.json

#[test]
fn dockerd_refuses_an_unknown_daemon_json_key() {
    let _serial = exclusive();
    let mut sandbox = Sandbox::new(json!({"no-such-key": true}));
    let (status, log) = sandbox.start_refused(Net::Host, &[]);
    assert!(!status.success(), "dockerd exited {status}\n{log}");
    assert!(
        log.contains("the following directives don't match any configuration option: no-such-key"),
        "{log}"
    );
    assert!(
        log.contains(&sandbox.config().display().to_string()),
        "{log}"
    );
}

#[test]
fn daemon_json_written_by_fix_for_a_fresh_host_is_accepted_by_dockerd() {
    let _serial = exclusive();
    // The tool writes it on a fixture root, never on "/".
    let host = Host::debian12();
    let fix = host.run(&["fix", "--yes"]);
    assert!(fix.code == 0 || fix.code == 1, "{fix:?}");
    let written: Value = serde_json::from_str(&host.read("/etc/docker/daemon.json")).unwrap();
    for (key, want) in [
        ("icc", json!(false)),
        ("live-restore", json!(true)),
        ("no-new-privileges", json!(true)),
        ("userland-proxy", json!(false)),
        ("log-driver", json!("syslog")),
    ] {
        assert_eq!(written[key], want, "{key} in {written:#}");
    }
    assert!(
        written["log-opts"]["syslog-address"].is_string(),
        "{written:#}"
    );

    // The whole file, icc and the syslog options included (iptables is on in the private
    // network namespace; the syslog driver connects only when a container logs).
    let mut sandbox = Sandbox::new(written.clone());
    sandbox.start(Net::Private, &[]);
    let info = sandbox.info();
    assert_eq!(info["LiveRestoreEnabled"], true, "{info:#}");
    assert_eq!(info["LoggingDriver"], "syslog", "{info:#}");
    // dockerd 20.10 does not list no-new-privileges in `docker info`; a container shows it
    // (--log-driver none: nothing listens for syslog in the namespace).
    sandbox.import_busybox();
    assert_no_new_privs(&sandbox, &["--log-driver", "none"]);
    // userland-proxy and icc are not in `docker info`; docker-harden reads them from the file
    // the running dockerd was given, and the API for what it reports.
    let run = check(&sandbox, &["2.2", "2.3", "2.14", "2.15", "2.16"]);
    for id in ["2.2", "2.3", "2.14", "2.15", "2.16"] {
        assert_eq!(run.status(id), "PASS", "{id}: {:?}", item(&run, id));
    }
}

// ---------------------------------------------------------------------------------------------
// 5. A container from a FROM-scratch image

/// Whether an ELF executable asks for a program interpreter (is dynamically linked).
fn elf_has_interpreter(bytes: &[u8]) -> bool {
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

#[test]
fn busybox_from_scratch_runs_on_the_private_dockerd() {
    let _serial = exclusive();
    let mut sandbox = Sandbox::new(json!({}));
    sandbox.start(Net::Host, &[]);
    sandbox.import_busybox();
    let images = sandbox.docker_ok(&["images", "--format", "{{.Repository}}"]);
    assert_eq!(images.trim(), "dh-busybox");

    let out = sandbox.docker_ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "dh-busybox",
        "/bin/busybox",
        "echo",
        "ok",
    ]);
    assert_eq!(out, "ok\n");
    let left = sandbox.docker_ok(&["ps", "-a", "-q"]);
    assert_eq!(left, "", "--rm left containers behind");
}

/// A container started now has no_new_privs set by the daemon-wide default.
fn assert_no_new_privs(sandbox: &Sandbox, extra: &[&str]) {
    let mut args = vec!["run", "--rm", "--network", "none"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[
        "dh-busybox",
        "/bin/busybox",
        "grep",
        "NoNewPrivs",
        "/proc/self/status",
    ]);
    let status = sandbox.docker_ok(&args);
    assert_eq!(
        status.split_whitespace().collect::<Vec<_>>(),
        ["NoNewPrivs:", "1"]
    );
}
