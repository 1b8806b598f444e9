//! Bad input gets a clear error naming the file (and line), exit code 2, and nothing written.

use crate::common;

use common::{Host, changed};

/// Runs `args`, expects exit 2 with `message` on stderr, and proves nothing was written.
fn refuses(host: &Host, args: &[&str], message: &str) {
    let before = host.snapshot();
    let had_state = host.exists("/var/lib/docker-harden/backups");
    host.run(args).code(2).stderr_has(message);
    assert_eq!(
        changed(&before, &host.snapshot()),
        Vec::<String>::new(),
        "{args:?} wrote something"
    );
    assert_eq!(host.exists("/var/lib/docker-harden/backups"), had_state);
}

#[test]
fn invalid_daemon_json_names_line_and_column() {
    let host = Host::ubuntu2204().file("/etc/docker/daemon.json", "{\n  \"icc\": false,\n}\n");
    for args in [&["check"][..], &["diff"], &["fix", "--yes"]] {
        refuses(&host, args, "/etc/docker/daemon.json:3:1: not valid JSON");
    }
}

#[test]
fn daemon_json_must_be_an_object() {
    let host = Host::debian12().file("/etc/docker/daemon.json", "[\"icc\"]\n");
    refuses(
        &host,
        &["fix", "--yes"],
        "/etc/docker/daemon.json:1:1: not valid JSON: the top level must be a JSON object",
    );
}

#[test]
fn rules_file_that_is_not_text() {
    let host = Host::debian12().bytes(
        "/etc/audit/rules.d/10-site.rules",
        b"-w /etc/ssh -p wa\n-w /x\xff\n",
    );
    refuses(
        &host,
        &["fix", "--yes"],
        "/etc/audit/rules.d/10-site.rules: line 2: not valid UTF-8 text",
    );
}

#[test]
fn rules_file_that_is_a_directory() {
    let host = Host::debian12().dir("/etc/audit/rules.d/20-broken.rules", 0o755);
    refuses(
        &host,
        &["check"],
        "/etc/audit/rules.d/20-broken.rules: expected a regular file",
    );
}

#[test]
fn playbook_with_unknown_key() {
    let host = Host::debian12().file(
        "/pb.yml",
        "include: default\nvariables:\n  syslog_adress: tcp://127.0.0.1:514\n",
    );
    let pb = host.path("/pb.yml");
    refuses(
        &host,
        &["fix", "--yes", "--playbook", pb.to_str().unwrap()],
        "pb.yml:3:3: invalid playbook: variables: unknown field `syslog_adress`",
    );
}

#[test]
fn playbook_with_wrong_type_or_two_kinds_in_one_item() {
    let host = Host::debian12()
        .file("/pb1.yml", "include: default\nenable: 2.9\n")
        .file("/pb2.yml", "items:\n  - id: \"9.1\"\n    title: t\n    why: w\n    audit: { target: dockerd }\n    disruptive: no\n    ownership: { target: dockerd, user: root, group: root }\n");
    let pb1 = host.path("/pb1.yml");
    refuses(
        &host,
        &["check", "--playbook", pb1.to_str().unwrap()],
        "pb1.yml:2:9: invalid playbook: enable: invalid type",
    );
    let pb2 = host.path("/pb2.yml");
    refuses(
        &host,
        &["check", "--playbook", pb2.to_str().unwrap()],
        "item 9.1 has more than one of",
    );
}

#[test]
fn playbook_with_unknown_item_in_skip() {
    let host = Host::debian12().file("/pb.yml", "include: default\nskip: [\"8.8\"]\n");
    let pb = host.path("/pb.yml");
    refuses(
        &host,
        &["check", "--playbook", pb.to_str().unwrap()],
        "skip: unknown item ID or section `8.8`",
    );
}

#[test]
fn symlink_out_of_the_root() {
    let host = Host::debian12().symlink(
        "/etc/docker/daemon.json",
        "../../../../../../../../../../tmp/outside.json",
    );
    refuses(&host, &["fix", "--yes"], "leads out of the root");
}

#[test]
fn absolute_symlink_stays_inside_the_root() {
    // An absolute link means the image's own path: it is followed inside the root and the
    // file it points to is edited, the link kept.
    let host = Host::debian12()
        .file("/srv/docker/daemon.json", "{\n  \"debug\": false\n}\n")
        .symlink("/etc/docker/daemon.json", "/srv/docker/daemon.json");
    host.run(&["fix", "--yes", "--only", "2.2"]).code(0);
    assert!(
        host.read("/srv/docker/daemon.json")
            .contains("\"icc\": false")
    );
    assert!(
        host.path("/etc/docker/daemon.json")
            .symlink_metadata()
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn concurrent_run_is_refused() {
    let host = Host::debian12().dir("/var/lib/docker-harden", 0o700);
    let lock = std::fs::File::create(host.path("/var/lib/docker-harden/lock")).unwrap();
    let held = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusiveNonblock).unwrap();
    refuses(
        &host,
        &["fix", "--yes"],
        "another docker-harden run is in progress",
    );
    refuses(
        &host,
        &["rollback"],
        "another docker-harden run is in progress",
    );
    drop(held);
    host.run(&["fix", "--yes"]).code(1);
}

#[test]
fn rollback_refuses_when_a_file_changed_since() {
    let host = Host::debian12();
    host.run(&["fix", "--yes"]).code(1);
    let edited = host
        .read("/etc/docker/daemon.json")
        .replace("\"icc\": false", "\"icc\": true");
    let host = host.file("/etc/docker/daemon.json", &edited);
    let before = host.snapshot();
    let run = host.run(&["rollback"]);
    run.code(2)
        .stderr_has("changed after the run")
        .stdout_has("/etc/docker/daemon.json: content changed");
    run.stdout_has("-  \"icc\": false,")
        .stdout_has("+  \"icc\": true,");
    assert!(changed(&before, &host.snapshot()).is_empty());
    host.run(&["rollback", "--force"]).code(0);
    assert!(
        !host.exists("/etc/docker/daemon.json"),
        "the run created it, so rollback removes it"
    );
}

#[test]
fn rollback_without_runs() {
    let host = Host::debian12();
    host.run(&["rollback"]).code(2).stderr_has("no saved run");
    host.run(&["rollback", "--list"])
        .code(0)
        .stdout_has("no saved runs");
}

#[test]
fn closed_stdout_is_not_an_error() {
    let host = Host::debian12();
    let mut child = std::process::Command::new(common::BIN)
        .args(["check", "--root"])
        .arg(host.root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let code = child.wait().unwrap().code();
    // Wherever the pipe closed, the run earned 1 (findings): never 0, a panic (101) or an
    // error (2). tests/suite/closed_streams.rs has the rest.
    assert_eq!(code, Some(1));
}
