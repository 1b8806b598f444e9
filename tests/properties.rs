//! Property tests through the whole tool: for generated daemon.json, audit rules and
//! rsyslog.conf inputs, `fix --yes` keeps unrelated content, and a second run changes nothing.

mod common;

use common::{Host, changed};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 24,
        ..ProptestConfig::default()
    }
}

fn fix_twice(host: &Host) {
    let first = host.run(&["fix", "--yes"]);
    assert!(first.code == 0 || first.code == 1, "{first:?}");
    let after_first = host.snapshot();
    let second = host.run(&["fix", "--yes"]);
    assert!(
        second.stdout.contains("nothing to change"),
        "second run changed something:\n{}",
        second.stdout
    );
    assert!(changed(&after_first, &host.snapshot()).is_empty());
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        (0u32..100000).prop_map(Value::from),
        "[a-zA-Z0-9 ./:=-]{0,16}".prop_map(Value::from),
        prop::collection::vec("[a-z0-9.]{1,8}".prop_map(Value::from), 0..3).prop_map(Value::from),
    ]
}

/// Keys docker-harden never sets, so they must come through untouched.
fn unrelated_key() -> impl Strategy<Value = String> {
    "(x-|dns|mtu|labels|bip|debug-)[a-z]{0,6}"
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn daemon_json_keeps_unrelated_keys(
        pairs in prop::collection::vec((unrelated_key(), leaf()), 0..6),
        icc in prop::option::of(any::<bool>()),
        indent in prop_oneof![Just("  "), Just("    "), Just("\t")],
    ) {
        let mut map = Map::new();
        for (k, v) in pairs { map.insert(k, v); }
        if let Some(icc) = icc { map.insert("icc".into(), Value::Bool(icc)); }
        let text = docker_harden::daemon_json::render(&map, &docker_harden::daemon_json::Style { indent: indent.into(), trailing_newline: true });
        let host = Host::debian12().file("/etc/docker/daemon.json", &text);
        fix_twice(&host);
        let after: Map<String, Value> = serde_json::from_str(&host.read("/etc/docker/daemon.json")).unwrap();
        let kept: Vec<(&String, &Value)> = after.iter().filter(|(k, _)| map.contains_key(*k) && *k != "icc").collect();
        let original: Vec<(&String, &Value)> = map.iter().filter(|(k, _)| *k != "icc").collect();
        prop_assert_eq!(kept, original);
        prop_assert_eq!(after.get("icc"), Some(&Value::Bool(false)));
        if map.len() > 1 {
            let expected = format!("\n{indent}\"");
            prop_assert!(host.read("/etc/docker/daemon.json").contains(&expected));
        }
    }

    #[test]
    fn audit_rules_keep_other_rules(
        lines in prop::collection::vec(prop_oneof![
            Just("# site rules".to_string()),
            Just(String::new()),
            Just("-a always,exit -F arch=b64 -S mount -k mounts".to_string()),
            "-w /etc/[a-z]{1,6} -p (wa|rwxa|w) -k [a-z]{1,5}",
            Just("-w /usr/sbin/dockerd -p wa -k docker".to_string()),
            Just("-w /etc/docker -p rwxa".to_string()),
        ], 0..10),
        immutable in any::<bool>(),
    ) {
        let mut text = lines.join("\n");
        if immutable { text.push_str("\n-e 2"); }
        text.push('\n');
        // RHEL keeps everything in audit.rules; Debian keeps site rules in their own rules.d file.
        let rhel = Host::rhel9().file("/etc/audit/audit.rules", &text);
        fix_twice(&rhel);
        let after = rhel.read("/etc/audit/audit.rules");
        let mut rest = after.lines().filter(|l| lines.iter().any(|o| o == l) || *l == "-e 2");
        for original in text.lines().filter(|l| !l.is_empty()) {
            prop_assert!(rest.any(|l| l == original), "lost or reordered {original:?} in\n{after}");
        }
        prop_assert!(after.contains("/usr/bin/dockerd -p wa"), "{}", after);

        let debian = Host::debian12().file("/etc/audit/rules.d/10-site.rules", &text);
        fix_twice(&debian);
        prop_assert_eq!(debian.read("/etc/audit/rules.d/10-site.rules"), text);
    }

    #[test]
    fn rsyslog_conf_keeps_other_lines(
        lines in prop::collection::vec(prop_oneof![
            Just("*.* -/var/log/syslog".to_string()),
            Just("$FileOwner root".to_string()),
            Just("# a comment".to_string()),
            Just(String::new()),
            Just("module(load=\"imuxsock\")".to_string()),
            Just("#module(load=\"imtcp\")".to_string()),
            Just("#input(type=\"imtcp\" port=\"514\")".to_string()),
            Just("$IncludeConfig /etc/rsyslog.d/*.conf".to_string()),
        ], 0..12),
    ) {
        let text = format!("{}\n", lines.join("\n"));
        let host = Host::debian12().file("/etc/rsyslog.conf", &text);
        fix_twice(&host);
        let after = host.read("/etc/rsyslog.conf");
        // Every line not about imtcp stays, in order (a blank separator may be added).
        let untouched: Vec<&str> = text.lines().filter(|l| !l.contains("imtcp") && !l.is_empty()).collect();
        let remaining: Vec<&str> = after.lines().filter(|l| untouched.contains(l)).collect();
        prop_assert_eq!(&remaining, &untouched);
        let check = host.run(&["check", "--only", "2.13"]);
        prop_assert_eq!(check.code, 0, "{}", check.stdout);
    }
}
