//! The engine's release decides what pre-flight accepts: dockerd 23+ judges the planned
//! daemon.json itself (`dockerd --validate`, with the flags it starts with), older engines and
//! roots by the known keys of their release; the run record says which ran. Through the
//! library with scripted seams (nothing here runs dockerd); tests/suite/engine_keys.rs holds
//! the tables against a real dockerd.

use crate::common::{Host, changed};
use crate::live::{
    AUDIT_STATUS_ENABLED, DEBIAN_DOCKERD, JSON_MTIME, auditctl, check, diff, engine, fake_proc,
    fix_yes, ok, run, service_calls, settings_over, with_daemon_json,
};

use docker_harden::engine::{EngineInfo, FixedEngine};
use docker_harden::runner::{CommandOutput, RecordingRunner};
use serde_json::Value;

const DOCKER_26: &str = "Docker version 26.1.5+dfsg1, build 411e817\n";
const DOCKER_20: &str = "Docker version 20.10.24+dfsg1, build 297e128\n";

fn debian_host(daemon_json: &str) -> Host {
    let host = fake_proc(Host::debian12(), Some(DEBIAN_DOCKERD), JSON_MTIME + 3600);
    with_daemon_json(host, daemon_json)
}

/// The scripted host whose /usr/sbin/dockerd says it is `version`.
fn installed(version: &str) -> RecordingRunner {
    auditctl("No rules\n", AUDIT_STATUS_ENABLED).answer("/usr/sbin/dockerd --version", ok(version))
}

fn validate_calls(runner: &RecordingRunner) -> Vec<String> {
    runner
        .calls()
        .into_iter()
        .filter(|c| c.contains("--validate"))
        .collect()
}

fn manifests(host: &Host) -> Vec<Value> {
    let dir = host.path("/var/lib/docker-harden/backups");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let m = entry.path().join("manifest.json");
        if let Ok(text) = std::fs::read_to_string(m) {
            out.push(serde_json::from_str(&text).unwrap());
        }
    }
    out
}

#[test]
fn dockerd_26_refuses_the_planned_daemon_json_in_its_own_words_and_nothing_is_written() {
    // A value dockerd does not take (the operator edited the file and has not restarted yet):
    // no key table can know.
    let host = debian_host("{\n  \"log-level\": \"verbose\"\n}\n");
    let original = host.snapshot();
    let settings = settings_over(&host, true);
    let runner = installed(DOCKER_26)
        .answer(
            "/usr/sbin/dockerd --validate",
            Ok(CommandOutput::failed(
                "unable to configure the Docker daemon with file /etc/docker/daemon.json: merged configuration validation from file and command line flags failed: invalid logging level: verbose\n",
            )),
        );
    run(&settings, &runner, &engine("json-file", false), &diff(&["2.14"]))
        .code(0)
        .stdout_has("2.14")
        .stdout_has("refused by pre-flight: dockerd 26.1.5+dfsg1 refuses the planned /etc/docker/daemon.json: unable to configure the Docker daemon with file /etc/docker/daemon.json: merged configuration validation from file and command line flags failed: invalid logging level: verbose");
    let fix = run(
        &settings,
        &runner,
        &engine("json-file", false),
        &fix_yes(&["2.14", "2.15"]),
    );
    fix.stdout_has("refused by pre-flight: dockerd 26.1.5+dfsg1 refuses")
        .stdout_has("nothing to change");
    assert_eq!(changed(&original, &host.snapshot()), Vec::<String>::new());
    assert_eq!(service_calls(&runner), Vec::<String>::new());
    // dockerd got the planned file (a private copy) and the flags its unit passes.
    let calls = validate_calls(&runner);
    assert!(!calls.is_empty());
    for call in &calls {
        let words: Vec<&str> = call.split(' ').collect();
        assert_eq!(
            &words[..3],
            ["/usr/sbin/dockerd", "--validate", "--config-file"]
        );
        assert!(
            words[3].contains("docker-harden-validate-") && words[3] != "/etc/docker/daemon.json",
            "{call}"
        );
        assert!(words[4..].contains(&"--host=fd://"), "{call}");
        assert!(
            !std::path::Path::new(words[3]).exists(),
            "the copy is removed: {call}"
        );
    }
}

#[test]
fn dockerd_26_accepts_and_the_run_record_says_it_judged() {
    let host = debian_host("{}\n");
    let settings = settings_over(&host, true);
    let runner = installed(DOCKER_26).answer(
        "/usr/sbin/dockerd --validate",
        Ok(CommandOutput {
            success: true,
            stdout: String::new(),
            stderr: "configuration OK\n".into(),
        }),
    );
    run(&settings, &runner, &engine("json-file", false), &fix_yes(&["2.14"]))
        .stdout_has("pre-flight: `/usr/sbin/dockerd --validate` (Docker 26.1.5+dfsg1) accepted the planned daemon.json");
    assert!(
        host.read("/etc/docker/daemon.json")
            .contains("no-new-privileges")
    );
    let records = manifests(&host);
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0]["validation"],
        "`/usr/sbin/dockerd --validate` (Docker 26.1.5+dfsg1) accepted the planned daemon.json"
    );
}

#[test]
fn dockerd_20_10_cannot_validate_so_its_release_keys_judge() {
    // 20.10 has no --validate: it is never asked; a key it does not know is refused by table.
    let host = debian_host("{\n  \"default-network-opts\": {}\n}\n");
    let original = host.snapshot();
    let settings = settings_over(&host, true);
    let runner = installed(DOCKER_20);
    run(&settings, &runner, &engine("json-file", false), &fix_yes(&["2.14"]))
        .stdout_has("refused by pre-flight: daemon.json would hold key(s) dockerd 20.10.24+dfsg1 does not know and refuses to start with: default-network-opts (by the daemon.json keys Docker 20.10 accepts)");
    assert_eq!(changed(&original, &host.snapshot()), Vec::<String>::new());
    assert_eq!(validate_calls(&runner), Vec::<String>::new());

    // A key it knows: the run goes ahead, judged by the table, and says so.
    let host = debian_host("{\n  \"graph\": \"/var/lib/docker\"\n}\n");
    let settings = settings_over(&host, true);
    let runner = installed(DOCKER_20);
    run(&settings, &runner, &engine("json-file", false), &fix_yes(&["2.14"])).stdout_has(
        "pre-flight: the daemon.json keys Docker 20.10 accepts (the engine is 20.10.24+dfsg1, from `/usr/sbin/dockerd --version`)",
    );
    assert_eq!(
        manifests(&host)[0]["validation"],
        "the daemon.json keys Docker 20.10 accepts (the engine is 20.10.24+dfsg1, from `/usr/sbin/dockerd --version`)"
    );
}

#[test]
fn a_root_is_judged_by_its_package_and_a_removed_key_names_its_successor() {
    // Under --root nothing is run: the dpkg database says Docker 26.1, whose dockerd refuses
    // the `graph` an old host's daemon.json still holds.
    let host = with_daemon_json(
        Host::debian12().file(
            "/var/lib/dpkg/status",
            "Package: containerd\nStatus: install ok installed\nVersion: 1.7.24~ds1-6+deb13u1\n\n\
             Package: docker.io\nStatus: install ok installed\nVersion: 26.1.5+dfsg1-9+deb13u1+b1\n\n",
        ),
        "{\n  \"graph\": \"/srv/docker\"\n}\n",
    );
    let original = host.snapshot();
    let settings = settings_over(&host, false);
    let runner = RecordingRunner::new();
    run(&settings, &runner, &engine("json-file", false), &fix_yes(&["2.14"]))
        .stdout_has("dockerd 26.1.5+dfsg1-9+deb13u1+b1 does not know and refuses to start with: graph (by the daemon.json keys Docker 26.1 accepts)")
        .stdout_has("`graph` was removed in 23.0: use data-root");
    assert_eq!(changed(&original, &host.snapshot()), Vec::<String>::new());
    assert_eq!(runner.calls(), Vec::<String>::new());
}

#[test]
fn an_engine_upgraded_under_the_running_daemon_is_named() {
    // The package went from 20.10 to 26.1; the running dockerd is still 20.10: the next
    // restart runs 26.1, and pre-flight asks it (not the running one).
    let host = debian_host("{}\n");
    let settings = settings_over(&host, true);
    let old = FixedEngine(Ok(EngineInfo {
        server_version: "20.10.24+dfsg1".into(),
        logging_driver: "json-file".into(),
        ..EngineInfo::default()
    }));
    let runner = installed(DOCKER_26);
    let check = run(&settings, &runner, &old, &check(&["1.2.2"]));
    let evidence = check.evidence("1.2.2");
    assert!(
        evidence.contains("the running engine is Docker 20.10.24+dfsg1"),
        "{evidence}"
    );
    assert!(
        evidence.contains("the installed dockerd is 26.1.5+dfsg1 (from `/usr/sbin/dockerd --version`): the next restart of docker runs it"),
        "{evidence}"
    );
    run(&settings, &runner, &old, &diff(&["2.14"]));
    assert_eq!(validate_calls(&runner).len(), 1, "{:?}", runner.calls());
}

#[test]
fn a_refusal_holds_back_only_the_items_that_change_what_daemon_json_says() {
    // dockerd refuses the file: the items writing keys wait, tightening its mode goes ahead.
    let host =
        debian_host("{\n  \"log-level\": \"verbose\"\n}\n").mode("/etc/docker/daemon.json", 0o666);
    let settings = settings_over(&host, true);
    let runner = installed(DOCKER_26).answer(
        "/usr/sbin/dockerd --validate",
        Ok(CommandOutput::failed("invalid logging level: verbose\n")),
    );
    run(
        &settings,
        &runner,
        &engine("json-file", false),
        &fix_yes(&["2.14", "3.18"]),
    )
    .stdout_has("2.14 Containers cannot gain new privileges by default: refused by pre-flight");
    assert_eq!(
        host.read("/etc/docker/daemon.json"),
        "{\n  \"log-level\": \"verbose\"\n}\n"
    );
    let mode = std::fs::metadata(host.path("/etc/docker/daemon.json")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o644
    );
}

#[test]
fn a_dockerd_others_could_change_is_never_run_as_root() {
    // docker-harden runs dockerd (`--version`, `--validate`) as root only when root alone can
    // change it and the directories above it.
    for (path, mode) in [("/usr/sbin/dockerd", 0o775), ("/usr/sbin", 0o777)] {
        let host = debian_host("{}\n").mode(path, mode);
        let settings = settings_over(&host, true);
        let runner = installed(DOCKER_26);
        run(
            &settings,
            &runner,
            &engine("json-file", false),
            &diff(&["2.14"]),
        );
        assert!(
            runner.calls().iter().all(|c| !c.contains("dockerd")),
            "{path} {mode:o}: {:?}",
            runner.calls()
        );
        // The running engine's API tells the version instead.
        run(&settings, &runner, &engine("json-file", false), &diff(&["2.14"]))
            .stdout_has("pre-flight: the daemon.json keys both Docker 20.10 and 26.1 accept (this engine is between the releases checked) (the engine is 24.0.7, from the running dockerd's API)");
    }
}
