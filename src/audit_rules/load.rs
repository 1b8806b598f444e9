//! What loading a rules text with `auditctl -R` leaves in the kernel.

use super::options::Parsed;
use super::rules::{has_opt, is_immutable, watch_of};
use super::validate::parse_line;
use super::watch::Watch;

/// What loading rules leaves in the kernel, each watch with where it was
/// written (`O`: a line number, or a file and line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Load<O> {
    pub(crate) watches: Vec<(O, Watch)>,
    /// The line auditctl refuses, where it stops loading, and why.
    pub(crate) stop: Option<(O, String)>,
}

/// Loads lines in order as `auditctl -R` does: a `-D` wipes the rules before
/// it (with `-k`, only those with that key), `-e 2` locks the rules so the
/// kernel refuses every later one, and the first line auditctl refuses ends
/// the load.
pub(super) fn load<'a, O>(lines: impl IntoIterator<Item = (O, &'a str)>) -> Load<O> {
    let mut watches: Vec<(O, Watch)> = Vec::new();
    for (at, line) in lines {
        match parse_line(line) {
            Parsed::Skip => {}
            Parsed::Broken(reason) => {
                return Load {
                    watches,
                    stop: Some((at, reason.to_string())),
                };
            }
            Parsed::Rule(opts) => {
                if has_opt(&opts, "-D") {
                    match opts.iter().find(|(n, _)| *n == "-k").and_then(|(_, v)| *v) {
                        Some(key) => watches.retain(|(_, w)| w.key.as_deref() != Some(key)),
                        None => watches.clear(),
                    }
                }
                if let Some(w) = watch_of(&opts) {
                    watches.push((at, w));
                }
                if is_immutable(&opts) {
                    break;
                }
            }
        }
    }
    Load {
        watches,
        stop: None,
    }
}

/// Loading a whole rules text with `auditctl -R`, lines numbered from 1.
pub(crate) fn load_text(text: &str) -> Load<usize> {
    load(text.lines().enumerate().map(|(i, l)| (i + 1, l)))
}

/// The watches of a text loaded with `auditctl -R` that actually end up in
/// the kernel: a `-D` wipes everything before it, once `-e 2` is reached the
/// kernel rejects every later rule, and a line auditctl refuses stops the load.
pub(crate) fn effective_watches(text: &str) -> Vec<(usize, Watch)> {
    load_text(text).watches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit_rules::fixtures::*;

    #[test]
    fn keyed_delete_removes_only_that_key() {
        let text = "-w /a -p wa -k one\n-w /b -p wa -k two\n-D -k one\n";
        assert_eq!(
            effective_watches(text),
            vec![(2, w("/b", "wa", Some("two")))]
        );
    }
}
