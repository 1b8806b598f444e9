//! `--benchmark 1.6.0|1.7.0|1.8.0`: which IDs are printed and accepted. v1.7.0 keeps v1.6.0's
//! numbers but its 1.1.9 watches the API socket; v1.8.0 (the default) adds 2.7 (devicemapper)
//! and numbers v1.6.0's 2.7-2.18 as 2.8-2.19. Legacy IDs keep working with each.

use crate::common;

use common::{BIN, Host, Run};

/// The binary with no --benchmark and no DOCKER_HARDEN_BENCHMARK: the default version.
fn run_default(host: &Host, args: &[&str]) -> Run {
    let out = std::process::Command::new(BIN)
        .args(args)
        .arg("--root")
        .arg(host.root())
        .env("NO_COLOR", "1")
        .env_remove("DOCKER_HARDEN_BENCHMARK")
        .env_remove("DOCKER_HOST")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ids(run: &Run) -> Vec<String> {
    run.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn v1_8_0_is_the_default_and_renumbers_section_2() {
    let host = Host::debian12();
    let run = run_default(&host, &["check", "--format", "json", "--only", "2"]);
    assert_eq!(run.json()["benchmark"], "1.8.0");
    let section: Vec<String> = (1..=19).map(|n| format!("2.{n}")).collect();
    assert_eq!(ids(&run), section);
    assert_eq!(
        run.item("2.7")["title"],
        "The devicemapper storage driver is not in use"
    );
    assert_eq!(run.item("2.10")["title"], "User namespace remapping is on");
    let text = run_default(&host, &["check", "--only", "2.7"]);
    assert!(
        text.stderr.contains("CIS Docker Benchmark v1.8.0 IDs"),
        "{}",
        text.stderr
    );
    // The fix for a disruptive item is named by its v1.8.0 ID.
    run_default(&host, &["fix", "--yes", "--only", "2.10"]).code(0);
    assert!(
        host.read("/etc/docker/daemon.json")
            .contains("\"userns-remap\": \"default\"")
    );
    let run = run_default(&host, &["check", "--format", "json", "--only", "2.10"]);
    assert_eq!(run.status("2.10"), "PASS");
    // JUnit and SARIF say which version they follow.
    let junit = run_default(&host, &["check", "--format", "junit", "--only", "2.2"]);
    assert!(junit.stdout.contains("v1.8.0"), "{}", junit.stdout);
    let sarif = run_default(&host, &["check", "--format", "sarif", "--only", "2.2"]);
    assert!(sarif.stdout.contains("CIS Docker Benchmark v1.8.0"));
}

#[test]
fn each_version_prints_and_accepts_its_own_ids() {
    let host = Host::debian12();
    let check = |version: &str, only: &str| {
        host.run(&[
            "check",
            "--benchmark",
            version,
            "--format",
            "json",
            "--only",
            only,
        ])
    };
    let v16 = check("1.6.0", "1.1.9,2");
    assert_eq!(v16.json()["benchmark"], "1.6.0");
    assert_eq!(
        v16.item("1.1.9")["title"],
        "Audit watch on the docker.socket unit file"
    );
    assert_eq!(ids(&v16).len(), 1 + 18);
    assert_eq!(v16.item("2.9")["title"], "User namespace remapping is on");
    let v17 = check("1.7.0", "1.1.9,2");
    assert_eq!(
        v17.item("1.1.9")["title"],
        "Audit watch on the Docker API socket"
    );
    assert!(
        v17.evidence("1.1.9").contains("docker.sock"),
        "{}",
        v17.evidence("1.1.9")
    );
    assert_eq!(ids(&v17), ids(&v16));
    // v1.6.0 has no 2.19; v1.8.0 does.
    check("1.6.0", "2.19")
        .code(2)
        .stderr_has("unknown item ID or section `2.19`");
    check("1.8.0", "2.19").code(0);
    // Legacy IDs name the same item in every numbering (1.5 is the dockerd watch).
    for version in ["1.6.0", "1.7.0", "1.8.0"] {
        let run = check(version, "1.5");
        assert_eq!(ids(&run), ["1.1.3"], "{version}");
    }
    // An unknown version is an error.
    host.run(&["list", "--benchmark", "1.5.0"])
        .code(2)
        .stderr_has("1.6.0, 1.7.0, 1.8.0");
}

#[test]
fn playbooks_keep_v1_6_0_ids_whatever_the_printed_numbering() {
    let host = Host::debian12().file(
        "/pb/waive.yml",
        "include: default\nskip: [\"2.8\"]\nwaivers:\n  - id: \"2.16\"\n    reason: legacy app needs the proxy\n    expires: 2999-12-31\n",
    );
    let pb = host.path("/pb/waive.yml");
    let run = host.run(&[
        "check",
        "--benchmark",
        "1.8.0",
        "--format",
        "json",
        "--only",
        "2",
        "--playbook",
        pb.to_str().unwrap(),
    ]);
    // v1.6.0's 2.16 (userland proxy) is v1.8.0's 2.17; its 2.8 (default ulimits) is 2.9.
    assert_eq!(run.status("2.17"), "WAIVED", "{}", run.evidence("2.17"));
    assert!(!ids(&run).contains(&"2.9".to_string()), "{:?}", ids(&run));
    // A playbook cannot declare another numbering for its items.
    let bad = Host::debian12().file("/pb/v18.yml", "include: default\nbenchmark: \"1.8.0\"\n");
    let pb = bad.path("/pb/v18.yml");
    bad.run(&["check", "--playbook", pb.to_str().unwrap()])
        .code(2)
        .stderr_has("playbooks number their items as v1.6.0 does");
}
