//! The parsers agree with the programs that read the files (issue 9, items 9 to 11): a rules
//! line auditctl refuses is no watch, a boolean flag with a spaced value is what stops dockerd,
//! playbook values dockerd would refuse are refused at load, and the syslog driver is never
//! switched on with nothing to receive.

use crate::common;

use common::{Host, changed};

/// Runs `args`, expects exit 2 with `message` on stderr, and proves nothing was written.
fn refuses(host: &Host, args: &[&str], message: &str) {
    let before = host.snapshot();
    host.run(args).code(2).stderr_has(message);
    assert_eq!(
        changed(&before, &host.snapshot()),
        Vec::<String>::new(),
        "{args:?} wrote something"
    );
    assert!(!host.exists("/var/lib/docker-harden/backups"));
}

/// Runs `args` and proves it wrote nothing.
fn writes_nothing(host: &Host, args: &[&str]) -> common::Run {
    let before = host.snapshot();
    let run = host.run(args);
    assert_eq!(
        changed(&before, &host.snapshot()),
        Vec::<String>::new(),
        "{args:?} wrote something:\n{}",
        run.stdout
    );
    run
}

// ---- item 9: audit rules as auditctl reads them ----

#[test]
fn a_rule_split_with_a_backslash_is_no_watch_and_the_check_names_the_line() {
    // `auditctl -R` refuses line 1 ("parameter passed without an option given") and loads no
    // rule after it, so nothing watches dockerd.
    let host = Host::debian12().file(
        "/etc/audit/rules.d/10-site.rules",
        "-w /usr/sbin/dockerd \\\n  -p wa -k docker\n-w /etc/docker -p wa -k docker\n",
    );
    let check = host.run(&["check", "--format", "json", "--only", "1.1.3,1.1.6"]);
    assert_eq!(check.status("1.1.3"), "WARN", "{}", check.evidence("1.1.3"));
    let evidence = check.evidence("1.1.3");
    assert!(
        evidence.contains("/etc/audit/rules.d/10-site.rules:1: broken rule: a rule cannot continue on the next line"),
        "{evidence}"
    );
    assert!(
        evidence.contains("/usr/sbin/dockerd: no persistent audit watch"),
        "{evidence}"
    );
    assert!(
        check
            .remediation("1.1.3")
            .contains("repair /etc/audit/rules.d/10-site.rules:1 first"),
        "{}",
        check.remediation("1.1.3")
    );
    // The watch on line 3 is written, but the load never gets there.
    assert_eq!(check.status("1.1.6"), "WARN");
    assert!(
        check
            .evidence("1.1.6")
            .contains("/etc/docker: the watch at /etc/audit/rules.d/10-site.rules:3 never loads"),
        "{}",
        check.evidence("1.1.6")
    );

    // Our rules file sorts after 10-site.rules, so a watch added there would not load either:
    // the fix says why and writes nothing.
    let fix = writes_nothing(&host, &["fix", "--yes", "--only", "1.1.3"]);
    fix.code(1)
        .stdout_has("not fixed automatically: /etc/audit/rules.d/10-site.rules:1: broken rule");
}

#[test]
fn a_broken_rule_after_ours_does_not_stop_the_fix() {
    let host = Host::debian12().file(
        "/etc/audit/rules.d/99-late.rules",
        "-w /opt/thing -p wa \\\n",
    );
    host.run(&["fix", "--yes", "--only", "1.1.3"]).code(0);
    assert!(
        host.read("/etc/audit/rules.d/50-docker-harden.rules")
            .contains("-w /usr/sbin/dockerd -p wa -k docker")
    );
    let check = host.run(&["check", "--format", "json", "--only", "1.1.3"]);
    assert_eq!(check.status("1.1.3"), "PASS", "{}", check.evidence("1.1.3"));
    assert!(
        check
            .evidence("1.1.3")
            .contains("99-late.rules:1: broken rule")
    );
}

#[test]
fn audit_rules_watches_go_before_the_line_that_stops_the_load() {
    // Without rules.d, auditctl -R reads audit.rules itself: the block goes before the broken
    // line, where it loads.
    let rules = "-D\n-w /usr/bin/dockerd \\\n  -p wa -k docker\n-e 2\n";
    let host = Host::rhel9().file("/etc/audit/audit.rules", rules);
    let check = host.run(&["check", "--format", "json", "--only", "1.1.3"]);
    assert_eq!(check.status("1.1.3"), "WARN");
    host.run(&["fix", "--yes", "--only", "1.1.3"]).code(0);
    let after = host.read("/etc/audit/audit.rules");
    let ours = after
        .find("-w /usr/bin/dockerd -p wa -k docker\n")
        .expect(&after);
    let broken = after.find("-w /usr/bin/dockerd \\").expect(&after);
    assert!(ours < broken, "{after}");
    assert!(after.ends_with("-w /usr/bin/dockerd \\\n  -p wa -k docker\n-e 2\n"));
    let check = host.run(&["check", "--format", "json", "--only", "1.1.3"]);
    assert_eq!(check.status("1.1.3"), "PASS", "{}", check.evidence("1.1.3"));
    assert!(
        check
            .evidence("1.1.3")
            .contains("/etc/audit/audit.rules:4: broken rule")
    );
}

#[test]
fn a_tab_separated_rule_is_no_watch() {
    // auditctl splits rule lines at spaces only: `-w\t/path` is a watch on "\t/path", which it
    // refuses (measured with auditctl 3.0.9).
    let host = Host::debian12().file(
        "/etc/audit/rules.d/10-site.rules",
        "-w\t/usr/sbin/dockerd -p wa -k docker\n",
    );
    let check = host.run(&["check", "--format", "json", "--only", "1.1.3"]);
    assert_eq!(check.status("1.1.3"), "WARN");
    assert!(
        check
            .evidence("1.1.3")
            .contains("10-site.rules:1: broken rule"),
        "{}",
        check.evidence("1.1.3")
    );
}

// ---- item 9: dockerd's boolean flags ----

#[test]
fn a_boolean_flag_with_a_spaced_value_is_named_and_moved_with_its_value() {
    // dockerd 20.10 refuses `--icc false`: "\"dockerd\" accepts no argument(s)." (measured).
    let host = Host::debian12().file(
        "/etc/default/docker",
        "# site options\nDOCKER_OPTS=\"--icc false --dns 8.8.8.8\"\n",
    );
    let check = host.run(&["check", "--format", "json", "--only", "2.2"]);
    assert_eq!(check.status("2.2"), "WARN");
    let evidence = check.evidence("2.2");
    assert!(
        evidence.contains("dockerd refuses to start: `false` after `--icc`"),
        "{evidence}"
    );
    assert!(evidence.contains("`--icc=false`"), "{evidence}");

    host.run(&["fix", "--yes", "--only", "2.2"]).code(0);
    assert_eq!(
        host.read("/etc/default/docker"),
        "# site options\nDOCKER_OPTS=\"--dns 8.8.8.8\"\n",
        "the flag goes with its value; the other flags stay"
    );
    assert!(
        host.read("/etc/docker/daemon.json")
            .contains("\"icc\": false")
    );
    host.run(&["check", "--only", "2.2"]).code(0);
}

#[test]
fn a_spaced_value_that_agrees_with_the_benchmark_still_stops_dockerd() {
    // `--live-restore true` reads as live-restore on, but dockerd does not start at all.
    let host = Host::debian12().file(
        "/etc/systemd/system/docker.service.d/override.conf",
        "[Service]\nExecStart=\nExecStart=/usr/sbin/dockerd -H fd:// --live-restore true $DOCKER_OPTS\n",
    );
    let check = host.run(&["check", "--format", "json", "--only", "2.15"]);
    assert_eq!(check.status("2.15"), "WARN", "{}", check.evidence("2.15"));
    assert!(
        check
            .evidence("2.15")
            .contains("`true` after `--live-restore`")
    );
    host.run(&["diff", "--only", "2.15"])
        .code(1)
        .stdout_has("+ExecStart=/usr/sbin/dockerd -H fd:// $DOCKER_OPTS");
    host.run(&["fix", "--yes", "--only", "2.15"]).code(0);
    assert!(
        host.read("/etc/systemd/system/docker.service.d/zz-docker-harden.conf")
            .contains("ExecStart=/usr/sbin/dockerd -H fd:// $DOCKER_OPTS\n")
    );
    host.run(&["check", "--only", "2.15"])
        .code(0)
        .stdout_has("live-restore is true (in /etc/docker/daemon.json)");
}

#[test]
fn a_stray_word_left_on_the_command_line_refuses_a_restart() {
    // `oops` stops dockerd whatever the fix does; restarting it for icc would leave it down.
    let host = Host::debian12().file(
        "/etc/default/docker",
        "DOCKER_OPTS=\"--dns 8.8.8.8 oops\"\n",
    );
    let fix = writes_nothing(&host, &["fix", "--yes", "--only", "2.2"]);
    fix.stdout_has("dockerd would not start: `oops` on its command line");
}

// ---- item 10: playbook values and selectors ----

#[test]
fn a_syslog_address_dockerd_refuses_is_refused_when_the_playbook_loads() {
    let host = Host::debian12().file(
        "/pb.yml",
        "include: default\nvariables:\n  syslog_address: \"tcp//127.0.0.1:514\"\n",
    );
    let pb = host.path("/pb.yml");
    let pb = pb.to_str().unwrap();
    for args in [
        &["check", "--playbook", pb][..],
        &["diff", "--playbook", pb],
        &["fix", "--yes", "--playbook", pb],
    ] {
        refuses(
            &host,
            args,
            "pb.yml:3:3: invalid playbook: variables: syslog_address: `tcp//127.0.0.1:514` is not an address Docker's syslog log driver can use",
        );
    }
}

#[test]
fn only_with_no_item_is_a_usage_error() {
    let host = Host::debian12();
    for args in [
        &["check", "--only", ""][..],
        &["diff", "--only", ""],
        &["fix", "--yes", "--only", ""],
        &["check", "--only", " , "],
    ] {
        refuses(&host, args, "--only names no item");
    }
}

// ---- item 11: the syslog driver needs a receiver ----

#[test]
fn no_rsyslog_no_syslog_driver() {
    let host = Host::debian12().remove("/etc/rsyslog.conf");
    let diff = writes_nothing(&host, &["diff", "--only", "2.13"]);
    diff.stdout_has("not fixed automatically: rsyslog is not installed")
        .stdout_lacks("daemon.json")
        .stdout_lacks("log-driver");
    let fix = writes_nothing(&host, &["fix", "--yes", "--only", "2.13"]);
    fix.code(1).stdout_lacks("log-driver");
    assert!(!host.exists("/etc/docker/daemon.json"));
    let check = host.run(&["check", "--format", "json", "--only", "2.13"]);
    assert_eq!(check.status("2.13"), "WARN");
}

#[test]
fn no_local_tls_receiver_no_syslog_driver() {
    // docker-harden sets up plain tcp or udp reception only; nothing would take TLS here.
    let host = Host::debian12().file(
        "/pb.yml",
        "include: default\nvariables:\n  syslog_address: \"tcp+tls://127.0.0.1:6514\"\n",
    );
    let pb = host.path("/pb.yml");
    let pb = pb.to_str().unwrap();
    let fix = writes_nothing(&host, &["fix", "--yes", "--only", "2.13", "--playbook", pb]);
    fix.stdout_has("nothing on this host receives TLS on tcp+tls://127.0.0.1:6514");
}

#[test]
fn a_remote_address_needs_no_local_receiver() {
    let host = Host::debian12().remove("/etc/rsyslog.conf").file(
        "/pb.yml",
        "include: default\nvariables:\n  syslog_address: \"udp://logs.example.com:514\"\n",
    );
    let pb = host.path("/pb.yml");
    let pb = pb.to_str().unwrap();
    host.run(&["fix", "--yes", "--only", "2.13", "--playbook", pb])
        .code(0);
    assert!(
        host.read("/etc/docker/daemon.json")
            .contains("\"syslog-address\": \"udp://logs.example.com:514\"")
    );
}
