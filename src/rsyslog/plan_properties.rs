//! Property tests of the planner: any plausible configuration ends up listening, once, with
//! the original lines kept in order.

use proptest::prelude::*;

use super::bind::Bind;
use super::commented::split_comment;
use super::config::ConfFile;
use super::fixtures::*;
use super::includes::include_patterns;
use super::inputs::{inputs, listens, module_loaded, woken_by_load};
use super::lexer::lines_of;
use super::plan::plan_listen;
use super::proto::Proto;
use super::syslog_address::{is_local_host, parse_syslog_address};

pub(super) fn unrelated_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*.* /var/log/x".to_string()),
        Just("# a comment".to_string()),
        Just("#".to_string()),
        Just("$FileOwner root".to_string()),
        Just(String::new()),
        Just("   ".to_string()),
        Just("auth,authpriv.*\t/var/log/auth.log".to_string()),
        Just("module(load=\"imuxsock\")".to_string()),
        Just("# provides TCP syslog reception (see docs)".to_string()),
        Just("template(name=\"t\" type=\"string\" string=\"%msg% # x\\n\")".to_string()),
        "[a-z#$ ]{0,12}".prop_map(|s| s.replace('$', "$x")),
    ]
}

pub(super) fn commented_block() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        Just(vec![]),
        Just(vec![
            "#module(load=\"imtcp\")".into(),
            "#input(type=\"imtcp\" port=\"514\")".into()
        ]),
        Just(vec![
            "#module(load=\"imudp\")".into(),
            "#input(type=\"imudp\" port=\"514\")".into()
        ]),
        Just(vec![
            "#module(load=\"imtcp\") # needs to be done just once".into(),
            "#input(type=\"imtcp\" port=\"514\")".into()
        ]),
        Just(vec![
            "#$ModLoad imtcp".into(),
            "#$InputTCPServerRun 514".into()
        ]),
        Just(vec!["#module(load=\"imtcp\")".into()]),
        Just(vec!["# input(type=\"imtcp\" port=\"514\")".into()]),
        Just(vec!["#$UDPServerRun 514".into()]),
    ]
}

pub(super) fn dropin_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*.* /var/log/y\n".to_string()),
        Just("module(load=\"imtcp\")\n".to_string()),
        Just("module(load=\"imudp\")\n".to_string()),
        Just("input(type=\"imtcp\" port=\"514\")\n".to_string()),
        Just("$ModLoad imudp\n".to_string()),
        Just("$UDPServerRun 514".to_string()),
    ]
}

/// Original lines survive in order, either verbatim, uncommented (with
/// the port rewritten when the commented input named another one, and an
/// input bound to LO), or commented out (an input that listened on every
/// interface, which gives way to its bound RainerScript form).
pub(super) fn kept_in_order(before: &str, after: &str, port: u16) -> bool {
    let new: Vec<String> = lines_of(after)
        .iter()
        .map(|l| l.replace(&format!(" address=\"{LO}\""), ""))
        .collect();
    let mut j = 0;
    for old in lines_of(before) {
        let unc = split_comment(old).map(|(i, r)| format!("{i}{r}"));
        let moved = unc.as_ref().map(|u| u.replace("514", &port.to_string()));
        let commented = format!("#{old}");
        while j < new.len()
            && new[j] != old
            && Some(&new[j]) != unc.as_ref()
            && Some(&new[j]) != moved.as_ref()
            && new[j] != commented
        {
            j += 1;
        }
        if j == new.len() {
            return false;
        }
        j += 1;
    }
    true
}

prop_compose! {
    fn scenario()(
        head in prop::collection::vec(unrelated_line(), 0..6),
        block in commented_block(),
        mid in prop::collection::vec(unrelated_line(), 0..4),
        include in prop_oneof![
            Just(None),
            Just(Some("$IncludeConfig /etc/rsyslog.d/*.conf")),
            Just(Some("include(file=\"/etc/rsyslog.d/*.conf\" mode=\"optional\")")),
            Just(Some("$IncludeConfig /etc/other/*.conf")),
        ],
        include_first in any::<bool>(),
        tail in prop::collection::vec(unrelated_line(), 0..4),
        trailing_nl in any::<bool>(),
        dropins in prop::collection::vec((0u8..100, dropin_text()), 0..3),
        udp in any::<bool>(),
    ) -> (Vec<ConfFile>, Proto) {
        let mut lines: Vec<String> = head;
        if include_first { lines.extend(include.map(String::from)); }
        lines.extend(block);
        lines.extend(mid);
        if !include_first { lines.extend(include.map(String::from)); }
        lines.extend(tail);
        let mut text = lines.join("\n");
        if trailing_nl { text.push('\n'); }
        let mut files = vec![cf("/etc/rsyslog.conf", &text)];
        let mut seen = std::collections::HashSet::new();
        for (n, t) in dropins {
            // At most one file loads each module, as a valid config has.
            let loads_t = active_loads(&[cf("x", &t)], Proto::Tcp) + active_loads(&files, Proto::Tcp);
            let loads_u = active_loads(&[cf("x", &t)], Proto::Udp) + active_loads(&files, Proto::Udp);
            if seen.insert(n) && loads_t <= 1 && loads_u <= 1 {
                files.push(cf(&format!("/etc/rsyslog.d/{n:02}-x.conf"), &t));
            }
        }
        (files, if udp { Proto::Udp } else { Proto::Tcp })
    }
}

proptest! {
    #[test]
    fn plan_makes_listen_idempotent_and_minimal((files, proto) in scenario(), port in prop_oneof![Just(514u16), 1u16..]) {
        let loads_before = active_loads(&files, proto);
        let edits = plan_lo(&files, proto, port);
        let after = apply(&files, &edits);
        prop_assert!(listens(&after, proto, port, LO), "{:#?}", after);
        prop_assert!(plan_lo(&after, proto, port).is_empty());
        for f in &files {
            let new = &after.iter().find(|g| g.path == f.path).unwrap().text;
            prop_assert!(kept_in_order(&f.text, new, port), "{}\n---\n{}", f.text, new);
        }
        prop_assert!(active_loads(&after, proto) <= 1.max(loads_before));
        prop_assert!(active_loads(&after, proto) <= 1);
        let other = if proto == Proto::Tcp { Proto::Udp } else { Proto::Tcp };
        prop_assert_eq!(active_loads(&after, other), active_loads(&files, other));
        // Nothing listens on every interface on the port that did not before: with the
        // module loaded already, the same inputs; without it, none at all. (Where loading
        // the module would wake other inputs, the caller refuses the plan.)
        let refused = !woken_by_load(&files, proto, port, LO).is_empty();
        let wide = |fs: &[ConfFile]| -> Vec<String> {
            if module_loaded(fs, proto).is_none() {
                return Vec::new();
            }
            inputs(fs, proto, port).into_iter().filter(|i| i.bind == Bind::Every).map(|i| i.key).collect()
        };
        let (wide_before, wide_after) = (wide(&files), wide(&after));
        prop_assert!(refused || wide_after.iter().all(|k| wide_before.contains(k)), "{:#?}", after);
        // The input that serves LO is one that binds it, unless a wide one served already.
        let serving = inputs(&after, proto, port).into_iter().find(|i| i.bind.serves(LO)).unwrap();
        prop_assert!(serving.bind == Bind::Only(LO.into()) || !wide_before.is_empty(), "{:#?}", after);
    }

    #[test]
    fn no_panic_on_arbitrary_text(text in "\\PC{0,200}", extra in "[#$()\"'=\\[\\] a-z0-9\n\\\\]{0,200}") {
        let files = vec![cf("/etc/rsyslog.conf", &text), cf("/etc/rsyslog.d/a.conf", &extra)];
        for proto in [Proto::Tcp, Proto::Udp] {
            let _ = listens(&files, proto, 514, LO);
            let _ = plan_lo(&files, proto, 514);
            let _ = plan_listen(&[cf("/etc/rsyslog.conf", &extra)], proto, 514, LO, DROPIN);
        }
        let _ = include_patterns(&extra);
        let _ = parse_syslog_address(&text);
        let _ = is_local_host(&text);
    }
}
