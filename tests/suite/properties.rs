//! Property tests through the whole tool: for generated daemon.json, audit rules and
//! rsyslog.conf inputs, `fix --yes` keeps unrelated content, and a second run changes nothing.

use crate::common;

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
        // Every input the fix started binds the loopback address dockerd sends to.
        for line in after.lines().filter(|l| l.starts_with("input(type=\"imtcp\"")) {
            prop_assert!(line.contains("address=\"127.0.0.1\""), "{}", after);
        }
        let check = host.run(&["check", "--only", "2.13"]);
        prop_assert_eq!(check.code, 0, "{}", check.stdout);
    }
}

// ---- the parsers themselves, on any input ----

/// syslog-address values dockerd 20.10 refuses to start with (measured).
const REFUSED_BY_DOCKERD: &[&str] = &[
    "tcp//127.0.0.1:514",
    "TCP://127.0.0.1:514",
    " tcp://127.0.0.1:514",
    "127.0.0.1:514",
    "ftp://x:1",
    "tcp://host:abc",
];

/// What dockerd 20.10 asks of a syslog-address before it starts (measured): one of these
/// schemes, exactly.
fn dockerd_takes(address: &str) -> bool {
    ["tcp://", "udp://", "tcp+tls://", "unix://", "unixgram://"]
        .iter()
        .any(|s| address.starts_with(s))
}

fn yaml_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(REFUSED_BY_DOCKERD).prop_map(|s| format!("\"{s}\"")),
        prop::sample::select(
            &[
                "tcp://127.0.0.1:514",
                "udp://[::1]:1514",
                "tcp+tls://logs.example.com:6514",
                "unix:///dev/log",
                "tcp://",
                "tcp://127.0.0.1:0",
                "udp://::1:514",
            ][..]
        )
        .prop_map(|s| format!("\"{s}\"")),
        "[a-z0-9:/.@\\[\\]+ -]{0,24}",
        Just("no".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("123".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn daemon_json_any_text_parses_or_errs_and_edits_round_trip(
        doc in prop::collection::vec((unrelated_key(), leaf()), 0..5),
        mangle in 0u8..6,
        noise in "[ -~\n\t]{0,40}",
    ) {
        use docker_harden::daemon_json;
        let map: Map<String, Value> = doc.into_iter().collect();
        let clean = daemon_json::render(&map, &daemon_json::Style { indent: "  ".into(), trailing_newline: true });
        let text = match mangle {
            0 => clean.clone(),
            1 => format!("\u{feff}{clean}"),
            2 => clean.replacen('}', ",}", 1),
            3 => clean[..clean.len() / 2].to_string(),
            4 => noise.clone(),
            _ => format!("{clean}{noise}"),
        };
        let set = |m: &mut Map<String, Value>| { m.insert("icc".into(), Value::Bool(false)); };
        match daemon_json::parse(&text) {
            Err(e) => {
                // A file dockerd cannot read is never rewritten.
                prop_assert!(e.line >= 1 && e.column >= 1 || e.message.contains("top level"));
                prop_assert!(daemon_json::edit(Some(&text), set).is_err());
            }
            Ok(before) => {
                let out = daemon_json::edit(Some(&text), set).unwrap();
                let after = daemon_json::parse(&out).unwrap();
                prop_assert_eq!(after.get("icc"), Some(&Value::Bool(false)));
                let kept: Vec<(&String, &Value)> = after.iter().filter(|(k, _)| *k != "icc").collect();
                let had: Vec<(&String, &Value)> = before.iter().filter(|(k, _)| *k != "icc").collect();
                prop_assert_eq!(kept, had);
                prop_assert_eq!(daemon_json::edit(Some(&out), set).unwrap(), out);
            }
        }
    }

    #[test]
    fn playbook_any_yaml_loads_or_errs_and_loaded_variables_are_valid(
        address in yaml_scalar(),
        remap in yaml_scalar(),
        key in yaml_scalar(),
        junk in "[a-z_: \n\"'{}\\[\\],-]{0,80}",
        shape in 0u8..3,
    ) {
        use docker_harden::kinds::Kind;
        use docker_harden::playbook::{Playbook, RawVariables, Source};
        let text = match shape {
            0 => format!("include: default\nvariables:\n  syslog_address: {address}\n"),
            1 => format!("include: default\nvariables:\n  syslog_address: {address}\n  userns_remap: {remap}\n  audit_key: {key}\n"),
            _ => junk.clone(),
        };
        match Playbook::load_source(&Source::Text(text.clone()), RawVariables::default()) {
            Err(e) => {
                prop_assert!(e.to_string().starts_with("playbook_content"), "{}", e);
                prop_assert_eq!(e.exit_code(), 2);
            }
            Ok(p) => {
                let v = &p.variables;
                let address = v.syslog_address.as_str();
                prop_assert!(dockerd_takes(address), "{:?} loaded from\n{}", address, text);
                prop_assert!(!REFUSED_BY_DOCKERD.contains(&address));
                let reparsed: Option<docker_harden::vocabulary::SyslogAddress> = address.parse().ok();
                prop_assert_eq!(reparsed.as_ref(), Some(&v.syslog_address));
                prop_assert!(!v.audit_key.is_empty() && !v.audit_key.contains(char::is_whitespace));
                prop_assert!(!v.userns_remap.is_empty() && !v.userns_remap.contains(char::is_whitespace));
                prop_assert!(v.extra_audit_paths.iter().all(|p| p.starts_with('/')));
                for item in &p.items {
                    if let Kind::RemoteLogging(r) = &item.kind {
                        prop_assert!(dockerd_takes(r.address.as_str()));
                    }
                }
            }
        }
    }
}

/// A flag as written in DOCKER_OPTS: (its name, its words). iptables is left out: without it
/// pre-flight rightly refuses icc=false.
fn written_flag() -> impl Strategy<Value = (&'static str, String)> {
    let boolean = prop::sample::select(&["true", "false", "0", "1"][..]);
    let other = prop::sample::select(&["live-restore", "ipv6", "debug"][..]);
    prop_oneof![
        boolean.clone().prop_map(|b| ("icc", format!("--icc {b}"))),
        boolean.clone().prop_map(|b| ("icc", format!("--icc={b}"))),
        Just(("icc", "--icc".to_string())),
        (other.clone(), boolean.clone()).prop_map(|(n, b)| (n, format!("--{n}={b}"))),
        other.prop_map(|n| (n, format!("--{n}"))),
        prop::sample::select(&["8.8.8.8", "1.1.1.1"][..])
            .prop_map(|d| ("dns", format!("--dns {d}"))),
        Just(("log-level", "--log-level warn".to_string())),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn docker_opts_lose_the_moved_flag_with_its_value_and_keep_the_rest(
        flags in prop::collection::vec(written_flag(), 1..6),
    ) {
        let opts: Vec<&str> = flags.iter().map(|(_, w)| w.as_str()).collect();
        let text = format!("# site\nDOCKER_OPTS=\"{}\"\n", opts.join(" "));
        let host = Host::debian12().file("/etc/default/docker", &text);
        // The flag moves when dockerd would not get icc=false from it: the last one says
        // otherwise, or one has a spaced value (dockerd does not start at all then).
        let icc: Vec<&str> = flags.iter().filter(|(n, _)| *n == "icc").map(|(_, w)| w.as_str()).collect();
        let spaced = icc.iter().any(|w| w.contains(' '));
        let off = icc.last().is_some_and(|w| matches!(*w, "--icc=false" | "--icc=0"));
        let has_icc = !icc.is_empty() && (spaced || !off);
        let first = host.run(&["fix", "--yes", "--only", "2.2"]);
        prop_assert!(first.code == 0 || first.code == 1, "{:?}", first);
        let after = host.read("/etc/default/docker");
        let kept: Vec<&str> = flags.iter().filter(|(n, _)| *n != "icc").map(|(_, w)| w.as_str()).collect();
        if has_icc {
            prop_assert_eq!(&after, &format!("# site\nDOCKER_OPTS=\"{}\"\n", kept.join(" ")));
            prop_assert!(host.read("/etc/docker/daemon.json").contains("\"icc\": false"));
        } else {
            prop_assert_eq!(&after, &text);
        }
        let snap = host.snapshot();
        host.run(&["fix", "--yes", "--only", "2.2"]).stdout_has("nothing to change");
        prop_assert!(changed(&snap, &host.snapshot()).is_empty());
    }
}
