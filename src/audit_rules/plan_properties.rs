//! Property tests of the planners: idempotent, minimal, the operator's lines kept in order.

use proptest::prelude::*;

use super::fixtures::*;
use super::load::effective_watches;
use super::plan::{APPEND_MARKER, missing, plan_append, plan_own_rules_file};
use super::rules::watches;
use super::watch::{Watch, normalize_path};

pub(super) const WANTED_PERMS: &[&str] = &["wa", "aw", "rwa", "rwxa", ""];

pub(super) fn line_strategy() -> impl Strategy<Value = String> {
    let path = proptest::sample::select(PATHS);
    let perms = proptest::sample::select(PERMS);
    prop_oneof![
        "[a-z -]{0,12}".prop_map(|s| format!("# {s}")),
        Just(String::new()),
        Just("   ".to_string()),
        Just("-D".to_string()),
        Just("-b 8192".to_string()),
        Just("-f 1".to_string()),
        Just("-a always,exit -F arch=b64 -S adjtimex -k time".to_string()),
        (path.clone(), perms.clone(), key_strategy())
            .prop_map(|(p, m, k)| { Watch::new(p, m, k).render() }),
        (path.clone(), perms.clone(), key_strategy()).prop_map(|(p, m, k)| {
            let mut s = format!("-w {p}");
            if let Some(k) = k {
                s.push_str(&format!(" -F key={k}"));
            }
            if !m.is_empty() {
                s.push_str(&format!(" -p {m}"));
            }
            s
        }),
        (
            proptest::sample::select(&["always,exit", "exit,always"][..]),
            proptest::sample::select(&["path", "dir"][..]),
            path,
            perms,
            key_strategy()
        )
            .prop_map(|(act, field, p, m, k)| {
                let mut s = format!("-a {act} -F {field}={p} -F perm={m}");
                if let Some(k) = k {
                    s.push_str(&format!(" -F key={k}"));
                }
                s
            }),
    ]
}

pub(super) fn text_strategy() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(line_strategy(), 0..12),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(mut lines, immutable, final_newline)| {
            if immutable {
                lines.push("-e 2".to_string());
            }
            let mut text = lines.join("\n");
            if final_newline && !lines.is_empty() {
                text.push('\n');
            }
            text
        })
}

pub(super) fn wanted_strategy() -> impl Strategy<Value = Vec<Watch>> {
    proptest::collection::vec(
        (
            proptest::sample::select(PATHS),
            proptest::sample::select(WANTED_PERMS),
            key_strategy(),
        )
            .prop_map(|(p, m, k)| Watch::new(p, m, k)),
        0..5,
    )
}

pub(super) fn count_on(ws: &[(usize, Watch)], path: &str) -> usize {
    ws.iter()
        .filter(|(_, w)| normalize_path(&w.path) == normalize_path(path))
        .count()
}

/// `needle` lines appear in `haystack` lines as a subsequence.
pub(super) fn is_subsequence(needle: &str, haystack: &str) -> bool {
    let mut hay = haystack.lines();
    needle.lines().all(|n| hay.any(|h| h == n))
}

proptest! {
    #[test]
    fn own_file_idempotent(text in text_strategy(), absent in any::<bool>(), wanted in wanted_strategy()) {
        let existing = if absent { None } else { Some(text.as_str()) };
        let once = plan_own_rules_file(existing, &wanted);
        prop_assert_eq!(plan_own_rules_file(Some(&once), &wanted), once.clone());
        prop_assert!(once.ends_with('\n'));
    }

    #[test]
    fn own_file_keeps_lines_in_order(text in text_strategy(), wanted in wanted_strategy()) {
        let out = plan_own_rules_file(Some(&text), &wanted);
        prop_assert!(out.starts_with(&text));
        prop_assert!(is_subsequence(&text, &out));
    }

    #[test]
    fn own_file_covers_wanted_without_duplicates(text in text_strategy(), absent in any::<bool>(), wanted in wanted_strategy()) {
        let existing = if absent { None } else { Some(text.as_str()) };
        let before = watches(existing.unwrap_or(""));
        let out = plan_own_rules_file(existing, &wanted);
        let after = watches(&out);
        for w in &wanted {
            prop_assert!(after.iter().any(|(_, a)| a.covers(&w.path)), "{} not covered", w.path);
            let already = before.iter().any(|(_, b)| b.covers(&w.path));
            let added = count_on(&after, &w.path) - count_on(&before, &w.path);
            prop_assert!(added <= 1);
            if already {
                prop_assert_eq!(added, 0);
            }
        }
    }

    #[test]
    fn append_idempotent(text in text_strategy(), wanted in wanted_strategy()) {
        let once = plan_append(&text, &wanted);
        prop_assert_eq!(plan_append(&once, &wanted), once);
    }

    #[test]
    fn append_only_inserts_one_block(text in text_strategy(), wanted in wanted_strategy()) {
        let out = plan_append(&text, &wanted);
        if out == text {
            return Ok(());
        }
        let start = out.find(APPEND_MARKER).expect("marker present when changed");
        let block_lines = 1 + missing(
            &effective_watches(&text).into_iter().map(|(_, w)| w).collect::<Vec<_>>(),
            &wanted,
        ).len();
        let block_len: usize = out[start..]
            .split_inclusive('\n')
            .take(block_lines)
            .map(str::len)
            .sum();
        let mut removed = String::new();
        removed.push_str(&out[..start]);
        removed.push_str(&out[start + block_len..]);
        if !text.is_empty() && !text.ends_with('\n') && !sets_immutable(&text) {
            // Appending after an unterminated last line needs a newline.
            prop_assert_eq!(removed, format!("{text}\n"));
        } else {
            prop_assert_eq!(removed, text.clone());
        }
        prop_assert!(is_subsequence(&text, &out));
    }

    #[test]
    fn append_covers_wanted_without_duplicates(text in text_strategy(), wanted in wanted_strategy()) {
        let before = watches(&text);
        let effective_before = effective_watches(&text);
        let out = plan_append(&text, &wanted);
        let after = watches(&out);
        let effective_after = effective_watches(&out);
        for w in &wanted {
            prop_assert!(after.iter().any(|(_, a)| a.covers(&w.path)));
            prop_assert!(effective_after.iter().any(|(_, a)| a.covers(&w.path)));
            let already = effective_before.iter().any(|(_, b)| b.covers(&w.path));
            let added = count_on(&after, &w.path) - count_on(&before, &w.path);
            prop_assert!(added <= 1);
            if already {
                prop_assert_eq!(added, 0);
            }
        }
    }

    #[test]
    fn render_roundtrips(path in proptest::sample::select(PATHS), perms in proptest::sample::select(PERMS), key in key_strategy()) {
        let w = Watch::new(path, perms, key);
        prop_assert_eq!(watches(&w.render()), vec![(1, w)]);
    }
}
