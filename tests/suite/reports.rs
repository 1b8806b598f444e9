//! Every report format is valid whatever the host holds: JSON against docs/report-schema.json,
//! JUnit as XML, SARIF with the 2.1.0 structure; hostile file names included.

use crate::common;

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

/// `check --output FILE` run through bash with a shell prelude (`umask`, `ulimit`), so the
/// limits hold for docker-harden alone.
fn check_output(host: &Host, prelude: &str, output: &std::path::Path) -> common::Run {
    let check = host.command(&["check", "--format", "json"]);
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c")
        .arg(format!(r#"{prelude}; exec "$@""#))
        .arg("bash")
        .arg(check.get_program())
        .args(check.get_args())
        // After --root: --output takes the path, not the root.
        .arg("--output")
        .arg(output);
    for (key, value) in check.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    let out = cmd.output().unwrap();
    common::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A write that fails halfway (here the file size limit, as a full disk would) leaves the
/// previous report as it was, no temporary file beside it, and an error naming the report.
#[test]
fn a_failed_report_write_leaves_the_previous_report_whole() {
    let host = Host::debian12();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let previous = "{\"previous\": \"report\"}\n".repeat(10);
    std::fs::write(&report, &previous).unwrap();
    // 1 KiB: the JSON report is many times that. SIGXFSZ ignored, so the write fails (EFBIG)
    // instead of killing the process.
    let run = check_output(&host, r#"trap "" XFSZ; ulimit -f 1"#, &report);
    run.code(2).stderr_has(&format!(
        "docker-harden: error: cannot write {}: File too large",
        report.display()
    ));
    assert_eq!(std::fs::read_to_string(&report).unwrap(), previous);
    assert_eq!(entries(dir.path()), ["report.json"]);

    // Without the limit the same call replaces it.
    check_output(&host, "true", &report).code(1);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(json["items"].is_array());
    assert_eq!(entries(dir.path()), ["report.json"]);
}

#[test]
fn report_errors_name_the_report() {
    let host = Host::debian12();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), "").unwrap();
    for (output, why) in [
        (
            dir.path().join("missing/report.json"),
            "cannot write {}: No such file or directory",
        ),
        (
            dir.path().join("file/report.json"),
            "cannot write {}: Not a directory",
        ),
        (
            dir.path().to_path_buf(),
            "{}: expected a regular file, found a directory",
        ),
    ] {
        let run = check_output(&host, "true", &output);
        run.code(2).stderr_has(&format!(
            "docker-harden: error: {}",
            why.replace("{}", &output.display().to_string())
        ));
    }
    assert_eq!(entries(dir.path()), ["file"]);
}

/// Run as root with `--output` in a shared directory, writing through a symlink planted there
/// would overwrite whatever it points at: the link itself is replaced, its target untouched.
#[test]
fn a_symlink_at_the_report_path_is_replaced_not_written_through() {
    let host = Host::debian12();
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("shadow");
    std::fs::write(&victim, "root:$6$secret:19000:0:99999:7:::\n").unwrap();
    let link = dir.path().join("report.json");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    check_output(&host, "true", &link).code(1);
    assert!(
        std::fs::read_to_string(&victim).unwrap() == "root:$6$secret:19000:0:99999:7:::\n",
        "the report went through the symlink into {}",
        victim.display()
    );
    assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&link).unwrap()).unwrap();
    assert!(json["items"].is_array());
}

/// A replaced report keeps its mode (one kept private stays private); a new one gets what the
/// umask leaves, as with the shell's `>`; a bare file name is one in the working directory.
#[test]
fn report_modes_and_a_bare_file_name() {
    use std::os::unix::fs::PermissionsExt;
    let host = Host::debian12();
    let dir = tempfile::tempdir().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;

    let private = dir.path().join("private.json");
    std::fs::write(&private, "old").unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
    check_output(&host, "umask 022", &private).code(1);
    assert_eq!(mode(&private), 0o600);
    assert_ne!(std::fs::read_to_string(&private).unwrap(), "old");

    let new = dir.path().join("new.json");
    check_output(&host, "umask 027", &new).code(1);
    assert_eq!(mode(&new), 0o640);

    let bare = std::path::Path::new("bare.json");
    let mut check = host.command(&["check", "--format", "json", "--output", "bare.json"]);
    check.current_dir(dir.path());
    assert_eq!(check.status().unwrap().code(), Some(1));
    assert!(dir.path().join(bare).is_file());
    assert_eq!(
        entries(dir.path()),
        ["bare.json", "new.json", "private.json"]
    );
}
