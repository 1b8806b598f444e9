//! Stable rule codes: every item has a code that no `--benchmark` changes. SARIF rule IDs,
//! JUnit case names, JSON items, waivers and run records carry it, so a dashboard tracks the
//! same rules whichever numbering the operator prints.

use std::collections::BTreeMap;

use crate::common;

use common::Host;
use serde_json::Value;

fn sarif(host: &Host, version: &str) -> Value {
    let run = host.run(&["check", "--benchmark", version, "--format", "sarif"]);
    run.code(1);
    serde_json::from_str(&run.stdout).unwrap()
}

/// ruleId -> (the result's printed ID, its status), over every result.
fn rules(report: &Value) -> BTreeMap<String, (String, String)> {
    report["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap().to_string(),
                (
                    r["properties"]["benchmarkId"].as_str().unwrap().to_string(),
                    r["properties"]["status"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

#[test]
fn sarif_rule_ids_are_the_same_under_every_benchmark() {
    let host = Host::debian12();
    let v16 = rules(&sarif(&host, "1.6.0"));
    let v18 = rules(&sarif(&host, "1.8.0"));
    // v1.8.0 adds the devicemapper item and v1.7.0 swaps the 1.1.9 watch; every other rule is
    // the same rule with the same verdict, whatever ID is printed.
    let only_16: Vec<&String> = v16.keys().filter(|k| !v18.contains_key(*k)).collect();
    let only_18: Vec<&String> = v18.keys().filter(|k| !v16.contains_key(*k)).collect();
    assert_eq!(only_16, ["audit-docker-socket-unit"]);
    assert_eq!(only_18, ["audit-docker-sock", "no-devicemapper"]);
    for (code, (id, status)) in &v16 {
        if let Some((id18, status18)) = v18.get(code) {
            assert_eq!(status, status18, "{code}");
            if code == "tcp-tls-verify" {
                assert_eq!((id.as_str(), id18.as_str()), ("2.7", "2.8"));
            }
        }
    }
    assert_eq!(v16["userns-remap"].0, "2.9");
    assert_eq!(v18["userns-remap"].0, "2.10");
    // A rule's ID is its code; the printed ID stays in its properties.
    let report = sarif(&host, "1.8.0");
    let rule = report["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "icc-off")
        .unwrap()
        .clone();
    assert_eq!(rule["properties"]["benchmarkId"], "2.2");
    assert_eq!(rule["properties"]["legacyId"], "2.1");
}

#[test]
fn json_and_junit_carry_the_code_beside_the_id() {
    let host = Host::debian12();
    let run = host.run(&["check", "--benchmark", "1.8.0", "--format", "json"]);
    assert_eq!(run.item("2.10")["code"], "userns-remap");
    assert_eq!(run.item("1.1.3")["code"], "audit-dockerd");
    let junit = host.run(&["check", "--format", "junit", "--only", "2.2"]);
    junit.stdout_has(r#"name="2.2 icc-off: Containers on the default bridge"#);
}

#[test]
fn a_waiver_by_code_holds_under_every_benchmark() {
    let host = Host::debian12().file(
        "/pb.yml",
        "include: default\nwaivers:\n  - code: userland-proxy-off\n    reason: legacy app needs the proxy\n    expires: 2999-12-31\n",
    );
    let pb = host.path("/pb.yml");
    for (version, id) in [("1.6.0", "2.16"), ("1.7.0", "2.16"), ("1.8.0", "2.17")] {
        let run = host.run(&[
            "check",
            "--benchmark",
            version,
            "--format",
            "json",
            "--playbook",
            pb.to_str().unwrap(),
        ]);
        assert_eq!(run.status(id), "WAIVED", "{version}: {}", run.evidence(id));
        assert_eq!(run.item(id)["code"], "userland-proxy-off");
    }
    let bad = Host::debian12().file(
        "/pb.yml",
        "include: default\nwaivers:\n  - code: userland-proxy\n    reason: r\n    expires: 2999-12-31\n",
    );
    let pb = bad.path("/pb.yml");
    bad.run(&["check", "--playbook", pb.to_str().unwrap()])
        .code(2)
        .stderr_has("waivers: no item has code `userland-proxy`");
}

#[test]
fn a_duplicate_code_is_a_load_error_naming_the_file_and_items() {
    let host = Host::debian12().file(
        "/pb/site.yml",
        "include: default\nitems:\n  - id: \"local.1\"\n    code: live-restore-on\n    title: t\n    why: w\n    permissions: { target: daemon_json, max_mode: \"0600\" }\n",
    );
    let pb = host.path("/pb/site.yml");
    host.run(&["check", "--playbook", pb.to_str().unwrap()])
        .code(2)
        .stderr_has(&format!(
            "{}: invalid playbook: items: items 2.15 and local.1",
            pb.display()
        ))
        .stderr_has("both have code `live-restore-on`");
}

#[test]
fn run_records_carry_the_codes() {
    let host = Host::debian12();
    host.run(&["fix", "--yes", "--benchmark", "1.8.0", "--only", "2.2,2.17"])
        .code(0);
    let backups = host.path("/var/lib/docker-harden/backups");
    let run = std::fs::read_dir(&backups)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["items"], serde_json::json!(["2.2", "2.17"]));
    assert_eq!(
        manifest["codes"],
        serde_json::json!(["icc-off", "userland-proxy-off"])
    );
    let daemon_json = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("daemon.json"))
        .unwrap()
        .clone();
    assert_eq!(daemon_json["items"], serde_json::json!(["2.2", "2.17"]));
    assert_eq!(
        daemon_json["codes"],
        serde_json::json!(["icc-off", "userland-proxy-off"])
    );
}
