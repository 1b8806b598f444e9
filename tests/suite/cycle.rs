//! The whole life of a fix on three kinds of host: diff, fix --yes, check, fix again, rollback.

use crate::common;

use common::{Host, changed};

/// Fixable items `fix --yes` leaves alone on purpose: disruptive (needs --only).
const LEFT_OUT: &[&str] = &["2.9"];

fn full_cycle(host: Host) {
    let original = host.snapshot();

    // The dry run writes nothing at all, not even docker-harden's state directory.
    host.run(&["diff"]).code(1).stdout_has("would change");
    assert!(changed(&original, &host.snapshot()).is_empty());
    assert!(!host.exists("/var/lib/docker-harden"));

    host.run(&["fix", "--yes"])
        .code(1)
        .stdout_has("still WARN: 2.9");
    let fixed = host.snapshot();
    assert!(!changed(&original, &fixed).is_empty());

    // check after fix: every fixable item passes, except the ones left out on purpose.
    let report = host.run(&["check", "--format", "json"]).json();
    let fixable_warns: Vec<&str> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "WARN" && i["fixable"] == true)
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert!(
        fixable_warns.iter().all(|w| LEFT_OUT.contains(w)),
        "still WARN: {fixable_warns:?}"
    );

    // fix again changes nothing and asks for no service action.
    let again = host.run(&["fix", "--yes"]);
    again.code(1).stdout_has("nothing to change");
    assert!(!again.stdout.contains("services:"), "{}", again.stdout);
    assert!(changed(&fixed, &host.snapshot()).is_empty());

    // rollback: every file byte-identical, modes and owners restored.
    host.run(&["rollback"])
        .code(0)
        .stdout_has("rolled back run");
    let back = host.snapshot();
    assert_eq!(changed(&original, &back), Vec::<String>::new());
    host.run(&["rollback", "--list"])
        .code(0)
        .stdout_has("rolled-back");
}

#[test]
fn debian12_docker_io() {
    full_cycle(Host::debian12());
}

#[test]
fn ubuntu2204_docker_ce() {
    full_cycle(Host::ubuntu2204());
}

#[test]
fn rhel9_sysconfig_no_rules_d() {
    full_cycle(Host::rhel9());
}

#[test]
fn debian12_writes_expected_files() {
    let host = Host::debian12();
    host.run(&["fix", "--yes"]).code(1);
    // daemon.json created 0644 root:root with the keys, in the fixers' order.
    let json: serde_json::Value =
        serde_json::from_str(&host.read("/etc/docker/daemon.json")).unwrap();
    assert_eq!(json["icc"], false);
    assert_eq!(json["log-driver"], "syslog");
    assert_eq!(json["log-opts"]["syslog-address"], "tcp://127.0.0.1:514");
    assert_eq!(json["no-new-privileges"], true);
    assert_eq!(json["live-restore"], true);
    assert_eq!(json["userland-proxy"], false);
    assert!(
        json.get("userns-remap").is_none(),
        "disruptive 2.9 needs --only"
    );
    assert_eq!(host.meta("/etc/docker/daemon.json"), (0o644, 0, 0));
    // Audit watches in our own rules.d file; the real dockerd path (Debian: /usr/sbin).
    let rules = host.read("/etc/audit/rules.d/50-docker-harden.rules");
    assert!(
        rules.contains("-w /usr/sbin/dockerd -p wa -k docker"),
        "{rules}"
    );
    assert!(
        rules.contains("-w /usr/sbin/runc -p wa -k docker"),
        "{rules}"
    );
    assert!(
        rules.contains("-w /etc/docker/daemon.json -p wa -k docker"),
        "{rules}"
    );
    assert_eq!(
        host.meta("/etc/audit/rules.d/50-docker-harden.rules").0,
        0o640
    );
    // The generated audit.rules is left to augenrules.
    assert_eq!(
        host.read("/etc/audit/audit.rules"),
        host.read("/etc/audit/rules.d/audit.rules")
    );
    // rsyslog: the distribution's commented lines are uncommented, the input bound to the
    // loopback address dockerd sends to; nothing is added.
    let conf = host.read("/etc/rsyslog.conf");
    assert!(
        conf.contains(
            "\nmodule(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n"
        ),
        "{conf}"
    );
    assert!(conf.contains("#module(load=\"imudp\")"));
    assert!(!host.exists("/etc/rsyslog.d/60-docker-harden.conf"));
}

#[test]
fn ubuntu_keeps_other_keys_indent_and_fixes_ownership() {
    let host = Host::ubuntu2204();
    host.run(&["fix", "--yes"]).code(1);
    let text = host.read("/etc/docker/daemon.json");
    assert!(
        text.starts_with("{\n    \"log-driver\": \"syslog\",\n    \"log-opts\": {\n"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    // json-file's options would stop the syslog driver; tag is valid for both and stays.
    assert!(json["log-opts"].get("max-size").is_none());
    assert_eq!(json["log-opts"]["tag"], "{{.Name}}");
    assert_eq!(json["default-address-pools"][0]["size"], 24);
    assert_eq!(host.meta("/etc/docker/daemon.json"), (0o644, 0, 0));
    assert_eq!(host.meta("/run/docker.sock"), (0o660, 0, 999));
    assert_eq!(
        host.meta("/etc/docker/certs.d/registry.example.com:5000/ca.crt")
            .0,
        0o444
    );
    // Audit binaries in /usr/bin, containerd's config watched.
    let rules = host.read("/etc/audit/rules.d/50-docker-harden.rules");
    assert!(rules.contains("-w /usr/bin/dockerd -p wa -k docker"));
    assert!(rules.contains("-w /etc/containerd/config.toml -p wa -k docker"));
    // containerd.sock's directory does not exist when rules load at boot: no rule for it, or
    // auditctl would stop loading at it.
    assert!(!rules.contains("containerd.sock"), "{rules}");
    assert!(rules.contains("-w /run/containerd -p wa -k docker"));
}

#[test]
fn rhel_appends_before_immutable_flag_and_uncomments_rsyslog() {
    let host = Host::rhel9();
    host.run(&["fix", "--yes"]).code(1);
    let rules = host.read("/etc/audit/audit.rules");
    let watch = rules
        .find("-w /usr/bin/dockerd -p wa -k docker")
        .expect("watch added");
    let lock = rules.find("\n-e 2").expect("lock kept");
    assert!(watch < lock, "watches must come before -e 2:\n{rules}");
    assert!(rules.contains("-w /etc/sysconfig/docker -p wa -k docker"));
    let conf = host.read("/etc/rsyslog.conf");
    assert!(conf.contains("\nmodule(load=\"imtcp\") # needs to be done just once\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n"), "{conf}");
    assert_eq!(
        host.read("/etc/docker/daemon.json").lines().nth(1),
        Some("\t\"storage-driver\": \"overlay2\",")
    );
}

#[test]
fn disruptive_item_applies_only_when_named() {
    let host = Host::debian12();
    host.run(&["fix", "--yes", "--only", "2"]).code(1);
    assert!(
        !host
            .read("/etc/docker/daemon.json")
            .contains("userns-remap")
    );
    host.run(&["fix", "--yes", "--only", "2.9"]).code(0);
    assert!(
        host.read("/etc/docker/daemon.json")
            .contains("\"userns-remap\": \"default\"")
    );
}

#[test]
fn selectors_accept_legacy_ids_and_sections() {
    let host = Host::debian12().file("/pb/no-swarm.yml", "include: default\nskip: [\"5.1\"]\n");
    // Older guides call icc "2.1", but 2.1 is an item of v1.6.0 too: the current ID wins.
    let run = host.run(&["check", "--only", "2.1", "--format", "json"]);
    let report = run.json();
    let ids: Vec<&str> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["2.1"]);
    // A v1.6.0 item without a check in the playbook is refused rather than misread.
    let no_swarm = host.path("/pb/no-swarm.yml");
    host.run(&[
        "check",
        "--only",
        "5.1",
        "--playbook",
        no_swarm.to_str().unwrap(),
    ])
    .code(2)
    .stderr_has("has no check");
    let run = host.run(&["check", "--only", "1.5,3", "--format", "json"]);
    let ids: Vec<String> = run.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids[0], "1.1.3");
    assert!(ids[1..].iter().all(|i| i.starts_with("3.")));
    host.run(&["check", "--only", "nope"])
        .code(2)
        .stderr_has("unknown item ID");
}

#[test]
fn waivers_report_waived_until_expiry() {
    let host = Host::debian12()
        .file(
            "/pb/current.yml",
            "include: default\nwaivers:\n  - id: \"2.16\"\n    reason: the legacy app needs hairpin via proxy\n    expires: 2999-12-31\n",
        )
        .file(
            "/pb/expired.yml",
            "include: default\nwaivers:\n  - id: \"2.16\"\n    reason: old exception\n    expires: 2000-01-01\n",
        );
    let current = host.path("/pb/current.yml");
    let run = host.run(&[
        "check",
        "--only",
        "2.16",
        "--playbook",
        current.to_str().unwrap(),
    ]);
    run.code(0)
        .stdout_has("[WAIVED] 2.16")
        .stdout_has("waived until 2999-12-31: the legacy app needs hairpin via proxy");
    // A waived item is not fixed.
    host.run(&[
        "fix",
        "--yes",
        "--only",
        "2.16",
        "--playbook",
        current.to_str().unwrap(),
    ])
    .code(0)
    .stdout_has("nothing to change");
    let expired = host.path("/pb/expired.yml");
    host.run(&[
        "check",
        "--only",
        "2.16",
        "--playbook",
        expired.to_str().unwrap(),
    ])
    .code(1)
    .stdout_has("[WARN] 2.16")
    .stdout_has("waiver expired on 2000-01-01");
}

#[test]
fn flags_in_sysconfig_options_move_to_daemon_json() {
    let host = Host::rhel9().file(
        "/etc/sysconfig/docker",
        "# /etc/sysconfig/docker\nOPTIONS=\"--selinux-enabled --icc=true --log-driver=journald --log-opt tag=app\"\n",
    );
    let original = host.snapshot();
    host.run(&["check", "--only", "2.2"]).code(1).stdout_has(
        "icc is true (--icc=true on ExecStart in /usr/lib/systemd/system/docker.service)",
    );
    host.run(&["fix", "--yes", "--only", "2.2,2.13"]).code(0);
    assert_eq!(
        host.read("/etc/sysconfig/docker"),
        "# /etc/sysconfig/docker\nOPTIONS=\"--selinux-enabled\"\n"
    );
    let json: serde_json::Value =
        serde_json::from_str(&host.read("/etc/docker/daemon.json")).unwrap();
    assert_eq!(json["icc"], false);
    assert_eq!(json["log-driver"], "syslog");
    assert_eq!(
        json["log-opts"]["tag"], "app",
        "a syslog-valid --log-opt moves along"
    );
    host.run(&["rollback"]).code(0);
    assert!(changed(&original, &host.snapshot()).is_empty());
}

#[test]
fn flag_in_execstart_moves_through_a_drop_in() {
    let host = Host::debian12().file(
        "/etc/systemd/system/docker.service.d/override.conf",
        "[Service]\nExecStart=\nExecStart=/usr/sbin/dockerd -H fd:// --live-restore=false $DOCKER_OPTS\n",
    );
    let diff = host.run(&["diff", "--only", "2.15"]);
    diff.code(1)
        .stdout_has("+++ b/etc/systemd/system/docker.service.d/zz-docker-harden.conf")
        .stdout_has("+ExecStart=/usr/sbin/dockerd -H fd:// $DOCKER_OPTS")
        .stdout_has("reload systemd's unit files, then restart docker");
    host.run(&["fix", "--yes", "--only", "2.15"]).code(0);
    assert!(
        host.read("/etc/docker/daemon.json")
            .contains("\"live-restore\": true")
    );
    assert_eq!(
        host.read("/etc/systemd/system/docker.service.d/override.conf"),
        "[Service]\nExecStart=\nExecStart=/usr/sbin/dockerd -H fd:// --live-restore=false $DOCKER_OPTS\n",
        "the operator's drop-in is left as it is"
    );
    host.run(&["check", "--only", "2.15"])
        .code(0)
        .stdout_has("live-restore is true (in /etc/docker/daemon.json)");
    host.run(&["fix", "--yes", "--only", "2.15"])
        .code(0)
        .stdout_has("nothing to change");
}

#[test]
fn userns_remap_gets_subordinate_ids() {
    let host = Host::debian12().file("/etc/subuid", "admin:100000:65536\n");
    let original = host.snapshot();
    host.run(&["fix", "--yes", "--only", "2.9"]).code(0);
    assert_eq!(
        host.read("/etc/subuid"),
        "admin:100000:65536\ndockremap:165536:65536\n"
    );
    assert_eq!(host.read("/etc/subgid"), "dockremap:100000:65536\n");
    host.run(&["fix", "--yes", "--only", "2.9"])
        .code(0)
        .stdout_has("nothing to change");
    host.run(&["rollback"]).code(0);
    assert!(changed(&original, &host.snapshot()).is_empty());
    // A named user must exist.
    let pb = host.path("/pb.yml");
    std::fs::write(&pb, "include: default\nvariables:\n  userns_remap: ghost\n").unwrap();
    host.run(&[
        "fix",
        "--yes",
        "--only",
        "2.9",
        "--playbook",
        pb.to_str().unwrap(),
    ])
    .code(1)
    .stdout_has("userns-remap names user ghost, who does not exist");
}

#[test]
fn golden_image_watches_paths_its_daemons_create_at_start() {
    // An image that never booted: no /run, no data root yet.
    let host = Host::debian12().remove("/var/lib/docker").remove("/run");
    host.run(&["fix", "--yes"]).code(1);
    let rules = host.read("/etc/audit/rules.d/50-docker-harden.rules");
    for path in ["/var/lib/docker", "/run/containerd"] {
        assert!(
            rules.contains(&format!("-w {path} -p wa -k docker")),
            "{path}:\n{rules}"
        );
    }
    assert!(!rules.contains("containerd.sock"), "{rules}");
    host.run(&["check", "--only", "1.1.8"])
        .code(0)
        .stdout_has("[INFO] 1.1.8")
        .stdout_has("a rule for it would fail and stop every rule after it");
    // Without containerd installed there is nothing to expect under /run/containerd.
    let host = Host::debian12()
        .remove("/usr/bin/containerd")
        .remove("/run");
    host.run(&["fix", "--yes"]).code(1);
    assert!(
        !host
            .read("/etc/audit/rules.d/50-docker-harden.rules")
            .contains("/run/containerd")
    );
}
