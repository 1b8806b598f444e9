//! Property tests against auditctl's line syntax: a watch is a line auditctl accepts, and
//! loading stops at the first line it refuses.

use proptest::prelude::*;

use super::auditctl_output::parse_auditctl_list;
use super::augenrules::augenrules_load;
use super::fixtures::*;
use super::load::{effective_watches, load_text};
use super::plan::{plan_append, plan_own_rules_file};
use super::rules::watches;
use super::validate::line_error;
use super::watch::Watch;

/// A watch rule written in one of the forms auditctl accepts, with the watch it makes.
pub(super) fn written_watch() -> impl Strategy<Value = (String, Watch)> {
    (
        proptest::sample::select(PATHS),
        proptest::sample::select(&["", "r", "w", "wa", "AW", "rwxa", "x"][..]),
        key_strategy(),
        0u8..4,
        proptest::sample::select(&[" ", "  "][..]),
        any::<bool>(),
    )
        .prop_map(|(path, perms, key, form, gap, glue)| {
            let mut parts: Vec<String> = Vec::new();
            let join = |opt: &str, value: &str| {
                if glue {
                    format!("{opt}{value}")
                } else {
                    format!("{opt}{gap}{value}")
                }
            };
            let syscall_form = form >= 2;
            if syscall_form {
                let action = if form == 2 {
                    "always,exit"
                } else {
                    "exit,always"
                };
                parts.push(join("-a", action));
                parts.push(join("-F", &format!("path={path}")));
                if !perms.is_empty() {
                    parts.push(join("-F", &format!("perm={}", perms.to_ascii_lowercase())));
                }
            } else {
                parts.push(join("-w", path));
                if !perms.is_empty() {
                    parts.push(join("-p", perms));
                }
            }
            if let Some(k) = key {
                if form == 1 {
                    parts.push(join("-F", &format!("key={k}")));
                } else {
                    parts.push(join("-k", k));
                }
            }
            let watch = Watch::new(path, &perms.to_ascii_lowercase(), key);
            (parts.join(gap), watch)
        })
}

/// Ways to spoil a rule line, each one auditctl refuses (see `MEASURED`).
pub(super) const SPOILERS: &[&str] = &[
    " \\",
    " # note",
    " stray",
    " -- -k x",
    " -x",
    " -k",
    " -p",
    " -p wz",
    " -w /second",
    " -a always,exit",
];

/// A rule line, and the watch auditctl makes of it (None: it refuses the line).
pub(super) fn rule_line() -> impl Strategy<Value = (String, Option<Watch>)> {
    prop_oneof![
        3 => written_watch().prop_map(|(l, w)| (l, Some(w))),
        1 => (written_watch(), proptest::sample::select(SPOILERS))
            .prop_map(|((l, _), s)| (format!("{l}{s}"), None)),
        // A tab is not a separator to auditctl.
        1 => (proptest::sample::select(PATHS), proptest::sample::select(&["", " -p wa"][..]))
            .prop_map(|(p, rest)| (format!("-w\t{p}{rest}"), None)),
    ]
}

proptest! {
    #[test]
    fn any_text_parses_without_panic(
        text in "[-a-zA-Z0-9 =,/#\\\\\t\r\n]{0,200}",
        other in any::<String>(),
    ) {
        for t in [&text, &other] {
            let _ = watches(t);
            let _ = broken_lines(t);
            let _ = load_text(t);
            let _ = sets_immutable(t);
            let _ = parse_auditctl_list(t);
            let _ = plan_append(t, &[w("/etc/docker", "wa", Some("docker"))]);
            let _ = plan_own_rules_file(Some(t), &[w("/etc/docker", "wa", None)]);
        }
        let _ = augenrules_load(&[&text, &other]);
    }

    #[test]
    fn a_watch_is_a_line_auditctl_accepts((line, watch) in rule_line()) {
        let got = watches(&line).into_iter().next().map(|(_, w)| w);
        prop_assert_eq!(&got, &watch, "{:?}", line);
        prop_assert_eq!(line_error(&line).is_some(), watch.is_none(), "{:?}", line);
    }

    #[test]
    fn loading_stops_at_the_first_refused_line(lines in proptest::collection::vec(rule_line(), 0..10)) {
        let text: String = lines.iter().map(|(l, _)| format!("{l}\n")).collect();
        let first_bad = lines.iter().position(|(_, w)| w.is_none());
        let want: Vec<(usize, Watch)> = lines
            .iter()
            .take(first_bad.unwrap_or(lines.len()))
            .enumerate()
            .map(|(i, (_, w))| (i + 1, w.clone().unwrap()))
            .collect();
        let load = load_text(&text);
        prop_assert_eq!(load.watches, want);
        prop_assert_eq!(load.stop.map(|(l, _)| l), first_bad.map(|i| i + 1));
        // Whatever is broken, an appended watch loads.
        let out = plan_append(&text, &[w("/srv/new", "wa", Some("docker"))]);
        prop_assert!(effective_watches(&out).iter().any(|(_, x)| x.covers("/srv/new")), "{}", out);
    }
}
