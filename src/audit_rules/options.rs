//! How auditctl splits a rules line into options (GNU getopt_long over space-separated words).

use super::refusal::Refusal;

/// auditctl's short options that take a value (its getopt string
/// "hicslDvtC:e:f:r:b:a:A:d:S:F:m:R:w:W:k:p:q:").
pub(super) const SHORT_WITH_VALUE: &str = "CefrbaAdSFmRwWkpq";

/// auditctl's short options without a value.
pub(super) const SHORT_FLAGS: &str = "hicslDvt";

/// auditctl's long options and whether each takes a value.
pub(super) const LONG_OPTIONS: &[(&str, bool)] = &[
    ("--loginuid-immutable", false),
    ("--backlog_wait_time", true),
    ("--reset-lost", false),
    ("--reset_backlog_wait_time_actual", false),
    ("--signal", true),
];

/// One option of a rule line: its name as written in auditctl's usage (`-w`,
/// `--backlog_wait_time`) and its value.
pub(super) type Opt<'a> = (&'static str, Option<&'a str>);

/// How `auditctl -R` reads one line of a rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Parsed<'a> {
    /// Blank or a comment: skipped.
    Skip,
    /// The options, in order.
    Rule(Vec<Opt<'a>>),
    /// auditctl refuses the line, and so stops loading the file there: why.
    Broken(Refusal),
}

pub(super) fn short_name(c: char) -> Option<&'static str> {
    const NAMES: &[&str] = &[
        "-C", "-e", "-f", "-r", "-b", "-a", "-A", "-d", "-S", "-F", "-m", "-R", "-w", "-W", "-k",
        "-p", "-q", "-h", "-i", "-c", "-s", "-l", "-D", "-v", "-t",
    ];
    NAMES.iter().copied().find(|n| n[1..].starts_with(c))
}

/// Splits a line into options the way auditctl does: words are separated by
/// spaces only (a tab is part of a word), and GNU getopt_long reads them, so a
/// value may be glued to its option (`-pwa`) or be the next word whatever it
/// looks like, and a long option may be abbreviated. A word that is neither an
/// option nor an option's value (the `\` of a rule "continued" on the next
/// line, a trailing `# comment`, anything after `--`) makes auditctl refuse
/// the line ("parameter passed without an option given").
pub(super) fn getopt(line: &str) -> Parsed<'_> {
    let words: Vec<&str> = line.split(' ').filter(|w| !w.is_empty()).collect();
    let Some(first) = words.first() else {
        return Parsed::Skip;
    };
    if first.starts_with('#') {
        return Parsed::Skip;
    }
    let mut opts: Vec<Opt<'_>> = Vec::new();
    let mut stray: Option<&str> = None;
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        i += 1;
        if word == "--" {
            stray = stray.or(words.get(i).copied());
            break;
        }
        if let Some(body) = word.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            // getopt_long takes any unambiguous abbreviation.
            let exact = LONG_OPTIONS.iter().find(|(l, _)| l[2..] == *name);
            let prefixed: Vec<&(&str, bool)> = LONG_OPTIONS
                .iter()
                .filter(|(l, _)| l[2..].starts_with(name))
                .collect();
            let (long, takes_value) = match (exact, prefixed.as_slice()) {
                (Some(o), _) => *o,
                (None, [o]) => **o,
                (None, []) => return Parsed::Broken(Refusal::UnknownOption(word.to_string())),
                (None, _) => {
                    return Parsed::Broken(Refusal::AmbiguousOption(word.to_string()));
                }
            };
            let value = match (takes_value, inline) {
                (true, Some(v)) => Some(v),
                (true, None) => match words.get(i) {
                    Some(v) => {
                        i += 1;
                        Some(*v)
                    }
                    None => return Parsed::Broken(Refusal::NeedsValue(long)),
                },
                (false, Some(_)) => return Parsed::Broken(Refusal::TakesNoValue(long)),
                (false, None) => None,
            };
            opts.push((long, value));
            continue;
        }
        let Some(cluster) = word.strip_prefix('-').filter(|c| !c.is_empty()) else {
            // getopt moves such words to the end; auditctl then refuses them.
            stray = stray.or(Some(word));
            continue;
        };
        let mut rest = cluster;
        while let Some(c) = rest.chars().next() {
            rest = &rest[c.len_utf8()..];
            let Some(name) = short_name(c) else {
                return Parsed::Broken(Refusal::UnknownOption(format!("-{c}")));
            };
            if SHORT_WITH_VALUE.contains(c) {
                let value = if !rest.is_empty() {
                    rest
                } else if let Some(v) = words.get(i) {
                    i += 1;
                    v
                } else {
                    return Parsed::Broken(Refusal::NeedsValue(name));
                };
                opts.push((name, Some(value)));
                break;
            }
            debug_assert!(SHORT_FLAGS.contains(c));
            opts.push((name, None));
        }
    }
    match stray {
        Some("\\") => Parsed::Broken(Refusal::Continued),
        Some(word) => Parsed::Broken(Refusal::Stray(word.to_string())),
        None => Parsed::Rule(opts),
    }
}
