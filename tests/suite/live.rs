//! Live-host behaviour, driven through the library with `live: true` over a fixture root: the
//! runner and engine seams are scripted, /proc is faked under the root, and nothing here runs a
//! real command or asks a real dockerd.

use crate::common;

use std::fs;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Host, Run, changed};
use docker_harden::cli::flags::Command;
use docker_harden::commands::args::{
    CheckArgs, DiffArgs, FixArgs, Format, RollbackArgs, Selectors,
};
use docker_harden::engine::{Engine, EngineInfo, FixedEngine};
use docker_harden::error::{CommandError, EngineError};
use docker_harden::rootfs::RootFs;
use docker_harden::runner::{CommandOutput, RecordingRunner};
use docker_harden::settings::Settings;
use serde_json::Value;

pub(crate) const AUDIT_STATUS_ENABLED: &str =
    "enabled 1\nfailure 1\npid 612\nrate_limit 0\nbacklog_limit 8192\nlost 0\nbacklog 0\n";
const AUDIT_STATUS_LOCKED: &str =
    "enabled 2\nfailure 1\npid 612\nrate_limit 0\nbacklog_limit 8192\nlost 0\nbacklog 0\n";
const OWN_RULES: &str = "/etc/audit/rules.d/50-docker-harden.rules";
const DOCKERD_PID: u32 = 4242;
/// A fixed, whole-second time for daemon.json's mtime (2023-11-14T22:13:20Z).
pub(crate) const JSON_MTIME: u64 = 1_700_000_000;

pub(crate) fn settings_over(host: &Host, live: bool) -> Settings {
    if live {
        common::settings(None).with_rootfs(RootFs::new(host.root()).unwrap())
    } else {
        common::settings(Some(host.root()))
    }
}

/// A fake dockerd that answers like `before` until it is restarted or reloaded through the
/// runner, and afterwards with what daemon.json then says (a restart that went well).
struct Restarting<'a> {
    before: &'a dyn Engine,
    runner: &'a RecordingRunner,
    daemon_json: std::path::PathBuf,
}

impl Engine for Restarting<'_> {
    fn info(&self, socket: &str) -> Result<EngineInfo, EngineError> {
        let mut info = self.before.info(socket)?;
        let restarted = self
            .runner
            .calls()
            .iter()
            .any(|c| c == "systemctl restart docker" || c == "systemctl reload docker");
        if restarted {
            let json: Value = fs::read_to_string(&self.daemon_json)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(Value::Null);
            info.live_restore = json["live-restore"].as_bool().unwrap_or(false);
            info.logging_driver = json["log-driver"]
                .as_str()
                .unwrap_or("json-file")
                .to_string();
        }
        Ok(info)
    }
}

pub(crate) fn run(
    settings: &Settings,
    runner: &RecordingRunner,
    engine: &dyn Engine,
    command: &Command,
) -> Run {
    let engine = Restarting {
        before: engine,
        runner,
        daemon_json: settings.rootfs.root().join("etc/docker/daemon.json"),
    };
    common::dispatch(settings, runner, &engine, command)
}

fn selectors(only: &[&str]) -> Selectors {
    Selectors {
        only: only.iter().map(|s| s.to_string()).collect(),
        skip: Vec::new(),
    }
}

pub(crate) fn check(only: &[&str]) -> Command {
    Command::Check(CheckArgs {
        selectors: selectors(only),
        containers: Default::default(),
        format: Format::Json,
        output: None,
    })
}

fn check_text(only: &[&str]) -> Command {
    Command::Check(CheckArgs {
        selectors: selectors(only),
        containers: Default::default(),
        format: Format::Text,
        output: None,
    })
}

pub(crate) fn diff(only: &[&str]) -> Command {
    Command::Diff(DiffArgs {
        selectors: selectors(only),
    })
}

pub(crate) fn fix_yes(only: &[&str]) -> Command {
    Command::Fix(FixArgs {
        selectors: selectors(only),
        yes: true,
        health_timeout: 0,
        allow_container_restart: false,
        skip_preflight: false,
    })
}

pub(crate) fn ok(stdout: &str) -> Result<CommandOutput, CommandError> {
    Ok(CommandOutput::ok(stdout))
}

/// auditctl answering with these loaded rules and this status.
pub(crate) fn auditctl(list: &str, status: &str) -> RecordingRunner {
    RecordingRunner::new()
        .answer("auditctl -l", ok(list))
        .answer("auditctl -s", ok(status))
        .answer("systemctl is-active docker", ok("active\n"))
}

/// The calls that act on the host (not the read-only probes: auditctl -l and -s, the health
/// check's `systemctl is-active`, the syslog listener probe, the journal, dockerd's version
/// and its validation of a copy).
pub(crate) fn service_calls(runner: &RecordingRunner) -> Vec<String> {
    runner
        .calls()
        .into_iter()
        .filter(|c| {
            !(c == "auditctl -l"
                || c == "auditctl -s"
                || c.starts_with("systemctl is-active")
                || c.starts_with("tcp-connect")
                || c.starts_with("journalctl")
                || c.ends_with("dockerd --version")
                || c.contains("dockerd --validate "))
        })
        .collect()
}

pub(crate) fn engine(logging_driver: &str, live_restore: bool) -> FixedEngine {
    FixedEngine(Ok(EngineInfo {
        server_version: "24.0.7".into(),
        api_version: "1.41".into(),
        logging_driver: logging_driver.into(),
        live_restore,
        storage_driver: "overlay2".into(),
        docker_root_dir: "/var/lib/docker".into(),
        security_options: vec!["name=seccomp,profile=builtin".into()],
        swarm_active: false,
        swarm: Default::default(),
        containers_running: 0,
    }))
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn clock_ticks() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .filter(|t| *t > 0)
        .map(|t| t as u64)
        .unwrap_or(100)
}

/// A fake /proc under the root: pid 1 (systemd) and, with `argv`, a dockerd at DOCKERD_PID serving
/// /var/run/docker.sock, started at `started` (whole seconds since the epoch). The machine booted a day before.
pub(crate) fn fake_proc(host: Host, argv: Option<&[&str]>, started: u64) -> Host {
    let uptime = 86_400;
    let btime = started - uptime;
    let ticks = uptime * clock_ticks();
    let stat_line = |pid: u32, comm: &str, start: u64| {
        format!(
            "{pid} ({comm}) S 1 {pid} {pid} 0 -1 4194560 28871 541220 113 2207 1204 977 6107 \
             3185 20 0 24 0 {start} 2409205760 19453 18446744073709551615 1 1 0 0 0 0 \
             1006254591 4096 1260 0 0 0 17 3 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
        )
    };
    let mut host = host
        .file(
            "/proc/stat",
            &format!(
                "cpu  10132153 290696 3084719 46828483 16683 0 25195 0 0 0\n\
                 intr 1462898 0 9 0 0 0\nctxt 115315133\nbtime {btime}\n\
                 processes 86031\nprocs_running 1\nprocs_blocked 0\n"
            ),
        )
        .file("/proc/1/comm", "systemd\n")
        .bytes("/proc/1/cmdline", b"/sbin/init\0splash\0")
        .file("/proc/1/stat", &stat_line(1, "systemd", 3));
    if let Some(argv) = argv {
        let mut cmdline = Vec::new();
        for arg in argv {
            cmdline.extend_from_slice(arg.as_bytes());
            cmdline.push(0);
        }
        let pid = DOCKERD_PID;
        host = host
            .file(&format!("/proc/{pid}/comm"), "dockerd\n")
            .bytes(&format!("/proc/{pid}/cmdline"), &cmdline)
            .file(
                &format!("/proc/{pid}/stat"),
                &stat_line(pid, "dockerd", ticks),
            )
            // systemd's docker.socket, handed to dockerd (`-H fd://`).
            .serving(pid, 0, "/var/run/docker.sock");
    }
    host
}

/// Debian's dockerd as its unit starts it.
pub(crate) const DEBIAN_DOCKERD: &[&str] = &["/usr/sbin/dockerd", "-H", "fd://"];
/// RHEL's dockerd with /etc/sysconfig/docker's OPTIONS.
const RHEL_DOCKERD: &[&str] = &[
    "/usr/bin/dockerd",
    "--host=fd://",
    "--selinux-enabled",
    "--default-ulimit",
    "nofile=1024:1024",
];

fn set_mtime(host: &Host, host_path: &str, secs: u64) {
    let file = fs::File::options()
        .write(true)
        .open(host.path(host_path))
        .unwrap();
    file.set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

fn mtime_secs(host: &Host, host_path: &str) -> u64 {
    unix_secs(
        fs::metadata(host.path(host_path))
            .unwrap()
            .modified()
            .unwrap(),
    )
}

/// The watches in our rules file, as `auditctl -l` lists them once loaded.
fn loaded_listing(host: &Host) -> String {
    host.read(OWN_RULES)
        .lines()
        .filter(|l| l.starts_with("-w "))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// A daemon.json with `content`, last modified at JSON_MTIME.
pub(crate) fn with_daemon_json(host: Host, content: &str) -> Host {
    let host = host.file("/etc/docker/daemon.json", content);
    set_mtime(&host, "/etc/docker/daemon.json", JSON_MTIME);
    host
}

// ---------------------------------------------------------------------------------------------
// 1. Services after `fix --yes`

#[test]
fn debian_fix_loads_rules_then_restarts_rsyslog_then_docker_once_each() {
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME - 3600);
    let settings = settings_over(&host, true);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let run = run(
        &settings,
        &runner,
        &engine("json-file", false),
        &fix_yes(&[]),
    );
    run.code(1)
        // live-restore asks for a reload, which the docker restart covers.
        .stdout_has("afterwards: reload dockerd (SIGHUP)")
        .stdout_has("audit watch(es) with auditctl -w")
        .stdout_has("ran `systemctl restart rsyslog`")
        .stdout_has("ran `systemctl restart docker`");
    // Each missing watch is loaded by itself (no augenrules: it would rewrite audit.rules),
    // then rsyslog, then docker, each once.
    let calls = service_calls(&runner);
    let loads: Vec<&String> = calls
        .iter()
        .take_while(|c| c.starts_with("auditctl -w "))
        .collect();
    assert!(
        loads.contains(&&"auditctl -w /usr/sbin/dockerd -p wa -k docker".to_string()),
        "{calls:?}"
    );
    assert!(
        loads.contains(&&"auditctl -w /etc/docker/daemon.json -p wa -k docker".to_string()),
        "{calls:?}"
    );
    let unique: std::collections::BTreeSet<&&String> = loads.iter().collect();
    assert_eq!(unique.len(), loads.len(), "{calls:?}");
    assert_eq!(
        calls[loads.len()..],
        ["systemctl restart rsyslog", "systemctl restart docker"],
        "{calls:?}"
    );
    assert!(host.exists(OWN_RULES));
    // Every path went under the root: the fixture's daemon.json was created there.
    assert!(
        host.read("/etc/docker/daemon.json")
            .contains("\"icc\": false")
    );
}

#[test]
fn rhel_with_locked_audit_rules_loads_nothing_and_says_next_boot() {
    let host = fake_proc(Host::rhel9(), Some(RHEL_DOCKERD), JSON_MTIME - 3600);
    let settings = settings_over(&host, true);
    let loaded = "-w /etc/passwd -p wa -k identity\n\
                  -a always,exit -F arch=b64 -S adjtimex,settimeofday -F key=time-change\n";
    let runner = auditctl(loaded, AUDIT_STATUS_LOCKED);
    let run = run(
        &settings,
        &runner,
        &engine("journald", false),
        &fix_yes(&[]),
    );
    run.code(1).stdout_has("loaded at next boot");
    let calls = service_calls(&runner);
    assert!(
        !calls
            .iter()
            .any(|c| c.starts_with("augenrules") || c.starts_with("auditctl")),
        "a locked kernel must not be asked to load rules: {calls:?}"
    );
    assert_eq!(
        calls,
        ["systemctl restart rsyslog", "systemctl restart docker"]
    );
    // The rules are written persistently all the same, before the lock.
    let rules = host.read("/etc/audit/audit.rules");
    assert!(
        rules.contains("-w /usr/bin/dockerd -p wa -k docker"),
        "{rules}"
    );

    // check then says INFO: in the file, loaded at next boot.
    let runner = auditctl(loaded, AUDIT_STATUS_LOCKED);
    let after = run_check(&settings, &runner, &engine("syslog", true), &["1.1.3"]);
    assert_eq!(after.status("1.1.3"), "INFO", "{}", after.stdout);
    assert!(after.evidence("1.1.3").contains("locked (-e 2)"));
}

fn run_check(
    settings: &Settings,
    runner: &RecordingRunner,
    engine: &dyn Engine,
    only: &[&str],
) -> Run {
    run(settings, runner, engine, &check(only))
}

// ---------------------------------------------------------------------------------------------
// 2. Idempotence on the live path

#[test]
fn second_live_fix_changes_nothing_and_touches_no_service() {
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME - 3600);
    let settings = settings_over(&host, true);
    let first = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    run(
        &settings,
        &first,
        &engine("json-file", false),
        &fix_yes(&[]),
    )
    .code(1);
    assert!(!service_calls(&first).is_empty());

    // The kernel now has every watch written, dockerd restarted after daemon.json was written
    // and reports the new settings.
    let listing = loaded_listing(&host);
    assert!(listing.lines().count() >= 5, "{listing}");
    let restarted = mtime_secs(&host, "/etc/docker/daemon.json") + 60;
    let host = fake_proc(host, Some(DEBIAN_DOCKERD), restarted);
    let engine = engine("syslog", true);

    let runner = auditctl(&listing, AUDIT_STATUS_ENABLED);
    let check = run_check(&settings, &runner, &engine, &[]);
    // Left: the disruptive 2.9, and report-only 2.12 (no authorization plugin) and 4.5.
    assert_eq!(check.warn_ids(), ["2.9", "2.12", "4.5"], "{}", check.stdout);

    let before = host.snapshot();
    let runner = auditctl(&listing, AUDIT_STATUS_ENABLED);
    let again = run(&settings, &runner, &engine, &fix_yes(&[]));
    again
        .code(1)
        .stdout_has("nothing to change")
        .stdout_lacks("services:")
        .stdout_lacks("ran `");
    assert_eq!(service_calls(&runner), Vec::<String>::new());
    assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// 3. Audit items on the live host

fn debian_with_dockerd_watch() -> Host {
    Host::debian12()
        .file(OWN_RULES, "-w /usr/sbin/dockerd -p wa -k docker\n")
        .mode(OWN_RULES, 0o640)
}

#[test]
fn persistent_watch_not_loaded_warns_and_fix_only_loads() {
    let host = debian_with_dockerd_watch();
    let settings = settings_over(&host, true);
    let engine = engine("json-file", false);

    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let check = run_check(&settings, &runner, &engine, &["1.1.3"]);
    check.code(1);
    assert_eq!(check.status("1.1.3"), "WARN");
    let evidence = check.evidence("1.1.3");
    assert!(
        evidence.contains(
            "/usr/sbin/dockerd: watched in /etc/audit/rules.d/50-docker-harden.rules, not loaded"
        ),
        "{evidence}"
    );

    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let diff = run(&settings, &runner, &engine, &diff(&["1.1.3"]));
    diff.code(1)
        .stdout_has("afterwards: load the audit rules into the kernel")
        .stdout_has("0 file(s) would change")
        .stdout_lacks("+++ ");
    assert_eq!(
        service_calls(&runner),
        Vec::<String>::new(),
        "diff acts on nothing"
    );

    let before = host.snapshot();
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let fix = run(&settings, &runner, &engine, &fix_yes(&["1.1.3"]));
    fix.stdout_has("loaded 1 audit watch(es) with auditctl -w")
        .stdout_lacks("changed ");
    assert_eq!(
        service_calls(&runner),
        ["auditctl -w /usr/sbin/dockerd -p wa -k docker"]
    );
    assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());
    assert!(
        !host.exists("/var/lib/docker-harden/backups"),
        "no file, no backup run"
    );
}

#[test]
fn persistent_and_loaded_watch_passes() {
    let host = debian_with_dockerd_watch();
    let settings = settings_over(&host, true);
    let engine = engine("json-file", false);
    let runner = auditctl(
        "-w /usr/sbin/dockerd -p wa -k docker\n",
        AUDIT_STATUS_ENABLED,
    );
    let check = run_check(&settings, &runner, &engine, &["1.1.3"]);
    check.code(0);
    assert_eq!(check.status("1.1.3"), "PASS");
    assert!(check.evidence("1.1.3").ends_with(", loaded"));

    let runner = auditctl(
        "-w /usr/sbin/dockerd -p wa -k docker\n",
        AUDIT_STATUS_ENABLED,
    );
    run(&settings, &runner, &engine, &fix_yes(&["1.1.3"])).stdout_has("nothing to change");
    assert_eq!(service_calls(&runner), Vec::<String>::new());
}

#[test]
fn auditctl_missing_makes_audit_items_info_not_a_crash() {
    let host = debian_with_dockerd_watch();
    let settings = settings_over(&host, true);
    let runner =
        RecordingRunner::new().answer("auditctl", Err(CommandError::Scripted("not found".into())));
    let check = run_check(&settings, &runner, &engine("json-file", false), &["1.1"]);
    assert_ne!(check.code, 2, "{}", check.stderr);
    assert_eq!(check.status("1.1.3"), "INFO");
    assert!(
        check
            .evidence("1.1.3")
            .contains("loaded rules unknown: not found"),
        "{}",
        check.evidence("1.1.3")
    );
    // The text report too, and it ran.
    let runner =
        RecordingRunner::new().answer("auditctl", Err(CommandError::Scripted("not found".into())));
    let text = run(
        &settings,
        &runner,
        &engine("json-file", false),
        &check_text(&["1.1.3"]),
    );
    text.code(0)
        .stdout_has("[INFO] 1.1.3")
        .stdout_has("loaded rules unknown: not found");

    // auditctl starts but is refused: the same, with its message.
    let runner = RecordingRunner::new().answer(
        "auditctl",
        Ok(CommandOutput::failed(
            "You must be root to run this program.\n",
        )),
    );
    let check = run_check(&settings, &runner, &engine("json-file", false), &["1.1.3"]);
    check.code(0);
    assert!(
        check
            .evidence("1.1.3")
            .contains("auditctl -l failed: You must be root"),
        "{}",
        check.evidence("1.1.3")
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Pending restart

#[test]
fn daemon_json_newer_than_running_dockerd_is_pending_restart() {
    let stale = fake_proc(
        with_daemon_json(Host::debian12(), "{\n  \"icc\": false\n}\n"),
        Some(DEBIAN_DOCKERD),
        JSON_MTIME - 3600,
    );
    let settings = settings_over(&stale, true);
    let engine = engine("json-file", false);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let check = run_check(&settings, &runner, &engine, &["2.2"]);
    check.code(1);
    assert_eq!(check.status("2.2"), "WARN");
    assert_eq!(check.item("2.2")["pending_restart"], true);
    assert!(
        check.evidence("2.2").contains("pending restart"),
        "{}",
        check.evidence("2.2")
    );

    // fix restarts docker and writes nothing.
    let before = stale.snapshot();
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    run(&settings, &runner, &engine, &fix_yes(&["2.2"]))
        .stdout_has("ran `systemctl restart docker`");
    assert_eq!(service_calls(&runner), ["systemctl restart docker"]);
    assert_eq!(changed(&before, &stale.snapshot()), Vec::<String>::new());

    // The same file with dockerd started after it was written.
    let fresh = fake_proc(
        with_daemon_json(Host::debian12(), "{\n  \"icc\": false\n}\n"),
        Some(DEBIAN_DOCKERD),
        JSON_MTIME + 3600,
    );
    let settings = settings_over(&fresh, true);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let check = run_check(&settings, &runner, &engine, &["2.2"]);
    check.code(0);
    assert_eq!(check.status("2.2"), "PASS");
    assert!(check.item("2.2").get("pending_restart").is_none());
    assert!(!check.evidence("2.2").contains("pending"));
}

#[test]
fn live_restore_configured_but_not_reported_by_engine_is_pending() {
    let host = fake_proc(
        with_daemon_json(Host::debian12(), "{\n  \"live-restore\": true\n}\n"),
        Some(DEBIAN_DOCKERD),
        // dockerd started after the file: only the engine can tell.
        JSON_MTIME + 3600,
    );
    let settings = settings_over(&host, true);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let check = run_check(&settings, &runner, &engine("json-file", false), &["2.15"]);
    check.code(1);
    assert_eq!(check.status("2.15"), "WARN");
    assert!(
        check.evidence("2.15").contains("pending restart"),
        "{}",
        check.evidence("2.15")
    );
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let check = run_check(&settings, &runner, &engine("json-file", true), &["2.15"]);
    check.code(0);
    assert_eq!(check.status("2.15"), "PASS");
}

#[test]
fn log_driver_configured_but_engine_logs_elsewhere_is_pending() {
    let host = fake_proc(
        with_daemon_json(
            Host::debian12().file(
                "/etc/rsyslog.d/60-docker-harden.conf",
                "module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n",
            ),
            "{\n  \"log-driver\": \"syslog\",\n  \"log-opts\": {\n    \"syslog-address\": \"tcp://127.0.0.1:514\"\n  }\n}\n",
        ),
        Some(DEBIAN_DOCKERD),
        JSON_MTIME + 3600,
    );
    let settings = settings_over(&host, true);
    let stale = engine("json-file", true);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let check = run_check(&settings, &runner, &stale, &["2.13"]);
    assert_eq!(check.status("2.13"), "WARN");
    assert_eq!(check.item("2.13")["pending_restart"], true);
    assert!(
        check
            .evidence("2.13")
            .contains("the running dockerd logs with json-file"),
        "{}",
        check.evidence("2.13")
    );

    // fix restarts docker only; rsyslog already receives, no file changes.
    let before = host.snapshot();
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    run(&settings, &runner, &stale, &fix_yes(&["2.13"]));
    assert_eq!(service_calls(&runner), ["systemctl restart docker"]);
    assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());

    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let check = run_check(&settings, &runner, &engine("syslog", true), &["2.13"]);
    check.code(0);
    assert_eq!(check.status("2.13"), "PASS", "{}", check.evidence("2.13"));
}

// ---------------------------------------------------------------------------------------------
// 5. The running dockerd's flags

#[test]
fn running_dockerd_icc_flag_counts() {
    let host = fake_proc(
        Host::debian12(),
        Some(&["/usr/sbin/dockerd", "-H", "fd://", "--icc=false"]),
        JSON_MTIME,
    );
    let settings = settings_over(&host, true);
    let engine = engine("json-file", false);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let check = run_check(&settings, &runner, &engine, &["2.2"]);
    let evidence = check.evidence("2.2");
    assert!(
        evidence.contains("--icc=false") && evidence.contains("running dockerd (pid 4242)"),
        "{}: {evidence}",
        check.status("2.2")
    );
    assert_eq!(check.status("2.2"), "PASS", "{evidence}");
    // Writing icc to daemon.json as well would stop dockerd at its next start with this
    // command line.
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    run(&settings, &runner, &engine, &fix_yes(&["2.2"]));
    assert!(!host.exists("/etc/docker/daemon.json"));
    assert_eq!(service_calls(&runner), Vec::<String>::new());
}

#[test]
fn running_dockerd_config_file_flag_picks_the_file() {
    let host = fake_proc(
        Host::debian12()
            .file("/etc/docker/daemon.json", "{\n  \"icc\": true\n}\n")
            .file("/etc/docker/custom.json", "{\n  \"icc\": false\n}\n"),
        Some(&[
            "/usr/sbin/dockerd",
            "-H",
            "fd://",
            "--config-file",
            "/etc/docker/custom.json",
        ]),
        unix_secs(SystemTime::now()) + 3600,
    );
    let settings = settings_over(&host, true);
    let engine = engine("json-file", false);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let check = run_check(&settings, &runner, &engine, &["2.2", "1.1.11"]);
    assert_eq!(check.status("2.2"), "PASS", "{}", check.stdout);
    assert!(
        check.evidence("2.2").contains("in /etc/docker/custom.json"),
        "{}",
        check.evidence("2.2")
    );
    // The audit item watches the file in use.
    assert!(
        check
            .evidence("1.1.11")
            .contains("/etc/docker/custom.json: no persistent audit watch"),
        "{}",
        check.evidence("1.1.11")
    );

    // A fix edits that file and leaves /etc/docker/daemon.json alone.
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    run(&settings, &runner, &engine, &fix_yes(&["2.14"]))
        .stdout_has("ran `systemctl restart docker`");
    let custom: Value = serde_json::from_str(&host.read("/etc/docker/custom.json")).unwrap();
    assert_eq!(custom["no-new-privileges"], true);
    assert_eq!(custom["icc"], false);
    assert_eq!(
        host.read("/etc/docker/daemon.json"),
        "{\n  \"icc\": true\n}\n"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. No Docker API, no dockerd

#[test]
fn unreachable_api_and_no_dockerd_still_checks() {
    let host = Host::debian12();
    let settings = settings_over(&host, true);
    let engine = FixedEngine(Err(EngineError::NoSocket {
        socket: "/var/run/docker.sock".into(),
    }));
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let check = run(&settings, &runner, &engine, &check_text(&[]));
    assert!(
        check.code == 0 || check.code == 1,
        "exit {}\n{}",
        check.code,
        check.stderr
    );
    check.stdout_has("[WARN] 2.2").stdout_has("icc is true");
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let json = run_check(&settings, &runner, &engine, &["2.2", "2.15", "2.6"]);
    assert_eq!(json.code, 1, "{}", json.stderr);
    // Judged from the configuration alone; nothing claims a pending restart.
    assert_eq!(json.item("2.15")["pending_restart"], Value::Null);
    assert_eq!(json.status("2.6"), "PASS");
}

/// A CI runner's dockerd on its own socket while the system daemon is stopped (its socket
/// file left behind): its flags are not the system daemon's, and the report says why no
/// running dockerd was judged.
#[test]
fn a_dockerd_serving_another_socket_is_not_judged_as_the_system_daemon() {
    let host = fake_proc(Host::debian12(), None, JSON_MTIME)
        .socket("/run/docker.sock", 0o660, 0, 0)
        .file(&format!("/proc/{DOCKERD_PID}/comm"), "dockerd\n")
        .bytes(
            &format!("/proc/{DOCKERD_PID}/cmdline"),
            b"/usr/sbin/dockerd\0-H\0unix:///run/ci.sock\0--icc=false\0",
        )
        .serving(DOCKERD_PID, 0, "/run/ci.sock");
    let settings = settings_over(&host, true);
    let engine = FixedEngine(Err(EngineError::NoAnswer {
        socket: "/var/run/docker.sock".into(),
        reason: "connection refused".into(),
    }));
    let why = "no dockerd serves /var/run/docker.sock (dockerd pid 4242 serves other sockets)";
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    run(&settings, &runner, &engine, &check_text(&["2.2"]))
        .stdout_has("[WARN] 2.2")
        .stdout_has("icc is true")
        .stdout_lacks("--icc=false")
        .stdout_has(&format!("note: {why}\n"));
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let report = run_check(&settings, &runner, &engine, &["2.2"]).json();
    assert_eq!(report["daemons"][0]["running"], false);
    assert_eq!(report["daemons"][0]["not_running"], why);
    assert_eq!(report["daemons"][0].get("pid"), None);
}

// ---------------------------------------------------------------------------------------------
// 7. Not live: no runner, no engine, no /proc

/// An engine that counts how often it is asked.
struct CountingEngine(Mutex<Vec<String>>);

impl Engine for CountingEngine {
    fn info(&self, socket: &str) -> Result<EngineInfo, EngineError> {
        self.0.lock().unwrap().push(socket.to_string());
        Ok(EngineInfo {
            logging_driver: "json-file".into(),
            ..EngineInfo::default()
        })
    }
}

#[test]
fn not_live_calls_nothing() {
    // daemon.json newer than a "running" dockerd: only a live run would read /proc.
    let host = fake_proc(
        with_daemon_json(Host::debian12(), "{\n  \"icc\": false\n}\n"),
        Some(DEBIAN_DOCKERD),
        JSON_MTIME - 3600,
    );
    let settings = settings_over(&host, false);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let engine = CountingEngine(Mutex::new(Vec::new()));

    let check = run(&settings, &runner, &engine, &check(&[]));
    check.code(1);
    assert_eq!(check.status("2.2"), "PASS", "{}", check.evidence("2.2"));
    assert_eq!(check.status("1.1.3"), "WARN");
    assert!(!check.evidence("1.1.3").contains("loaded"));
    assert_eq!(check.json()["live"], false);

    run(&settings, &runner, &engine, &diff(&[])).code(1);
    let fix = run(&settings, &runner, &engine, &fix_yes(&[]));
    fix.code(1)
        .stdout_has("services: none touched under --root")
        .stdout_lacks("ran `");
    assert!(host.exists(OWN_RULES), "the fix did write");
    assert_eq!(runner.calls(), Vec::<String>::new());
    assert_eq!(*engine.0.lock().unwrap(), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// Services that fail, and rollback on the live host

fn rollback(list: bool) -> Command {
    Command::Rollback(RollbackArgs {
        run_id: None,
        list,
        force: false,
        yes: true,
        allow_container_restart: false,
        health_timeout: 0,
    })
}

fn rollback_allowing_restart() -> Command {
    Command::Rollback(RollbackArgs {
        run_id: None,
        list: false,
        force: false,
        yes: true,
        allow_container_restart: true,
        health_timeout: 0,
    })
}

#[test]
fn failed_restart_rolls_back_by_itself_and_shows_the_journal() {
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME - 3600);
    let original = host.snapshot();
    let settings = settings_over(&host, true);
    let engine = engine("json-file", false);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED)
        .answer(
            "systemctl restart docker",
            Ok(CommandOutput::failed(
                "Job for docker.service failed because the control process exited with error code.\n",
            )),
        )
        .answer("journalctl -u docker", ok("dockerd[4242]: failed to start daemon: sabotage\n"));
    let fix = run(&settings, &runner, &engine, &fix_yes(&[]));
    fix.code(2);
    for text in [
        "`systemctl restart docker` failed: Job for docker.service failed",
        "docker-harden rolled back run",
        "dockerd[4242]: failed to start daemon: sabotage",
    ] {
        assert!(fix.stderr.contains(text), "lacks {text:?}:\n{}", fix.stderr);
    }
    // Nothing is left half applied: every file is as it was.
    assert_eq!(changed(&original, &host.snapshot()), Vec::<String>::new());
    // The services ran, failed, and ran again on the old configuration.
    assert_eq!(
        service_calls(&runner)
            .into_iter()
            .filter(|c| !c.starts_with("auditctl -w "))
            .collect::<Vec<_>>(),
        [
            "systemctl restart rsyslog",
            "systemctl restart docker",
            "systemctl restart rsyslog",
            // The failed starts hit systemd's start limit; recovery clears it first.
            "systemctl reset-failed docker.service docker.socket",
            "systemctl restart docker"
        ]
    );
    fix.stdout_lacks("still WARN");
    let list = run(&settings, &RecordingRunner::new(), &engine, &rollback(true));
    list.code(0).stdout_has("rolled-back");
    run(
        &settings,
        &RecordingRunner::new(),
        &engine,
        &rollback(false),
    )
    .code(2)
    .stderr_has("no saved run to roll back");
}

#[test]
fn unhealthy_daemon_after_restart_rolls_back() {
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME - 3600);
    let original = host.snapshot();
    let settings = settings_over(&host, true);
    let engine = engine("json-file", false);
    // The restart "works" but the unit never becomes active.
    let runner = RecordingRunner::new()
        .answer("auditctl -l", ok("No rules\n"))
        .answer("auditctl -s", ok(AUDIT_STATUS_ENABLED))
        .answer(
            "systemctl is-active docker",
            Ok(CommandOutput {
                success: false,
                stdout: "failed\n".into(),
                stderr: String::new(),
            }),
        );
    let fix = run(&settings, &runner, &engine, &fix_yes(&["2.15"]));
    fix.code(2)
        .stderr_has("docker.service is failed")
        .stderr_has("docker-harden rolled back run");
    assert_eq!(changed(&original, &host.snapshot()), Vec::<String>::new());
}

#[test]
fn syslog_listener_must_accept_before_docker_restarts() {
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME - 3600);
    let original = host.snapshot();
    let settings = settings_over(&host, true);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED).answer(
        "tcp-connect 127.0.0.1:514",
        Ok(CommandOutput::failed("refused")),
    );
    let fix = run(
        &settings,
        &runner,
        &engine("json-file", false),
        &fix_yes(&["2.13"]),
    );
    fix.code(2)
        .stderr_has("rsyslog does not accept connections on 127.0.0.1:514");
    let calls = service_calls(&runner);
    assert_eq!(
        calls.first().map(String::as_str),
        Some("systemctl restart rsyslog")
    );
    assert!(
        !calls[..2].contains(&"systemctl restart docker".to_string()),
        "{calls:?}"
    );
    assert_eq!(changed(&original, &host.snapshot()), Vec::<String>::new());
}

/// /proc/net/tcp and tcp6 as the kernel writes them, listing these listening sockets.
fn proc_net_tables(listening: &[&str]) -> (String, String) {
    let header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
    let (mut v4, mut v6) = (header.to_string(), header.to_string());
    for (n, l) in listening.iter().enumerate() {
        let addr: std::net::SocketAddr = l.parse().unwrap();
        match addr.ip() {
            std::net::IpAddr::V4(ip) => v4.push_str(&format!(
                "{n:4}: {:08X}:{:04X} 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n",
                u32::from_ne_bytes(ip.octets()),
                addr.port()
            )),
            std::net::IpAddr::V6(ip) => {
                let words: String = ip
                    .octets()
                    .chunks(4)
                    .map(|w| format!("{:08X}", u32::from_ne_bytes([w[0], w[1], w[2], w[3]])))
                    .collect();
                v6.push_str(&format!(
                    "{n:4}: {words}:{:04X} 00000000000000000000000000000000:0000 0A 0\n",
                    addr.port()
                ));
            }
        }
    }
    (v4, v6)
}

fn set_listeners(host_root: &std::path::Path, listening: &[&str]) {
    let (v4, v6) = proc_net_tables(listening);
    let net = host_root.join("proc/net");
    fs::create_dir_all(&net).unwrap();
    fs::write(net.join("tcp"), v4).unwrap();
    fs::write(net.join("tcp6"), v6).unwrap();
}

/// The recording runner, with an rsyslog whose restart leaves these sockets listening in the
/// host's /proc/net (under the fixture root).
struct RsyslogOpens<'a> {
    inner: &'a RecordingRunner,
    root: std::path::PathBuf,
    after_restart: &'a [&'a str],
}

impl docker_harden::runner::Runner for RsyslogOpens<'_> {
    fn run(&self, program: &str, args: &[&str]) -> Result<CommandOutput, CommandError> {
        if program == "systemctl" && args == ["restart", "rsyslog"] {
            set_listeners(&self.root, self.after_restart);
        }
        self.inner.run(program, args)
    }

    fn tcp_accepts(&self, host: &str, port: u16) -> bool {
        self.inner.tcp_accepts(host, port)
    }

    fn pause(&self, duration: Duration) {
        self.inner.pause(duration)
    }
}

fn fix_with_rsyslog_opening(host: &Host, before: &[&str], after: &[&str]) -> (Run, Vec<String>) {
    set_listeners(host.root(), before);
    let settings = settings_over(host, true);
    let recorder = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let runner = RsyslogOpens {
        inner: &recorder,
        root: host.root().to_path_buf(),
        after_restart: after,
    };
    let engine = Restarting {
        before: &engine("json-file", false),
        runner: &recorder,
        daemon_json: settings.rootfs.root().join("etc/docker/daemon.json"),
    };
    let run = common::dispatch(&settings, &runner, &engine, &fix_yes(&["2.13"]));
    (run, service_calls(&recorder))
}

#[test]
fn rsyslog_bound_to_loopback_alone_passes_the_listener_check() {
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME - 3600);
    let (fix, calls) =
        fix_with_rsyslog_opening(&host, &["0.0.0.0:22"], &["0.0.0.0:22", "127.0.0.1:514"]);
    fix.code(0)
        .stdout_has("rsyslog accepts connections on 127.0.0.1:514")
        .stdout_has("tcp port 514 listens only at 127.0.0.1, where dockerd sends");
    assert_eq!(
        calls,
        ["systemctl restart rsyslog", "systemctl restart docker"]
    );
}

#[test]
fn a_wide_listener_opened_by_rsyslogs_restart_fails_and_rolls_back() {
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME - 3600);
    set_listeners(host.root(), &[]);
    let original = host.snapshot();
    let (fix, calls) = fix_with_rsyslog_opening(&host, &[], &["0.0.0.0:514", "[::]:514"]);
    fix.code(2)
        .stderr_has("after rsyslog's restart, tcp port 514 is open at 0.0.0.0:514, [::]:514, not only at 127.0.0.1 where dockerd sends")
        .stderr_has("docker-harden rolled back run");
    // docker never restarted on the new configuration, so it is left alone: rsyslog runs
    // again on the old one, and that is all.
    assert_eq!(
        calls,
        ["systemctl restart rsyslog", "systemctl restart rsyslog"]
    );
    // Every file is as it was; the fake kernel tables are the test's, not the run's.
    let files: Vec<String> = changed(&original, &host.snapshot())
        .into_iter()
        .filter(|p| !p.starts_with("/proc/net/"))
        .collect();
    assert_eq!(files, Vec::<String>::new());
}

#[test]
fn a_wide_listener_that_was_there_before_is_a_warning() {
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME - 3600);
    let (fix, calls) =
        fix_with_rsyslog_opening(&host, &["0.0.0.0:514"], &["0.0.0.0:514", "127.0.0.1:514"]);
    fix.code(1).stdout_has(
        "warning: tcp port 514 is also open at 0.0.0.0:514 besides 127.0.0.1, as before this run; docker-harden did not open it",
    );
    assert_eq!(
        calls,
        ["systemctl restart rsyslog", "systemctl restart docker"]
    );
    // The check names it.
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let settings = settings_over(&host, true);
    let check = run_check(&settings, &runner, &engine("syslog", true), &["2.13"]);
    assert_eq!(check.status("2.13"), "WARN");
    assert!(
        check.evidence("2.13").contains(
            "tcp port 514 is open at 0.0.0.0:514, not only at 127.0.0.1 where dockerd sends, though rsyslog's inputs on it bind 127.0.0.1 alone"
        ),
        "{}",
        check.evidence("2.13")
    );
}

#[test]
fn preflight_refuses_icc_without_iptables() {
    let host = fake_proc(
        Host::debian12().file(
            "/etc/systemd/system/docker.service.d/override.conf",
            "[Service]\nExecStart=\nExecStart=/usr/sbin/dockerd -H fd:// --iptables=false\n",
        ),
        Some(&["/usr/sbin/dockerd", "-H", "fd://", "--iptables=false"]),
        JSON_MTIME - 3600,
    );
    let original = host.snapshot();
    let settings = settings_over(&host, true);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    // The dry run shows the same refusal.
    let diff = Command::Diff(DiffArgs {
        selectors: selectors(&["2.2"]),
    });
    run(&settings, &runner, &engine("json-file", false), &diff)
        .code(0)
        .stdout_has("refused by pre-flight: icc=false needs iptables");
    let fix = run(
        &settings,
        &runner,
        &engine("json-file", false),
        &fix_yes(&["2.2"]),
    );
    fix.stdout_has("2.2")
        .stdout_has("refused by pre-flight: icc=false needs iptables, but iptables is off (--iptables=false on ExecStart in /etc/systemd/system/docker.service.d/override.conf)")
        .stdout_has("nothing to change");
    assert_eq!(changed(&original, &host.snapshot()), Vec::<String>::new());
    assert_eq!(service_calls(&runner), Vec::<String>::new());

    // The hidden test-only bypass applies it; dockerd would then fail, and is rolled back.
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED).answer(
        "systemctl restart docker",
        Ok(CommandOutput::failed("failed")),
    );
    let mut args = fix_yes(&["2.2"]);
    if let Command::Fix(a) = &mut args {
        a.skip_preflight = true;
    }
    run(&settings, &runner, &engine("json-file", false), &args)
        .code(2)
        .stderr_has("docker-harden rolled back run");
    assert_eq!(changed(&original, &host.snapshot()), Vec::<String>::new());
}

#[test]
fn preflight_refuses_live_restore_in_swarm_mode() {
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME - 3600);
    let settings = settings_over(&host, true);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let swarm = FixedEngine(Ok(EngineInfo {
        swarm_active: true,
        server_version: "20.10.24".into(),
        logging_driver: "json-file".into(),
        ..EngineInfo::default()
    }));
    run(&settings, &runner, &swarm, &fix_yes(&["2.15"])).stdout_has(
        "refused by pre-flight: live-restore cannot be used while this node is in swarm mode",
    );
    assert!(!host.exists("/etc/docker/daemon.json"));
}

#[test]
fn preflight_refuses_a_daemon_json_that_20_10_would_reject() {
    let host = fake_proc(
        Host::debian12().file(
            "/etc/docker/daemon.json",
            "{\n  \"hosts\": [\"unix:///run/docker.sock\"],\n  \"no-such-key\": 1\n}\n",
        ),
        Some(DEBIAN_DOCKERD),
        JSON_MTIME - 3600,
    );
    let settings = settings_over(&host, true);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let old = FixedEngine(Ok(EngineInfo {
        server_version: "20.10.24+dfsg1".into(),
        logging_driver: "json-file".into(),
        ..EngineInfo::default()
    }));
    let fix = run(&settings, &runner, &old, &fix_yes(&["2.16"]));
    fix.stdout_has("`hosts` is in daemon.json and -H fd:// is on ExecStart")
        .stdout_has("dockerd 20.10.24+dfsg1 does not know and refuses to start with: no-such-key (by the daemon.json keys Docker 20.10 accepts)");
    assert!(
        !host
            .read("/etc/docker/daemon.json")
            .contains("userland-proxy")
    );
}

#[test]
fn restart_without_live_restore_says_how_many_containers_stop() {
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME - 3600);
    let before = host.snapshot();
    let settings = settings_over(&host, true);
    let busy = FixedEngine(Ok(EngineInfo {
        containers_running: 7,
        server_version: "20.10.24".into(),
        logging_driver: "json-file".into(),
        ..EngineInfo::default()
    }));
    // A restart that stops containers is never unattended without leave: nothing is written.
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    run(&settings, &runner, &busy, &fix_yes(&["2.16"]))
        .code(2)
        .stderr_has("restarting docker would stop 7 running container(s) (7 running): the configuration docker restarts with has live restore off")
        .stderr_has("--allow-container-restart");
    assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());
    assert!(service_calls(&runner).is_empty());
    // With leave, it says so and goes ahead.
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let allowed = Command::Fix(FixArgs {
        selectors: selectors(&["2.16"]),
        yes: true,
        health_timeout: 0,
        allow_container_restart: true,
        skip_preflight: false,
    });
    // (The fake process table keeps dockerd's old start time, so 2.16 stays pending: exit 1.)
    run(&settings, &runner, &busy, &allowed)
        .code(1)
        .stdout_has("restarting docker stops 7 running container(s) (7 running): the configuration docker restarts with has live restore off; allowed, so they are started again afterwards");
    // Turning live restore on in the same run keeps them: no leave is needed.
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME - 3600);
    let settings = settings_over(&host, true);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let run = run(&settings, &runner, &busy, &fix_yes(&["2.15", "2.16"]));
    assert!(!run.stderr.contains("would stop"), "{}", run.stderr);
}

#[test]
fn rhel_unlocked_loads_the_new_watch_with_auditctl() {
    let host = fake_proc(Host::rhel9(), Some(RHEL_DOCKERD), JSON_MTIME - 3600);
    let settings = settings_over(&host, true);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    run(
        &settings,
        &runner,
        &engine("journald", false),
        &fix_yes(&["1.1.3"]),
    )
    .stdout_has("loaded 1 audit watch(es) with auditctl -w");
    assert_eq!(
        service_calls(&runner),
        ["auditctl -w /usr/bin/dockerd -p wa -k docker"]
    );
}

#[test]
fn live_rollback_unloads_the_watches_the_run_added() {
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME - 3600);
    let original = host.snapshot();
    let settings = settings_over(&host, true);
    let engine = engine("json-file", false);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    // (The scripted `auditctl -l` still lists nothing afterwards, so 1.1.3 stays WARN: exit 1.)
    run(&settings, &runner, &engine, &fix_yes(&["1.1.3"])).code(1);
    assert_eq!(
        service_calls(&runner),
        ["auditctl -w /usr/sbin/dockerd -p wa -k docker"]
    );

    // The kernel now has the watch (and an operator's own, which must stay).
    let loaded = "-w /usr/sbin/dockerd -p wa -k docker\n-w /etc/ssh -p wa -k sshd\n";
    let runner = auditctl(loaded, AUDIT_STATUS_ENABLED);
    run(&settings, &runner, &engine, &rollback(false))
        .code(0)
        .stdout_has("removed 1 audit watch(es) with auditctl -W");
    assert_eq!(
        service_calls(&runner),
        ["auditctl -W /usr/sbin/dockerd -p wa -k docker"]
    );
    assert_eq!(changed(&original, &host.snapshot()), Vec::<String>::new());
}

#[test]
fn swarm_only_items_pass_when_swarm_is_inactive() {
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME - 3600);
    let settings = settings_over(&host, true);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let check = run_check(&settings, &runner, &engine("json-file", false), &["7.6"]);
    assert_eq!(check.status("7.6"), "PASS", "{}", check.evidence("7.6"));
    let swarm = FixedEngine(Ok(EngineInfo {
        swarm_active: true,
        ..EngineInfo::default()
    }));
    let check = run_check(&settings, &runner, &swarm, &["7.6"]);
    assert_eq!(check.status("7.6"), "NOTE");
}

// ---------------------------------------------------------------------------------------------
// Running containers through a fix and a rollback: a fake dockerd that keeps its settings and
// its containers as a real one does. A reload (SIGHUP) applies `live-restore` only when the
// file sets it; a restart applies the whole file, and stops every container unless live
// restore was on in the daemon that stopped.

use docker_harden::engine::ContainerState;

struct FakeDockerd<'a> {
    runner: &'a RecordingRunner,
    daemon_json: std::path::PathBuf,
    state: Mutex<Dockerd>,
}

struct Dockerd {
    seen: usize,
    live_restore: bool,
    logging_driver: String,
    swarm: bool,
    containers: Vec<ContainerState>,
    next_pid: u32,
    /// Containers whose process is replaced at a restart whatever live restore says.
    replaced_anyway: Vec<String>,
    /// dockerd logs a reload error and applies nothing (a configuration it refuses to reload).
    reload_fails: bool,
}

fn container(name: &str, pid: u32, policy: &str) -> ContainerState {
    ContainerState {
        id: format!("{name}0123456789abcdef"),
        name: name.into(),
        running: true,
        pid,
        status: "running".into(),
        restart_policy: policy.into(),
        log_driver: "json-file".into(),
        syslog_address: None,
    }
}

impl<'a> FakeDockerd<'a> {
    fn new(runner: &'a RecordingRunner, host: &Host, containers: Vec<ContainerState>) -> Self {
        FakeDockerd {
            runner,
            daemon_json: host.path("/etc/docker/daemon.json"),
            state: Mutex::new(Dockerd {
                seen: 0,
                live_restore: false,
                logging_driver: "json-file".into(),
                swarm: false,
                containers,
                next_pid: 9000,
                replaced_anyway: Vec::new(),
                reload_fails: false,
            }),
        }
    }

    /// Plays the service calls made since last asked against the file as it is now.
    fn sync(&self) -> std::sync::MutexGuard<'_, Dockerd> {
        let mut d = self.state.lock().unwrap();
        let calls = self.runner.calls();
        let json: Value = fs::read_to_string(&self.daemon_json)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        for call in &calls[d.seen..] {
            match call.as_str() {
                "systemctl reload docker" => {
                    if let Some(on) = json["live-restore"].as_bool()
                        && !d.swarm
                        && !d.reload_fails
                    {
                        d.live_restore = on;
                    }
                }
                "systemctl restart docker" => {
                    let kept = d.live_restore;
                    d.live_restore = json["live-restore"].as_bool().unwrap_or(false);
                    d.logging_driver = json["log-driver"].as_str().unwrap_or("json-file").into();
                    let mut next = d.next_pid;
                    let replaced = d.replaced_anyway.clone();
                    for c in d.containers.iter_mut().filter(|c| c.running) {
                        if !kept || replaced.contains(&c.name) {
                            if c.restart_policy == "always" {
                                c.pid = next;
                                next += 1;
                            } else {
                                c.running = false;
                                c.pid = 0;
                                c.status = "exited (255)".into();
                            }
                        }
                    }
                    d.next_pid = next;
                }
                _ => {}
            }
        }
        d.seen = calls.len();
        d
    }
}

impl Engine for FakeDockerd<'_> {
    fn info(&self, _socket: &str) -> Result<EngineInfo, EngineError> {
        let d = self.sync();
        Ok(EngineInfo {
            server_version: "20.10.24".into(),
            logging_driver: d.logging_driver.clone(),
            live_restore: d.live_restore,
            swarm_active: d.swarm,
            containers_running: d.containers.iter().filter(|c| c.running).count() as u64,
            ..EngineInfo::default()
        })
    }

    fn container_states(&self, _socket: &str) -> Result<Vec<ContainerState>, EngineError> {
        Ok(self.sync().containers.clone())
    }

    fn start_container(&self, _socket: &str, id: &str) -> Result<(), EngineError> {
        let mut d = self.sync();
        let pid = d.next_pid;
        d.next_pid += 1;
        let c = d
            .containers
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or_else(|| EngineError::Start {
                id: id.into(),
                reason: "no such container".into(),
            })?;
        c.running = true;
        c.pid = pid;
        c.status = "running".into();
        Ok(())
    }
}

fn four_containers() -> Vec<ContainerState> {
    vec![
        container("privileged", 101, "no"),
        container("web", 102, "on-failure"),
        container("hostns", 103, "always"),
        container("hardened", 104, "no"),
    ]
}

fn running_pids(engine: &FakeDockerd<'_>) -> Vec<(String, bool, u32)> {
    engine
        .container_states("")
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.running, c.pid))
        .collect()
}

#[test]
fn live_restore_is_turned_on_by_a_reload_first_so_the_restart_keeps_every_container() {
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME - 3600);
    let settings = settings_over(&host, true);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let engine = FakeDockerd::new(&runner, &host, four_containers());
    let before = running_pids(&engine);
    let run = common::dispatch(&settings, &runner, &engine, &fix_yes(&["2.2", "2.15"]));
    assert!(
        run.code == 0 || run.code == 1,
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    let calls = service_calls(&runner);
    let reload = calls.iter().position(|c| c == "systemctl reload docker");
    let restart = calls.iter().position(|c| c == "systemctl restart docker");
    assert!(reload.is_some() && reload < restart, "{calls:?}");
    assert_eq!(running_pids(&engine), before, "{}", run.stdout);
    for name in ["privileged", "web", "hostns", "hardened"] {
        assert!(
            run.stdout.contains(&format!("container {name} (")),
            "{}",
            run.stdout
        );
    }
    assert!(
        run.stdout.contains("kept running (pid 102)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "dockerd reloaded: live restore is on, so the restart keeps the running containers"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn a_reload_that_does_not_turn_live_restore_on_stops_before_the_restart() {
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME - 3600);
    let before = host.snapshot();
    let settings = settings_over(&host, true);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let engine = FakeDockerd::new(&runner, &host, four_containers());
    engine.state.lock().unwrap().reload_fails = true;
    let pids = running_pids(&engine);
    let run = common::dispatch(&settings, &runner, &engine, &fix_yes(&["2.2", "2.15"]));
    run.code(2).stderr_has("live restore did not come on with a reload, so docker was not restarted (4 running container(s) would stop)");
    // The run undid itself, and the containers never stopped.
    assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());
    assert_eq!(running_pids(&engine), pids);
}

#[test]
fn a_container_that_does_not_survive_the_restart_is_named_and_started_again() {
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME - 3600);
    let settings = settings_over(&host, true);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let mut containers = four_containers();
    containers[3].restart_policy = "no".into();
    let engine = FakeDockerd::new(&runner, &host, containers);
    engine.state.lock().unwrap().replaced_anyway = vec!["hardened".into(), "hostns".into()];
    let run = common::dispatch(&settings, &runner, &engine, &fix_yes(&["2.2", "2.15"]));
    run.code(2)
        .stderr_has("running containers did not all keep running")
        .stderr_has("hardened (hardened0123): exited (255) after the restart; started again")
        .stderr_has("hostns (hostns012345): its process was replaced (pid 103 is now")
        .stderr_has("The new configuration is in effect");
    // The configuration stays: a second restart is what cost them.
    assert!(
        host.read("/etc/docker/daemon.json")
            .contains("\"live-restore\": true")
    );
    let states = running_pids(&engine);
    assert!(states.iter().all(|(_, running, _)| *running), "{states:?}");
}

#[test]
fn rollback_restarts_where_a_reload_would_leave_the_setting_and_checks_the_daemon() {
    // 2.15 alone is a reload; rolling it back removes the key, which a reload ignores.
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME - 3600);
    let original = host.snapshot();
    let settings = settings_over(&host, true);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let engine = FakeDockerd::new(&runner, &host, four_containers());
    common::dispatch(&settings, &runner, &engine, &fix_yes(&["2.15"]));
    assert!(engine.info("").unwrap().live_restore);
    let fixed = host.snapshot();
    // A dockerd that starts with live restore off shuts down every container it finds: the
    // rollback does not do that unattended without leave, and writes nothing.
    let calls_after_fix = service_calls(&runner).len();
    common::dispatch(&settings, &runner, &engine, &rollback(false))
        .code(2)
        .stderr_has("restarting docker would stop 4 running container(s) (privileged, web, hostns, hardened): the configuration docker restarts with has live restore off; nothing was written");
    assert_eq!(changed(&fixed, &host.snapshot()), Vec::<String>::new());
    assert_eq!(service_calls(&runner).len(), calls_after_fix);
    // With leave: a restart, not a reload, and the daemon is checked against the file.
    let run = common::dispatch(&settings, &runner, &engine, &rollback_allowing_restart());
    run.code(0);
    let calls = service_calls(&runner)[calls_after_fix..].to_vec();
    assert!(
        calls.contains(&"systemctl restart docker".to_string())
            && !calls.contains(&"systemctl reload docker".to_string()),
        "{calls:?}\n{}",
        run.stdout
    );
    assert!(!engine.info("").unwrap().live_restore, "{}", run.stdout);
    assert!(run.stdout.contains("live restore off"), "{}", run.stdout);
    // Every container runs again.
    let states = running_pids(&engine);
    assert!(
        states.iter().all(|(_, running, _)| *running),
        "{states:?}\n{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("container web (web0123456") && run.stdout.contains("runs again"),
        "{}",
        run.stdout
    );
    let mut now = host.snapshot();
    now.retain(|k, _| !k.starts_with("/var/lib/docker-harden"));
    assert_eq!(changed(&original, &now), Vec::<String>::new());
}

#[test]
fn rollback_names_the_containers_left_without_their_log_receiver() {
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME - 3600);
    let settings = settings_over(&host, true);
    let runner = auditctl("No rules\n", AUDIT_STATUS_ENABLED);
    let engine = FakeDockerd::new(&runner, &host, four_containers());
    let fix = common::dispatch(&settings, &runner, &engine, &fix_yes(&["2.13", "2.15"]));
    assert!(
        fix.code == 0 || fix.code == 1,
        "{}\n{}",
        fix.stdout,
        fix.stderr
    );
    // Created after the fix: it took the daemon's default log driver.
    engine
        .state
        .lock()
        .unwrap()
        .containers
        .push(ContainerState {
            log_driver: "syslog".into(),
            syslog_address: Some("tcp://127.0.0.1:514".into()),
            ..container("newcomer", 300, "no")
        });
    let run = common::dispatch(&settings, &runner, &engine, &rollback_allowing_restart());
    run.code(0).stderr_has(
        "this rollback stops rsyslog receiving at tcp://127.0.0.1:514, where 1 container(s) send their logs: newcomer (newcomer0123, running)",
    );
}
