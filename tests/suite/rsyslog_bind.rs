//! The syslog input the 2.13 fix sets up listens only where dockerd sends (issue 10, defect 2):
//! what the check says of an input on every interface, which ones the fix binds and which it
//! only reports, and, with the real rsyslogd, which addresses the planned input listens on.

use crate::common;

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::{Host, changed};
use docker_harden::facts::listeners;
use docker_harden::rootfs::RootFs;
use serde_json::Value;

const WIDE: &str = "input(type=\"imtcp\" port=\"514\")";
const BOUND: &str = "input(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")";
const SYSLOG_JSON: &str = "{\n  \"log-driver\": \"syslog\",\n  \"log-opts\": {\n    \"syslog-address\": \"tcp://127.0.0.1:514\"\n  }\n}\n";
const HEADER: &str = "# docker-harden: receive syslog from Docker's syslog log driver (CIS 2.13)";

/// Debian's rsyslog.conf with its TCP reception lines uncommented as they ship (what an
/// operator does by hand, and what the 2.13 fix of earlier versions did).
fn uncommented(host: &Host) -> String {
    let conf = host.read("/etc/rsyslog.conf");
    let wide = conf.replace(
        "#module(load=\"imtcp\")\n#input(type=\"imtcp\" port=\"514\")",
        &format!("module(load=\"imtcp\")\n{WIDE}"),
    );
    assert_ne!(wide, conf, "the fixture has Debian's commented lines");
    wide
}

fn check_2_13(host: &Host) -> (i32, Value) {
    let run = host.run(&["check", "--only", "2.13", "--format", "json"]);
    let item = run.item("2.13");
    (run.code, item)
}

fn text(v: &Value) -> String {
    v.to_string()
}

#[test]
fn a_wide_input_the_operator_configured_is_reported_not_rewritten() {
    let host = Host::debian12();
    let wide = uncommented(&host);
    let host = host
        .file("/etc/rsyslog.conf", &wide)
        .file("/etc/docker/daemon.json", SYSLOG_JSON);
    let (code, item) = check_2_13(&host);
    assert_eq!(code, 1);
    assert_eq!(item["status"], "WARN");
    let evidence = text(&item["evidence"]);
    assert!(
        evidence.contains("rsyslog listens on every interface on tcp/514 (/etc/rsyslog.conf:21)"),
        "{evidence}"
    );
    assert!(
        evidence.contains("/etc/rsyslog.conf:21: configured outside docker-harden"),
        "{evidence}"
    );
    let remediation = text(&item["remediation"]);
    assert!(
        remediation.contains(
            r#"add address=\"127.0.0.1\" to the input at /etc/rsyslog.conf:21, then restart rsyslog"#
        ),
        "{remediation}"
    );

    let before = host.snapshot();
    let fix = host.run(&["fix", "--yes", "--only", "2.13"]);
    fix.stdout_has("report only: rsyslog listens on every interface on tcp/514");
    assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());
}

/// The saved run that changed /etc/rsyslog.conf: its directory and manifest.
fn run_record(host: &Host) -> (PathBuf, Value) {
    let backups = host.path("/var/lib/docker-harden/backups");
    let dir = fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|d| {
            fs::read_to_string(d.join("manifest.json")).is_ok_and(|m| m.contains("rsyslog.conf"))
        })
        .expect("a run that changed rsyslog.conf");
    let manifest =
        serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    (dir, manifest)
}

#[test]
fn a_wide_input_an_earlier_run_started_is_bound_to_loopback() {
    let host = Host::debian12();
    host.run(&["fix", "--yes", "--only", "2.13"]).code(0);
    assert!(host.read("/etc/rsyslog.conf").contains(BOUND));
    // Make the run what the 2.13 fix of earlier versions left: the same uncommented lines
    // without an address, in the file and in the run's record of what it wrote.
    let wide = host.read("/etc/rsyslog.conf").replace(BOUND, WIDE);
    let (dir, mut manifest) = run_record(&host);
    let run_id = manifest["run_id"].as_str().unwrap().to_string();
    for record in manifest["files"].as_array_mut().unwrap() {
        if record["path"] == "/etc/rsyslog.conf" {
            let copy = record["written"].as_str().unwrap();
            fs::write(dir.join(copy), &wide).unwrap();
            record["sha256_after"] = Value::String(docker_harden::records::sha256(wide.as_bytes()));
        }
    }
    fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    let host = host.file("/etc/rsyslog.conf", &wide);

    let (code, item) = check_2_13(&host);
    assert_eq!(code, 1);
    let evidence = text(&item["evidence"]);
    assert!(
        evidence.contains(&format!(
            "/etc/rsyslog.conf:21: docker-harden run {run_id} started it; `docker-harden fix` binds it to 127.0.0.1"
        )),
        "{evidence}"
    );
    let diff = host.run(&["diff", "--only", "2.13"]);
    diff.stdout_has(&format!("-{WIDE}\n+{BOUND}\n"))
        // The syslog driver dials again by itself: dockerd need not restart.
        .stdout_has("afterwards: restart rsyslog\n");
    host.run(&["fix", "--yes", "--only", "2.13"]).code(0);
    let conf = host.read("/etc/rsyslog.conf");
    assert_eq!(conf, wide.replace(WIDE, BOUND));
    let (code, item) = check_2_13(&host);
    assert_eq!(code, 0, "{item}");
    assert!(
        text(&item["evidence"]).contains("rsyslog receives on tcp/514 at 127.0.0.1"),
        "{item}"
    );
}

#[test]
fn a_wide_input_rolled_back_runs_never_proved_stays_the_operators() {
    // A run that was rolled back proves nothing: its input is gone, and one there now is
    // somebody else's.
    let host = Host::debian12();
    host.run(&["fix", "--yes", "--only", "2.13"]).code(0);
    host.run(&["rollback"]).code(0);
    let wide = uncommented(&host);
    let host = host
        .file("/etc/rsyslog.conf", &wide)
        .file("/etc/docker/daemon.json", SYSLOG_JSON);
    let (_, item) = check_2_13(&host);
    assert!(
        text(&item["evidence"]).contains("configured outside docker-harden"),
        "{item}"
    );
}

#[test]
fn a_wide_input_under_docker_hardens_header_is_bound() {
    let dropin = "/etc/rsyslog.d/60-docker-harden.conf";
    let host = Host::debian12()
        .file(
            dropin,
            &format!("{HEADER}\nmodule(load=\"imtcp\")\n{WIDE}\n"),
        )
        .file("/etc/docker/daemon.json", SYSLOG_JSON);
    let (code, item) = check_2_13(&host);
    assert_eq!(code, 1);
    assert!(
        text(&item["evidence"]).contains(&format!(
            "{dropin}:3: docker-harden appended it under its header"
        )),
        "{item}"
    );
    host.run(&["fix", "--yes", "--only", "2.13"]).code(0);
    assert_eq!(
        host.read(dropin),
        format!("{HEADER}\nmodule(load=\"imtcp\")\n{BOUND}\n")
    );
    assert_eq!(check_2_13(&host).0, 0);
}

#[test]
fn an_ipv6_loopback_address_binds_ipv6_loopback() {
    let host = Host::debian12().file(
        "/pb.yml",
        "include: default\nvariables:\n  syslog_address: \"tcp://[::1]:514\"\n",
    );
    let pb = host.path("/pb.yml");
    let pb = pb.to_str().unwrap();
    host.run(&["fix", "--yes", "--only", "2.13", "--playbook", pb])
        .code(0);
    let conf = host.read("/etc/rsyslog.conf");
    assert!(
        conf.contains("\ninput(type=\"imtcp\" port=\"514\" address=\"::1\")\n"),
        "{conf}"
    );
}

#[test]
fn loading_imtcp_is_refused_when_it_would_start_another_input() {
    let host = Host::debian12().file(
        "/etc/rsyslog.d/10-network.conf",
        "input(type=\"imtcp\" port=\"6514\")\n",
    );
    let before = host.snapshot();
    let fix = host.run(&["fix", "--yes", "--only", "2.13"]);
    fix.stdout_has(
        "loading imtcp for dockerd's logs would also start the input at /etc/rsyslog.d/10-network.conf:1 (bound to every interface)",
    );
    assert_eq!(changed(&before, &host.snapshot()), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// With the real rsyslogd: the statements the fix writes are valid, and the input listens at
// dockerd's address and nowhere else.

/// A private rsyslogd: its own configuration, pid file and work directory; killed on drop.
struct Rsyslogd {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Rsyslogd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The active lines of the planned rsyslog files that load or configure imtcp.
fn imtcp_statements(host: &Host) -> Vec<String> {
    let mut files = vec![host.path("/etc/rsyslog.conf")];
    if let Ok(dir) = fs::read_dir(host.path("/etc/rsyslog.d")) {
        files.extend(dir.map(|e| e.unwrap().path()));
    }
    files
        .iter()
        .flat_map(|f| {
            fs::read_to_string(f)
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|l| !l.trim_start().starts_with('#') && l.to_lowercase().contains("imtcp"))
        .collect()
}

fn rsyslogd(statements: &[String]) -> Rsyslogd {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("rsyslog.conf");
    fs::write(
        &conf,
        format!(
            "global(workDirectory=\"{}\")\n{}\n*.* {}\n",
            dir.path().display(),
            statements.join("\n"),
            dir.path().join("messages").display()
        ),
    )
    .unwrap();
    let pid = dir.path().join("rsyslogd.pid");
    let check = Command::new("rsyslogd")
        .args(["-N1", "-f"])
        .arg(&conf)
        .arg("-i")
        .arg(&pid)
        .output()
        .expect("rsyslogd runs (apt-get install rsyslog)");
    assert!(
        check.status.success(),
        "rsyslogd -N1 refuses {statements:?}: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let child = Command::new("rsyslogd")
        .arg("-n")
        .arg("-f")
        .arg(&conf)
        .arg("-i")
        .arg(&pid)
        .spawn()
        .unwrap();
    Rsyslogd { child, _dir: dir }
}

/// A loopback address and a port nothing listens on, for this process and test (`salt`), so
/// that tests running at once never see each other's listener.
fn free_endpoint(salt: u32) -> (String, u16) {
    let now = listeners::read(&RootFs::host(), "/proc/net");
    let seed = std::process::id() % 1000 * 3 + salt;
    for k in 0..50 {
        let host = format!("127.0.0.{}", 2 + (seed + k * 3) % 250);
        let port = 20_000 + ((seed + k * 3) % 20_000) as u16;
        if !now.iter().any(|l| l.port() == port) {
            return (host, port);
        }
    }
    panic!("no free port found");
}

fn bound_by_rsyslogd(fixture: Host, legacy: bool, salt: u32) {
    let (host, port) = free_endpoint(salt);
    let mut fixture = fixture.file(
        "/pb.yml",
        &format!("include: default\nvariables:\n  syslog_address: \"tcp://{host}:{port}\"\n"),
    );
    if legacy {
        fixture = fixture.file(
            "/etc/rsyslog.conf",
            "$ModLoad imuxsock\n\n# Provides TCP syslog reception\n#$ModLoad imtcp\n#$InputTCPServerRun 514\n\n$IncludeConfig /etc/rsyslog.d/*.conf\n*.* /var/log/messages\n",
        );
    }
    let pb = fixture.path("/pb.yml");
    fixture
        .run(&[
            "fix",
            "--yes",
            "--only",
            "2.13",
            "--playbook",
            pb.to_str().unwrap(),
        ])
        .code(0);
    let statements = imtcp_statements(&fixture);
    assert!(
        statements
            .iter()
            .any(|s| s.contains(&format!("address=\"{host}\""))),
        "{statements:?}"
    );
    let _daemon = rsyslogd(&statements);
    // rsyslogd can take a while to bind on a loaded machine (CI runs tests side by side).
    let deadline = Instant::now() + Duration::from_secs(30);
    let on_port = loop {
        let on_port: Vec<_> = listeners::read(&RootFs::host(), "/proc/net")
            .into_iter()
            .filter(|l| l.port() == port)
            .collect();
        if !on_port.is_empty() || Instant::now() > deadline {
            break on_port;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        on_port,
        vec![format!("{host}:{port}").parse().unwrap()],
        "rsyslogd with {statements:?}"
    );
}

#[test]
fn rsyslogd_listens_only_at_dockerds_address_debian() {
    bound_by_rsyslogd(Host::debian12(), false, 0);
}

#[test]
fn rsyslogd_listens_only_at_dockerds_address_rhel() {
    bound_by_rsyslogd(Host::rhel9(), false, 1);
}

#[test]
fn rsyslogd_listens_only_at_dockerds_address_legacy_config() {
    bound_by_rsyslogd(Host::debian12(), true, 2);
}
