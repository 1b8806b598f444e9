//! Every report format is valid whatever the host holds: JSON against docs/report-schema.json,
//! JUnit as XML, SARIF with the 2.1.0 structure; hostile file names included.

mod common;

use common::Host;
use serde_json::Value;

/// A host whose registry certificate lives in a directory named with markup, quotes and a
/// control character, so the evidence carries them.
fn hostile() -> Host {
    Host::ubuntu2204()
        .file("/etc/docker/certs.d/evil<&\"'\u{1}]]>:5000/ca.crt", "x\n")
        .mode("/etc/docker/certs.d/evil<&\"'\u{1}]]>:5000/ca.crt", 0o666)
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/report-schema.json"
    ))
    .unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

#[test]
fn json_report_matches_its_schema() {
    let validator = schema();
    for host in [Host::debian12(), Host::rhel9(), hostile()] {
        let report = host.run(&["check", "--format", "json"]).json();
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
    // A pending restart and a waiver are in the schema too.
    let host = hostile().file(
        "/pb.yml",
        "include: default\nwaivers:\n  - id: \"2.2\"\n    reason: r\n    expires: 2999-01-01\n",
    );
    let pb = host.path("/pb.yml");
    let report = host
        .run(&[
            "check",
            "--format",
            "json",
            "--playbook",
            pb.to_str().unwrap(),
        ])
        .json();
    assert!(validator.is_valid(&report));
    assert_eq!(report["summary"]["waived"], 1);
    let evidence = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "3.8")
        .unwrap()["evidence"]
        .to_string();
    assert!(
        evidence.contains("evil<&\\\"'\\u0001]]>:5000"),
        "{evidence}"
    );
}

#[test]
fn junit_report_is_xml_with_one_case_per_item() {
    let host = hostile();
    let json = host.run(&["check", "--format", "json"]).json();
    let items = json["items"].as_array().unwrap();
    let warns = items.iter().filter(|i| i["status"] == "WARN").count();
    let run = host.run(&["check", "--format", "junit"]);
    run.code(1);
    let doc =
        roxmltree::Document::parse(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.stdout));
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), items.len());
    let failures = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .count();
    assert_eq!(failures, warns);
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(
        suite.attribute("failures"),
        Some(warns.to_string().as_str())
    );
    let cert_case = cases
        .iter()
        .find(|c| c.attribute("name").unwrap().starts_with("3.8 "))
        .unwrap();
    let text: String = cert_case.descendants().filter_map(|n| n.text()).collect();
    assert!(text.contains("evil<&\"'\u{fffd}]]>:5000"), "{text}");
}

#[test]
fn sarif_report_has_the_2_1_0_structure() {
    let host = hostile();
    let out = host.path("/report.sarif");
    host.run(&[
        "check",
        "--format",
        "sarif",
        "--output",
        out.to_str().unwrap(),
    ])
    .code(1);
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "docker-harden");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(rules.len(), results.len());
    let mut ids = std::collections::BTreeSet::new();
    for rule in rules {
        assert!(
            ids.insert(rule["id"].as_str().unwrap().to_string()),
            "duplicate rule {}",
            rule["id"]
        );
        assert!(rule["shortDescription"]["text"].is_string());
    }
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules[index]["id"], result["ruleId"],
            "ruleIndex must point at the rule"
        );
        assert!(["none", "note", "warning", "error"].contains(&result["level"].as_str().unwrap()));
        assert!(
            [
                "pass",
                "fail",
                "review",
                "open",
                "informational",
                "notApplicable"
            ]
            .contains(&result["kind"].as_str().unwrap())
        );
        assert!(result["message"]["text"].is_string());
        let failing = result["kind"] == "fail";
        assert_eq!(failing, result["level"] == "warning", "{result}");
    }
    assert!(results.iter().any(|r| {
        r["kind"] == "fail"
            && r["message"]["text"]
                .as_str()
                .unwrap()
                .contains("evil<&\"'\u{1}]]>:5000")
    }));
}
