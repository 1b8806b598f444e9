//! Snapshot tests of what users read: the dry-run diff and the check report, on fixture hosts.
//! Review changes with `cargo insta review` (or INSTA_UPDATE=always) and commit the .snap files.

use crate::common;

use common::Host;

#[test]
fn debian12_diff() {
    let host = Host::debian12();
    let run = host.run(&["diff"]);
    run.code(1);
    insta::assert_snapshot!(host.redact(&run.stdout));
}

#[test]
fn ubuntu2204_diff() {
    let host = Host::ubuntu2204();
    let run = host.run(&["diff"]);
    run.code(1);
    insta::assert_snapshot!(host.redact(&run.stdout));
}

#[test]
fn rhel9_diff() {
    let host = Host::rhel9();
    let run = host.run(&["diff"]);
    run.code(1);
    insta::assert_snapshot!(host.redact(&run.stdout));
}

#[test]
fn debian12_check_text() {
    let host = Host::debian12();
    let run = host.run(&["check"]);
    run.code(1);
    insta::assert_snapshot!(host.redact(&run.stdout));
}

#[test]
fn ubuntu2204_check_json() {
    let host = Host::ubuntu2204();
    let run = host.run(&[
        "check",
        "--format",
        "json",
        "--only",
        "2,3.15,3.16,3.17,3.18",
    ]);
    run.code(1);
    insta::assert_snapshot!(host.redact(&run.stdout));
}

#[test]
fn list() {
    let host = Host::empty();
    let run = host.run(&["list"]);
    run.code(0);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn debian12_check_after_fix() {
    let host = Host::debian12();
    host.run(&["fix", "--yes"]).code(1);
    let run = host.run(&["check"]);
    run.code(1);
    insta::assert_snapshot!(host.redact(&run.stdout));
}
