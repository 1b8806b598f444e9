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
//! pointed at the private socket. The facts judge the dockerd serving the socket they ask, so
//! other dockerds may run on the machine meanwhile (.ci/run keeps a decoy system dockerd on
//! /var/run/docker.sock for the whole `cargo test` to prove it); the tests that start dockerds
//! still run one at a time (a mutex and a file lock), to keep the machine's load and the
//! timeouts sane. Nothing writes outside D and the tempdir of a `--root` fixture (except the container
//! shim's socket, which containerd always puts in /run/containerd/s and removes when the
//! container exits); `fix` never runs against "/".
//!
//! dockerd missing is a failure, not a skip: CI must install `docker.io busybox-static`.
//! The harness itself lives in tests/suite/common/dockerd.rs (shared with tests/suite/containers.rs).

use crate::common;

use std::time::{Duration, SystemTime};

use common::dockerd::*;
use common::{Host, Run};
use docker_harden::cli::flags::Command as Cmd;
use docker_harden::commands::args::{CheckArgs, Format, Selectors};
use docker_harden::engine::{Engine, EngineInfo};
use docker_harden::error::EngineError;
use docker_harden::facts::{Facts, LiveSources, Sources};
use serde_json::{Value, json};

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
        containers: Default::default(),
        format: Format::Json,
        output: None,
    });
    let run = common::dispatch(&settings, &runner, &engine, &command);
    assert!(run.code == 0 || run.code == 1, "check failed: {run:?}");
    assert_eq!(
        acting_calls(&runner),
        Vec::<String>::new(),
        "check acted on the host"
    );
    run
}

fn gather(sandbox: &Sandbox) -> Facts {
    gather_with(&sandbox.engine())
}

/// The system daemon's facts, live, asking `engine`.
fn gather_with(engine: &dyn Engine) -> Facts {
    let settings = live_settings();
    let runner = recording_runner();
    let sources = Sources {
        rootfs: settings.rootfs.clone(),
        live: Some(LiveSources {
            runner: &runner,
            engine,
            containers: None,
        }),
    };
    let facts = Facts::gather(
        &sources,
        &settings.playbook.variables,
        &docker_harden::daemons::Daemon::System,
    )
    .unwrap();
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
// 1b. Which dockerd: the one serving the socket asked at

/// Issue 9, item 12: with several dockerds on one machine (a CI runner's, docker-in-docker),
/// the facts judge the one serving the socket the engine is asked at, with its own flags and
/// daemon.json, wherever it comes in /proc; with nothing serving it, they say so and judge no
/// other dockerd in its place.
#[test]
fn each_of_several_dockerds_is_judged_at_its_own_socket() {
    let _serial = exclusive();
    let mut first = Sandbox::new(json!({"log-level": "debug"}));
    let first_pid = first.start(Net::Host, &[]);
    let mut second = Sandbox::new(json!({"log-level": "warn"}));
    let second_pid = second.start(Net::Host, &[]);
    // Socket activation (`-H fd://`): no flag names the socket; only dockerd's descriptors
    // say it serves it.
    let mut activated = Sandbox::new(json!({"log-level": "error"}));
    let activated_pid = activated.start_activated(&[]);

    for (sandbox, pid, level) in [
        (&first, first_pid, "debug"),
        (&second, second_pid, "warn"),
        (&activated, activated_pid, "error"),
    ] {
        let facts = gather(sandbox);
        let running = facts.daemon.running.as_ref().unwrap_or_else(|| {
            panic!(
                "no dockerd found at {}: {:?}",
                sandbox.host(),
                facts.daemon.not_running
            )
        });
        assert_eq!(
            running.pid,
            pid,
            "the facts judged another dockerd than the one at {}",
            sandbox.host()
        );
        assert_eq!(facts.daemon.not_running, None);
        assert_eq!(facts.daemon.config_file, sandbox.config());
        assert_eq!(facts.daemon.data_root, sandbox.path("data"));

        let run = check(sandbox, &["2.3"]);
        let evidence = run.evidence("2.3");
        assert!(
            evidence.contains(&format!("log-level is {level}"))
                && evidence.contains(&sandbox.config().display().to_string()),
            "{evidence}"
        );
        assert_eq!(run.json()["daemons"][0]["pid"], pid);
        assert_documented(&run.json());
    }

    first.stop();
    let facts = gather(&first);
    assert!(facts.daemon.running.is_none(), "{:?}", facts.daemon.running);
    let why = facts.daemon.not_running.clone().unwrap_or_default();
    assert!(
        why.starts_with(&format!("no dockerd serves {}", first.socket().display())),
        "{why}"
    );
    let run = check(&first, &["2.3"]);
    assert_eq!(run.json()["daemons"][0]["running"], false);
    assert_eq!(run.json()["daemons"][0]["not_running"], why.as_str());
    assert_documented(&run.json());
}

/// The report is what docs/report-schema.json says, its live-only fields included.
fn assert_documented(report: &Value) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/report-schema.json"
    ))
    .unwrap();
    let validator = jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// Asks nothing; says the socket it stands for. For a socket no dockerd answers on.
struct Unasked(std::path::PathBuf);

impl Engine for Unasked {
    fn info(&self, _socket: &str) -> Result<EngineInfo, EngineError> {
        Err(EngineError::NoAnswer {
            socket: self.0.display().to_string(),
            reason: "not asked".into(),
        })
    }

    fn local_socket(&self, _socket: &str) -> Option<std::path::PathBuf> {
        Some(self.0.clone())
    }
}

/// Kills the process (as root, whatever its user) when the test ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Anyone can name a process dockerd. One that is not root, even holding root's listening
/// socket (bound by root, inherited), is never judged as the system daemon.
#[test]
fn a_process_named_dockerd_that_is_not_root_is_not_the_system_daemon() {
    use std::os::unix::fs::PermissionsExt;
    // Not a dockerd, but `check` on this machine would list its user as a rootless daemon
    // while it runs: the other tests are kept out.
    let _serial = exclusive();
    let sandbox = Sandbox::new(json!({}));
    std::fs::set_permissions(sandbox.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let impostor = sandbox.path("dockerd");
    std::fs::copy(require("sleep"), &impostor).unwrap();
    const NOBODY: u32 = 65534;
    let child = std::process::Command::new(require("systemd-socket-activate"))
        .arg("-l")
        .arg(sandbox.socket())
        .arg(require("setpriv"))
        .args([
            format!("--reuid={NOBODY}"),
            format!("--regid={NOBODY}"),
            "--clear-groups".into(),
        ])
        .arg(&impostor)
        .arg("300")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start systemd-socket-activate");
    let child = KillOnDrop(child);
    let pid = child.0.id();
    // systemd-socket-activate binds the socket as root, then execs at the first connection
    // (keeping its pid): setpriv, then the impostor, which holds the listening socket.
    let deadline = std::time::Instant::now() + READY_TIMEOUT;
    let mut connection = None;
    while std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .as_deref()
        != Some("dockerd\n")
    {
        if connection.is_none() {
            connection = std::os::unix::net::UnixStream::connect(sandbox.socket()).ok();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the impostor did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let meta = std::fs::metadata(sandbox.socket()).unwrap();
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&meta),
        0,
        "root's socket"
    );

    let facts = gather_with(&Unasked(sandbox.socket()));
    assert!(facts.daemon.running.is_none(), "{:?}", facts.daemon.running);
    assert_eq!(
        facts.daemon.not_running,
        Some(format!(
            "{} is served by a process named dockerd (pid {pid}) running as uid {NOBODY}, not as root: it is not the system daemon",
            sandbox.socket().display()
        ))
    );
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
fn dockerd_refuses_a_boolean_flag_with_a_spaced_value_as_the_parser_says() {
    let _serial = exclusive();
    let mut sandbox = Sandbox::new(json!({}));
    let args = ["--icc", "false", "--dns", "8.8.8.8"];
    let (status, log) = sandbox.start_refused(Net::Host, &args);
    assert!(!status.success(), "dockerd exited {status}\n{log}");
    assert!(log.contains("\"dockerd\" accepts no argument(s)"), "{log}");
    // docker-harden reads the same words the same way, and moving the flag takes the stray
    // word with it.
    let mut words: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let parsed = docker_harden::daemon_flags::parse_dockerd_args(&words);
    assert_eq!(parsed.bool_values, vec![(0, "false".to_string())]);
    let icc: Vec<&docker_harden::daemon_flags::Flag> =
        parsed.flags.iter().filter(|f| f.name == "icc").collect();
    assert!(docker_harden::kinds::flag_move::remove_flags(
        &mut words, &icc
    ));
    assert_eq!(words, ["--dns", "8.8.8.8"]);
}

#[test]
fn dockerd_refuses_the_syslog_addresses_a_playbook_cannot_hold() {
    let _serial = exclusive();
    for address in [
        "tcp//127.0.0.1:514",
        "TCP://127.0.0.1:514",
        "127.0.0.1:514",
        "ftp://x:1",
        "tcp://host:abc",
    ] {
        assert!(
            address
                .parse::<docker_harden::vocabulary::SyslogAddress>()
                .is_err(),
            "{address}"
        );
        let mut sandbox = Sandbox::new(json!({
            "log-driver": "syslog",
            "log-opts": {"syslog-address": address},
        }));
        let (status, log) = sandbox.start_refused(Net::Host, &[]);
        assert!(
            !status.success(),
            "{address}: dockerd exited {status}\n{log}"
        );
        assert!(log.contains("failed to set log opts"), "{address}: {log}");
    }
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
