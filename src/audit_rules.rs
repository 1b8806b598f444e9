//! Linux audit rules text handling (the format read by `auditctl -R` and
//! `augenrules`). Everything here is a pure function on text so that the
//! audit and fix logic can be tested without touching the host.

/// A file watch, whichever syntax it was written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub path: String,
    /// Letters from "rwxa" as written; empty means no `-p` was given, which
    /// the kernel treats as all of rwxa.
    pub perms: String,
    pub key: Option<String>,
}

/// Header of a rules.d file that docker-harden creates.
pub const OWN_FILE_HEADER: [&str; 2] = [
    "# Managed by docker-harden: audit watches for Docker files and binaries (CIS Docker Benchmark 1.1.x).",
    "# Rules are appended; edits to existing lines are kept.",
];

/// Comment that precedes the block inserted into /etc/audit/audit.rules.
pub const APPEND_MARKER: &str = "# docker-harden: audit watches for Docker (CIS 1.1.x)";

impl Watch {
    pub fn new(path: &str, perms: &str, key: Option<&str>) -> Watch {
        Watch {
            path: path.to_string(),
            perms: perms.to_string(),
            key: key.map(str::to_string),
        }
    }

    /// One rule line: "-w /usr/sbin/dockerd -p wa -k docker".
    pub fn render(&self) -> String {
        let mut line = format!("-w {}", self.path);
        // An empty perms string must stay "no -p" so that parsing the
        // rendered line gives back the same Watch.
        if !self.perms.is_empty() {
            line.push_str(" -p ");
            line.push_str(&self.perms);
        }
        if let Some(key) = &self.key {
            line.push_str(" -k ");
            line.push_str(key);
        }
        line
    }

    /// True when this watch is on exactly `path` and records both writes
    /// and attribute changes, which is what the benchmark asks of a watch.
    pub fn covers(&self, path: &str) -> bool {
        normalize_path(&self.path) == normalize_path(path)
            && has_perm(&self.perms, 'w')
            && has_perm(&self.perms, 'a')
    }

    /// True when this watch makes `wanted` redundant. Besides `covers`,
    /// this accepts a superset of the wanted perms so that a wanted watch
    /// without w or a (which `covers` never accepts) is still found after it
    /// was added once; otherwise the planners would append it forever.
    fn satisfies(&self, wanted: &Watch) -> bool {
        if self.covers(&wanted.path) {
            return true;
        }
        normalize_path(&self.path) == normalize_path(&wanted.path)
            && "rwxa"
                .chars()
                .all(|p| !has_perm(&wanted.perms, p) || has_perm(&self.perms, p))
    }

    /// A watch that cannot be written as a single whitespace-separated rule
    /// line would produce a file auditctl rejects (or a different rule).
    fn is_renderable(&self) -> bool {
        let clean = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace);
        clean(&self.path)
            && !self.perms.contains(char::is_whitespace)
            && self.key.as_deref().is_none_or(clean)
    }
}

fn has_perm(perms: &str, p: char) -> bool {
    perms.is_empty() || perms.contains(p)
}

/// Trailing slashes do not change what the kernel watches, but "/" itself
/// must not collapse to an empty string.
fn normalize_path(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() && path.starts_with('/') {
        "/"
    } else {
        trimmed
    }
}

/// auditctl's short options that take a value (its getopt string
/// "hicslDvtC:e:f:r:b:a:A:d:S:F:m:R:w:W:k:p:q:").
const SHORT_WITH_VALUE: &str = "CefrbaAdSFmRwWkpq";
/// auditctl's short options without a value.
const SHORT_FLAGS: &str = "hicslDvt";
/// auditctl's long options and whether each takes a value.
const LONG_OPTIONS: &[(&str, bool)] = &[
    ("--loginuid-immutable", false),
    ("--backlog_wait_time", true),
    ("--reset-lost", false),
    ("--reset_backlog_wait_time_actual", false),
    ("--signal", true),
];
/// Longest path auditctl takes for a watch (PATH_MAX, with its terminating NUL).
const PATH_MAX: usize = 4096;
/// Longest key auditctl takes (AUDIT_MAX_KEY_LEN).
const MAX_KEY_LEN: usize = 256;

/// One option of a rule line: its name as written in auditctl's usage (`-w`,
/// `--backlog_wait_time`) and its value.
type Opt<'a> = (&'static str, Option<&'a str>);

/// How `auditctl -R` reads one line of a rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Parsed<'a> {
    /// Blank or a comment: skipped.
    Skip,
    /// The options, in order.
    Rule(Vec<Opt<'a>>),
    /// auditctl refuses the line, and so stops loading the file there: why.
    Broken(String),
}

fn short_name(c: char) -> Option<&'static str> {
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
fn getopt(line: &str) -> Parsed<'_> {
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
                (None, []) => return Parsed::Broken(format!("`{word}` is not an auditctl option")),
                (None, _) => {
                    return Parsed::Broken(format!("`{word}` is an ambiguous auditctl option"));
                }
            };
            let value = match (takes_value, inline) {
                (true, Some(v)) => Some(v),
                (true, None) => match words.get(i) {
                    Some(v) => {
                        i += 1;
                        Some(*v)
                    }
                    None => return Parsed::Broken(format!("`{long}` needs a value")),
                },
                (false, Some(_)) => return Parsed::Broken(format!("`{long}` takes no value")),
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
                return Parsed::Broken(format!("`-{c}` is not an auditctl option"));
            };
            if SHORT_WITH_VALUE.contains(c) {
                let value = if !rest.is_empty() {
                    rest
                } else if let Some(v) = words.get(i) {
                    i += 1;
                    v
                } else {
                    return Parsed::Broken(format!("`{name}` needs a value"));
                };
                opts.push((name, Some(value)));
                break;
            }
            debug_assert!(SHORT_FLAGS.contains(c));
            opts.push((name, None));
        }
    }
    match stray {
        Some("\\") => Parsed::Broken(
            "a rule cannot continue on the next line: auditctl reads the trailing `\\` as a stray word"
                .into(),
        ),
        Some(word) => Parsed::Broken(format!(
            "`{word}` is neither an option nor an option's value"
        )),
        None => Parsed::Rule(opts),
    }
}

/// The checks auditctl makes while it reads a rule's options, in order; the
/// first failure makes it refuse the line. Only what auditctl itself rejects
/// (measured with auditctl 3.0.9) is checked here: values the kernel judges,
/// such as a `-F` field's, are not.
fn validate(opts: &[Opt<'_>]) -> Result<(), String> {
    // `-D` deletes every rule, or with `-k KEY` those with that key; it takes nothing else.
    if opts.first().is_some_and(|(n, _)| *n == "-D") {
        return match opts {
            [_] | [_, ("-k", Some(_))] => Ok(()),
            _ => Err("`-D` takes only `-k KEY` with it".into()),
        };
    }
    // Whether a rule list (-a, -A, -d) or a watch (-w, -W) was given yet.
    let mut list = false;
    let mut key_len = 0usize;
    for &(name, value) in opts {
        let value = value.unwrap_or_default();
        match name {
            "-a" | "-A" | "-d" => {
                if list {
                    return Err(format!("`{name} {value}`: one rule per line"));
                }
                let parts: Vec<&str> = value.split(',').collect();
                let actions = parts
                    .iter()
                    .filter(|p| matches!(**p, "always" | "never" | "possible"))
                    .count();
                if parts.len() != 2 || actions != 1 || parts.iter().any(|p| p.is_empty()) {
                    return Err(format!("`{name} {value}` is not LIST,ACTION"));
                }
                list = true;
            }
            "-w" | "-W" => {
                if list {
                    return Err(format!("`{name} {value}`: one rule per line"));
                }
                if !value.starts_with('/') {
                    return Err(format!("`{name} {value}`: the path must start with /"));
                }
                if value.len() >= PATH_MAX {
                    return Err(format!("`{name}`: the path is too long"));
                }
                list = true;
            }
            "-p" => {
                if !list {
                    return Err("`-p` before the watch or rule it belongs to".into());
                }
                if value.chars().count() > 4
                    || !value
                        .chars()
                        .all(|c| "rwxa".contains(c.to_ascii_lowercase()))
                {
                    return Err(format!("`-p {value}`: permissions are letters of rwxa"));
                }
            }
            "-k" | "-F" if !list => {
                return Err(format!("`{name}` before the watch or rule it belongs to"));
            }
            "-k" => {
                key_len += value.len() + usize::from(key_len > 0);
                if key_len > MAX_KEY_LEN {
                    return Err(format!("keys longer than {MAX_KEY_LEN} characters"));
                }
            }
            "-F" => {
                if !value.contains(['=', '<', '>', '&']) {
                    return Err(format!("`-F {value}` is not FIELD=VALUE"));
                }
                if let Some(key) = value.strip_prefix("key=") {
                    key_len += key.len() + usize::from(key_len > 0);
                    if key_len > MAX_KEY_LEN {
                        return Err(format!("keys longer than {MAX_KEY_LEN} characters"));
                    }
                }
            }
            "-e" | "-f" if !matches!(value, "0" | "1" | "2") => {
                return Err(format!("`{name} {value}`: the value must be 0, 1 or 2"));
            }
            "-b" | "-r" | "--backlog_wait_time"
                if !value.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                return Err(format!("`{name} {value}`: the value must be a number"));
            }
            "-h" => return Err("`-h` prints the usage instead of a rule".into()),
            "-R" => return Err("`-R`: rules files cannot include other files".into()),
            _ => {}
        }
    }
    Ok(())
}

/// How auditctl reads one line of a rules file.
fn parse_line(line: &str) -> Parsed<'_> {
    match getopt(line) {
        Parsed::Rule(opts) => match validate(&opts) {
            Ok(()) => Parsed::Rule(opts),
            Err(reason) => Parsed::Broken(reason),
        },
        other => other,
    }
}

/// Why `auditctl -R` refuses this line, when it does. auditctl stops loading
/// a file at the first line it refuses, so nothing after it loads either.
pub fn line_error(line: &str) -> Option<String> {
    match parse_line(line) {
        Parsed::Broken(reason) => Some(reason),
        _ => None,
    }
}

/// Every line of a rules text auditctl refuses, with its 1-based number.
pub fn broken_lines(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| line_error(l).map(|r| (i + 1, r)))
        .collect()
}

fn has_opt(opts: &[Opt<'_>], name: &str) -> bool {
    opts.iter().any(|(n, _)| *n == name)
}

fn is_immutable(opts: &[Opt<'_>]) -> bool {
    opts.contains(&("-e", Some("2")))
}

/// The file watch a rule makes, whichever syntax it is written in; None for
/// any other rule.
fn watch_of(opts: &[Opt<'_>]) -> Option<Watch> {
    // Control options (-D, -s, -v, -e...) make auditctl act on them instead of
    // sending a rule.
    if opts
        .iter()
        .any(|(n, _)| !matches!(*n, "-w" | "-a" | "-A" | "-p" | "-k" | "-F" | "-S" | "-C"))
    {
        return None;
    }
    let last = |name: &str| {
        opts.iter()
            .rev()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| *v)
    };
    let fields = || {
        opts.iter()
            .filter(|(n, _)| *n == "-F")
            .filter_map(|(_, v)| *v)
    };
    // Several keys are legal; the first is enough to label the rule.
    let key = opts
        .iter()
        .find_map(|(n, v)| match *n {
            "-k" => *v,
            "-F" => v.and_then(|f| f.strip_prefix("key=")),
            _ => None,
        })
        .filter(|k| !k.is_empty());
    // auditctl reads permission letters in any case.
    let perm_opt = last("-p").map(str::to_ascii_lowercase);
    if let Some(path) = last("-w") {
        return Some(Watch::new(path, perm_opt.as_deref().unwrap_or(""), key));
    }
    let action = last("-a").or_else(|| last("-A"));
    if !matches!(action, Some("always,exit") | Some("exit,always")) {
        return None;
    }
    let path = fields()
        .filter_map(|f| f.strip_prefix("path=").or_else(|| f.strip_prefix("dir=")))
        .next_back()
        .filter(|p| !p.is_empty())?;
    let perm_field = fields().filter_map(|f| f.strip_prefix("perm=")).next_back();
    let syscalls: Vec<&str> = opts
        .iter()
        .filter(|(n, _)| *n == "-S")
        .filter_map(|(_, v)| *v)
        .collect();
    let perms = match (perm_field, perm_opt.as_deref()) {
        (Some(p), _) | (None, Some(p)) => p,
        // Without a perm filter the rule only watches the listed syscalls;
        // that is a file watch only when it applies to all of them.
        (None, None) if syscalls.iter().all(|s| *s == "all") => "",
        (None, None) => return None,
    };
    Some(Watch::new(path, perms, key))
}

/// Parses one rule line into a watch when it is one; any other rule (and a
/// line auditctl refuses) yields None so callers can scan whole files without
/// caring about the rest.
fn parse_watch_line(line: &str) -> Option<Watch> {
    match parse_line(line) {
        Parsed::Rule(opts) => watch_of(&opts),
        _ => None,
    }
}

fn is_immutable_line(line: &str) -> bool {
    matches!(parse_line(line), Parsed::Rule(opts) if is_immutable(&opts))
}

/// Every file-watch rule in a rules file text, in order, with its 1-based
/// line number.
pub fn watches(text: &str) -> Vec<(usize, Watch)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| parse_watch_line(line).map(|w| (i + 1, w)))
        .collect()
}

/// What loading rules leaves in the kernel, each watch with where it was
/// written (`O`: a line number, or a file and line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Load<O> {
    pub watches: Vec<(O, Watch)>,
    /// The line auditctl refuses, where it stops loading, and why.
    pub stop: Option<(O, String)>,
}

/// Loads lines in order as `auditctl -R` does: a `-D` wipes the rules before
/// it (with `-k`, only those with that key), `-e 2` locks the rules so the
/// kernel refuses every later one, and the first line auditctl refuses ends
/// the load.
fn load<'a, O>(lines: impl IntoIterator<Item = (O, &'a str)>) -> Load<O> {
    let mut watches: Vec<(O, Watch)> = Vec::new();
    for (at, line) in lines {
        match parse_line(line) {
            Parsed::Skip => {}
            Parsed::Broken(reason) => {
                return Load {
                    watches,
                    stop: Some((at, reason)),
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
pub fn load_text(text: &str) -> Load<usize> {
    load(text.lines().enumerate().map(|(i, l)| (i + 1, l)))
}

/// The watches of a text loaded with `auditctl -R` that actually end up in
/// the kernel: a `-D` wipes everything before it, once `-e 2` is reached the
/// kernel rejects every later rule, and a line auditctl refuses stops the load.
pub fn effective_watches(text: &str) -> Vec<(usize, Watch)> {
    load_text(text).watches
}

/// The order in which augenrules reads rules.d files (`ls -1v`): names
/// compared piece by piece, runs of digits by their value.
pub fn augenrules_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn pieces(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            let digit = c.is_ascii_digit();
            let end = rest
                .find(|ch: char| ch.is_ascii_digit() != digit)
                .unwrap_or(rest.len());
            out.push((digit, &rest[..end]));
            rest = &rest[end..];
        }
        out
    }
    let (pa, pb) = (pieces(a), pieces(b));
    for (x, y) in pa.iter().zip(&pb) {
        let ord = match (x, y) {
            ((true, x), (true, y)) => {
                let (tx, ty) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                tx.len().cmp(&ty.len()).then(tx.cmp(ty))
            }
            ((_, x), (_, y)) => x.cmp(y),
        };
        if ord.is_ne() {
            return ord;
        }
    }
    pa.len().cmp(&pb.len()).then(a.cmp(b))
}

/// What `augenrules --load` puts in the kernel from rules.d files, given in
/// the order it reads them (`augenrules_order`): it joins them, drops
/// comments, moves the last `-D`, `-b` and `-f` to the front and the last
/// `-e` to the end, and loads the result with `auditctl -R`. Each watch comes
/// with (index of its file, line).
pub fn augenrules_load(files: &[&str]) -> Load<(usize, usize)> {
    type Line<'a> = ((usize, usize), &'a str);
    let (mut delete, mut backlog, mut failure, mut enable): (
        Option<Line<'_>>,
        Option<Line<'_>>,
        Option<Line<'_>>,
        Option<Line<'_>>,
    ) = (None, None, None, None);
    let mut rest: Vec<Line<'_>> = Vec::new();
    for (fi, text) in files.iter().enumerate() {
        for (li, line) in text.lines().enumerate() {
            let at = ((fi, li + 1), line);
            let t = line.trim_start();
            if t.is_empty() || t.starts_with('#') {
                continue;
            } else if t.starts_with("-e") {
                enable = Some(at);
            } else if t.trim_end() == "-D" {
                delete = Some(at);
            } else if t.starts_with("-b") {
                backlog = Some(at);
            } else if t.starts_with("-f") {
                failure = Some(at);
            } else {
                rest.push(at);
            }
        }
    }
    let merged = [delete, backlog, failure]
        .into_iter()
        .flatten()
        .chain(rest)
        .chain(enable);
    load(merged)
}

/// Parses the output of `auditctl -l` into watches.
pub fn parse_auditctl_list(output: &str) -> Vec<Watch> {
    // "No rules" and any other prose is simply not a rule line.
    watches(output).into_iter().map(|(_, w)| w).collect()
}

/// The `enabled` value from `auditctl -s` output.
pub fn enabled_flag(status_output: &str) -> Option<u8> {
    for line in status_output.lines() {
        let mut tokens = line.split_whitespace();
        // Current auditctl prints "enabled 2"; old versions print one line
        // of "AUDIT_STATUS: enabled=2 flag=1 ...".
        if tokens.next() == Some("enabled") {
            if let Some(v) = tokens.next().and_then(|v| v.parse().ok()) {
                return Some(v);
            }
            continue;
        }
        if let Some(v) = line
            .split_whitespace()
            .find_map(|t| t.strip_prefix("enabled="))
            .and_then(|v| v.parse().ok())
        {
            return Some(v);
        }
    }
    None
}

/// True when a rules text makes the configuration immutable.
pub fn sets_immutable(text: &str) -> bool {
    text.lines().any(is_immutable_line)
}

/// The wanted watches not satisfied by `present`, in wanted order, each path
/// at most once.
fn missing<'a>(present: &[Watch], wanted: &'a [Watch]) -> Vec<&'a Watch> {
    let mut out: Vec<&Watch> = Vec::new();
    for w in wanted.iter().filter(|w| w.is_renderable()) {
        let done = present
            .iter()
            .chain(out.iter().copied())
            .any(|p| p.satisfies(w));
        if !done {
            out.push(w);
        }
    }
    out
}

/// Content for a rules.d file owned by docker-harden.
pub fn plan_own_rules_file(existing: Option<&str>, wanted: &[Watch]) -> String {
    let mut out = String::new();
    match existing {
        Some(text) if !text.is_empty() => {
            out.push_str(text);
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        // An empty file is treated like a new one so that it gets the header.
        _ => {
            for line in OWN_FILE_HEADER {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    // augenrules moves the -e flag to the end of the merged rules, so every
    // watch in this file counts, wherever it stands.
    let present: Vec<Watch> = watches(existing.unwrap_or(""))
        .into_iter()
        .map(|(_, w)| w)
        .collect();
    for w in missing(&present, wanted) {
        out.push_str(&w.render());
        out.push('\n');
    }
    out
}

/// New content of /etc/audit/audit.rules with the missing watches added.
pub fn plan_append(existing: &str, wanted: &[Watch]) -> String {
    let present: Vec<Watch> = effective_watches(existing)
        .into_iter()
        .map(|(_, w)| w)
        .collect();
    let todo = missing(&present, wanted);
    if todo.is_empty() {
        return existing.to_string();
    }
    let mut block = String::new();
    block.push_str(APPEND_MARKER);
    block.push('\n');
    for w in todo {
        block.push_str(&w.render());
        block.push('\n');
    }

    // The block goes before the line where loading stops (`-e 2`, or a line
    // auditctl refuses), so that it loads.
    let mut offset = 0;
    for line in existing.split_inclusive('\n') {
        let bare = line.strip_suffix('\n').unwrap_or(line);
        let bare = bare.strip_suffix('\r').unwrap_or(bare);
        if is_immutable_line(bare) || line_error(bare).is_some() {
            let mut out = String::with_capacity(existing.len() + block.len());
            out.push_str(&existing[..offset]);
            out.push_str(&block);
            out.push_str(&existing[offset..]);
            return out;
        }
        offset += line.len();
    }

    let mut out = existing.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&block);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn w(path: &str, perms: &str, key: Option<&str>) -> Watch {
        Watch::new(path, perms, key)
    }

    #[test]
    fn render_with_and_without_key() {
        assert_eq!(
            w("/usr/sbin/dockerd", "wa", Some("docker")).render(),
            "-w /usr/sbin/dockerd -p wa -k docker"
        );
        assert_eq!(
            w("/etc/docker", "wa", None).render(),
            "-w /etc/docker -p wa"
        );
        assert_eq!(w("/etc/docker", "", None).render(), "-w /etc/docker");
    }

    #[test]
    fn covers_rules() {
        assert!(w("/etc/docker/", "wa", None).covers("/etc/docker"));
        assert!(w("/etc/docker", "rwxa", None).covers("/etc/docker/"));
        assert!(w("/etc/docker", "", None).covers("/etc/docker"));
        assert!(w("/", "wa", None).covers("/"));
        assert!(!w("/", "wa", None).covers(""));
        assert!(!w("/etc/docker", "w", None).covers("/etc/docker"));
        assert!(!w("/etc/docker", "ra", None).covers("/etc/docker"));
        assert!(!w("/etc/docker", "wa", None).covers("/etc/docker/daemon.json"));
        assert!(!w("/etc", "wa", None).covers("/etc/docker"));
    }

    #[test]
    fn parses_watch_form_in_any_order() {
        let text = "-w /usr/bin/dockerd -p wa -k docker\n\
                    -w /etc/docker -k docker -p rwxa\n\
                    -w /run/containerd\n\
                    -w /usr/bin/runc -p wa -F key=runc\n";
        assert_eq!(
            watches(text),
            vec![
                (1, w("/usr/bin/dockerd", "wa", Some("docker"))),
                (2, w("/etc/docker", "rwxa", Some("docker"))),
                (3, w("/run/containerd", "", None)),
                (4, w("/usr/bin/runc", "wa", Some("runc"))),
            ]
        );
    }

    #[test]
    fn parses_syscall_form() {
        let text = "-a always,exit -F path=/usr/bin/containerd -F perm=wa -F key=docker\n\
                    -a exit,always -F dir=/etc/docker/ -F perm=wa -k docker\n\
                    -a always,exit -S all -F path=/usr/bin/runc -F perm=wa -F key=docker\n\
                    -a always,exit -F arch=b64 -S all -F path=/usr/bin/ctr\n";
        assert_eq!(
            watches(text),
            vec![
                (1, w("/usr/bin/containerd", "wa", Some("docker"))),
                (2, w("/etc/docker/", "wa", Some("docker"))),
                (3, w("/usr/bin/runc", "wa", Some("docker"))),
                (4, w("/usr/bin/ctr", "", None)),
            ]
        );
    }

    #[test]
    fn ignores_comments_controls_and_other_syscall_rules() {
        let text = "# -w /etc/docker -p wa\n\
                    \n   \t\n\
                    -D\n-b 8192\n-f 1\n--backlog_wait_time 60000\n\
                    -a always,exit -F arch=b64 -S adjtimex -k time\n\
                    -a never,exit -F path=/etc/docker -F perm=wa\n\
                    -a always,exit -S open -F path=/etc/shadow\n\
                    -W /etc/docker -p wa\n\
                    -w\n\
                    -e 2\n\
                    \x20  -w /etc/default/docker -p wa\n";
        assert_eq!(
            watches(text),
            vec![(14, w("/etc/default/docker", "wa", None))]
        );
    }

    #[test]
    fn crlf_lines_parse() {
        let text = "-w /etc/docker -p wa -k docker\r\n-e 2\r\n";
        assert_eq!(
            watches(text),
            vec![(1, w("/etc/docker", "wa", Some("docker")))]
        );
        assert!(sets_immutable(text));
    }

    #[test]
    fn auditctl_list_sample() {
        let out = "-w /usr/bin/dockerd -p wa -k docker\n\
                   -w /etc/docker -p wa -k docker\n\
                   -a always,exit -S all -F path=/usr/bin/runc -F perm=wa -F key=docker\n\
                   -a always,exit -F arch=b64 -S adjtimex,settimeofday -F key=time-change\n";
        assert_eq!(
            parse_auditctl_list(out),
            vec![
                w("/usr/bin/dockerd", "wa", Some("docker")),
                w("/etc/docker", "wa", Some("docker")),
                w("/usr/bin/runc", "wa", Some("docker")),
            ]
        );
        assert!(parse_auditctl_list("No rules\n").is_empty());
        assert!(parse_auditctl_list("").is_empty());
    }

    #[test]
    fn enabled_flag_forms() {
        let status = "enabled 2\nfailure 1\npid 123\nrate_limit 0\nbacklog_limit 8192\n";
        assert_eq!(enabled_flag(status), Some(2));
        assert_eq!(enabled_flag("failure 1\nenabled 1\n"), Some(1));
        assert_eq!(enabled_flag("enabled 0"), Some(0));
        assert_eq!(
            enabled_flag("AUDIT_STATUS: enabled=1 flag=1 pid=42 rate_limit=0"),
            Some(1)
        );
        assert_eq!(enabled_flag("failure 1\npid 123\n"), None);
        assert_eq!(enabled_flag("enabled x\n"), None);
        assert_eq!(enabled_flag(""), None);
    }

    #[test]
    fn sets_immutable_only_for_active_e2() {
        assert!(sets_immutable("-D\n-e 2\n"));
        assert!(sets_immutable("  -e   2  "));
        assert!(!sets_immutable("# -e 2\n"));
        assert!(!sets_immutable("-e 1\n"));
        assert!(!sets_immutable("-e 20\n"));
        assert!(!sets_immutable(""));
    }

    #[test]
    fn own_file_new_has_header_and_rules() {
        let wanted = [
            w("/usr/bin/dockerd", "wa", Some("docker")),
            w("/etc/docker", "wa", Some("docker")),
        ];
        let out = plan_own_rules_file(None, &wanted);
        assert_eq!(
            out,
            format!(
                "{}\n{}\n-w /usr/bin/dockerd -p wa -k docker\n-w /etc/docker -p wa -k docker\n",
                OWN_FILE_HEADER[0], OWN_FILE_HEADER[1]
            )
        );
        assert_eq!(plan_own_rules_file(Some(&out), &wanted), out);
    }

    #[test]
    fn own_file_keeps_operator_edits() {
        let existing = "# my note\n-w /etc/docker -p rwa -k mine\n-w /usr/bin/dockerd -p r";
        let wanted = [
            w("/usr/bin/dockerd", "wa", Some("docker")),
            w("/etc/docker/", "wa", Some("docker")),
        ];
        let out = plan_own_rules_file(Some(existing), &wanted);
        assert_eq!(
            out,
            format!("{existing}\n-w /usr/bin/dockerd -p wa -k docker\n")
        );
    }

    #[test]
    fn own_file_dedupes_wanted_and_skips_unrenderable() {
        let wanted = [
            w("/etc/docker", "wa", None),
            w("/etc/docker/", "rwa", Some("x")),
            w("/bad path", "wa", None),
            w("", "wa", None),
        ];
        let out = plan_own_rules_file(Some("-b 8192\n"), &wanted);
        assert_eq!(out, "-b 8192\n-w /etc/docker -p wa\n");
    }

    #[test]
    fn own_file_nothing_to_add_still_ends_with_newline() {
        assert_eq!(
            plan_own_rules_file(
                Some("-w /etc/docker -p wa"),
                &[w("/etc/docker", "wa", None)]
            ),
            "-w /etc/docker -p wa\n"
        );
    }

    #[test]
    fn append_inserts_before_first_e2() {
        let existing = "-D\n-b 8192\n-w /etc/docker -p wa -k docker\n# -e 2\n-e 2\n";
        let wanted = [
            w("/etc/docker", "wa", Some("docker")),
            w("/usr/bin/dockerd", "wa", Some("docker")),
        ];
        let out = plan_append(existing, &wanted);
        assert_eq!(
            out,
            format!(
                "-D\n-b 8192\n-w /etc/docker -p wa -k docker\n# -e 2\n{APPEND_MARKER}\n\
                 -w /usr/bin/dockerd -p wa -k docker\n-e 2\n"
            )
        );
        assert_eq!(plan_append(&out, &wanted), out);
    }

    #[test]
    fn append_at_end_without_e2() {
        let wanted = [w("/etc/docker", "wa", None)];
        assert_eq!(
            plan_append("-D\n-b 8192", &wanted),
            format!("-D\n-b 8192\n{APPEND_MARKER}\n-w /etc/docker -p wa\n")
        );
        assert_eq!(
            plan_append("", &wanted),
            format!("{APPEND_MARKER}\n-w /etc/docker -p wa\n")
        );
    }

    #[test]
    fn append_unchanged_when_nothing_missing() {
        let existing = "-w /etc/docker/ -p rwxa\n-e 2";
        assert_eq!(
            plan_append(existing, &[w("/etc/docker", "wa", None)]),
            existing
        );
        assert_eq!(plan_append(existing, &[]), existing);
    }

    #[test]
    fn append_ignores_watches_the_kernel_would_reject_or_drop() {
        // After -e 2 a rule fails to load; before -D it is wiped.
        let existing = "-w /a -p wa\n-D\n-e 2\n-w /b -p wa\n";
        let out = plan_append(existing, &[w("/a", "wa", None), w("/b", "wa", None)]);
        assert_eq!(
            out,
            format!(
                "-w /a -p wa\n-D\n{APPEND_MARKER}\n-w /a -p wa\n-w /b -p wa\n-e 2\n-w /b -p wa\n"
            )
        );
    }

    #[test]
    fn a_rule_continued_with_a_backslash_is_no_watch() {
        // auditctl 3.0.9 refuses line 1 ("parameter passed without an option given") and
        // loads nothing after it: measured with `auditctl -R`.
        let text = "-w /usr/sbin/dockerd \\\n  -p wa -k docker\n-w /etc/docker -p wa\n";
        assert_eq!(watches(text), vec![(3, w("/etc/docker", "wa", None))]);
        let broken = broken_lines(text);
        assert_eq!(broken.len(), 2, "{broken:?}");
        assert_eq!(broken[0].0, 1);
        assert!(
            broken[0].1.contains("cannot continue on the next line"),
            "{broken:?}"
        );
        assert!(broken[1].1.contains("`-p` before"), "{broken:?}");
        let load = load_text(text);
        assert!(load.watches.is_empty());
        assert_eq!(load.stop.map(|(line, _)| line), Some(1));
        assert!(effective_watches(text).is_empty());
    }

    #[test]
    fn a_backslash_glued_to_a_value_is_part_of_it() {
        // auditctl loads `-k dhp\` as the key "dhp\"; `-p wa\` is a bad permission.
        assert_eq!(
            watches("-w /a -p wa -k docker\\\n"),
            vec![(1, w("/a", "wa", Some("docker\\")))]
        );
        assert!(line_error("-w /a -p wa\\").is_some());
    }

    /// Lines and whether auditctl 3.0.9 loads them (`auditctl -R` of the line followed by a
    /// watch: rc 0 and both loaded, or rc 1 and neither), on watches under a private tmpdir.
    const MEASURED: &[(&str, bool)] = &[
        ("-w /tmp/a -p wa -F key=k", true),
        ("-w /tmp/a -p WA -k k", true),
        ("-w /tmp/a -w /tmp/b -k k", false),
        ("-w tmp/a -k k", false),
        ("-a always,exit -F path=/tmp/a -k k", true),
        ("-a always,exit -F path=/tmp/a -F perm=wa -k k", true),
        ("-a always,exit -F path -F perm=wa -k k", false),
        ("-F path=/tmp/a -a always,exit -F perm=wa -k k", false),
        ("-a always -F path=/tmp/a -F perm=wa -k k", false),
        ("-a always,exit,x -F path=/tmp/a -F perm=wa -k k", false),
        ("-a exit,always -F path=/tmp/a -F perm=wa -k k", true),
        (
            "-a always,exit -a always,exit -F path=/tmp/a -F perm=wa -k k",
            false,
        ),
        ("-w /tmp/a -p wa -x", false),
        ("-w /tmp/a -p rwxaa -k k", false),
        ("-w /tmp/a -p -k k", false),
        ("-k k -w /tmp/a -p wa", false),
        ("-p wa -w /tmp/a -k k", false),
        ("-a always,exit -S all -F dir=/tmp/a -k k", true),
        (
            "-a always,exit -F arch=b64 -S openat -F path=/tmp/a -k k",
            true,
        ),
        ("-w/tmp/a -k k", true),
        ("-wp /tmp/a -k k", false),
        ("-w /tmp/a -pwa -kk", true),
        ("-w /tmp/a -p wa -k a -k b", true),
        ("-a never,exit -F path=/tmp/a -F perm=wa -k k", true),
        ("-A always,exit -F path=/tmp/a -F perm=wa -k k", true),
        ("-w /tmp/a -p wa -k k #comment", false),
        ("-w /tmp/a -p wa -k", false),
        ("-w /tmp/a -p wa -k k -- extra", false),
        ("-w /tmp/a -p wa -k k --", true),
        ("-w /tmp/a -p \"wa\" -k k", false),
        ("-w /tmp/a -p x -k k", true),
        ("- w /tmp/a", false),
        (
            "-a always,exit -F path=/tmp/a -F perm=wa -w /tmp/b -k k",
            false,
        ),
        ("-w /tmp/a -k k -p", false),
        ("-a always,exit -F path=/tmp/a -p wa -k k", true),
        ("-w /tmp/a -p wa -k k -a always,exit", false),
        ("--wat /tmp/a", false),
        ("-w /tmp/a/ -p wa -k k", true),
        ("-a always,exit -F path=/tmp/a -F perm=wa -k k -S", false),
        ("-w /tmp/a -p wa -k k \\", false),
        ("-w /tmp/a \\", false),
        ("  \\", false),
        ("   \t", false),
        ("\t# comment", false),
        ("-w\t/tmp/a -p wa -k k", false),
        ("-w /tmp/a -p wa -k k\t", true),
        ("  # comment", true),
    ];

    #[test]
    fn line_syntax_agrees_with_auditctl() {
        for (line, loads) in MEASURED {
            assert_eq!(
                line_error(line).is_none(),
                *loads,
                "{line:?}: {:?}",
                line_error(line)
            );
        }
    }

    #[test]
    fn append_goes_before_the_line_that_stops_the_load() {
        let existing = "-D\n-w /a -p wa\n-w /b \\\n  -p wa\n-e 2\n";
        let out = plan_append(existing, &[w("/c", "wa", None)]);
        assert_eq!(
            out,
            format!("-D\n-w /a -p wa\n{APPEND_MARKER}\n-w /c -p wa\n-w /b \\\n  -p wa\n-e 2\n")
        );
        assert!(effective_watches(&out).iter().any(|(_, x)| x.covers("/c")));
    }

    #[test]
    fn keyed_delete_removes_only_that_key() {
        let text = "-w /a -p wa -k one\n-w /b -p wa -k two\n-D -k one\n";
        assert_eq!(
            effective_watches(text),
            vec![(2, w("/b", "wa", Some("two")))]
        );
    }

    #[test]
    fn augenrules_joins_files_and_moves_controls() {
        let files = [
            "-D\n-w /a -p wa\n",
            "-w /b \\\n  -p wa\n-e 2\n",
            "-w /c -p wa\n",
        ];
        let load = augenrules_load(&files);
        assert_eq!(load.watches, vec![((0, 2), w("/a", "wa", None))]);
        assert_eq!(load.stop.as_ref().map(|(at, _)| *at), Some((1, 1)));
        // -e moves to the end, so a lock in an early file does not stop later files.
        let load = augenrules_load(&["-e 2\n-w /a -p wa\n", "-w /c -p wa\n"]);
        assert_eq!(load.watches.len(), 2);
        assert_eq!(load.stop, None);
        // A broken -b moves to the front and stops everything.
        let load = augenrules_load(&["-w /a -p wa\n", "-b lots\n"]);
        assert!(load.watches.is_empty());
        assert_eq!(load.stop.map(|(at, _)| at), Some((1, 1)));
    }

    #[test]
    fn rules_d_order_is_ls_v() {
        use std::cmp::Ordering::*;
        assert_eq!(augenrules_order("9-a.rules", "10-b.rules"), Less);
        assert_eq!(
            augenrules_order("50-docker-harden.rules", "99-finalize.rules"),
            Less
        );
        assert_eq!(
            augenrules_order("50-docker-harden.rules", "audit.rules"),
            Less
        );
        assert_eq!(augenrules_order("10-site.rules", "10-site.rules"), Equal);
        assert_eq!(augenrules_order("010-a.rules", "10-a.rules"), Less);
        let mut names = vec![
            "audit.rules",
            "99-finalize.rules",
            "10-base.rules",
            "9-x.rules",
        ];
        names.sort_by(|a, b| augenrules_order(a, b));
        assert_eq!(
            names,
            [
                "9-x.rules",
                "10-base.rules",
                "99-finalize.rules",
                "audit.rules"
            ]
        );
    }

    // ---- property tests ----

    const PATHS: &[&str] = &[
        "/usr/bin/dockerd",
        "/etc/docker",
        "/etc/docker/",
        "/var/lib/docker",
        "/run/containerd",
        "/usr/bin/runc",
        "/etc/default/docker",
    ];
    const PERMS: &[&str] = &["", "r", "w", "a", "wa", "aw", "rwa", "rwxa", "x"];
    const WANTED_PERMS: &[&str] = &["wa", "aw", "rwa", "rwxa", ""];
    const KEYS: &[&str] = &["docker", "other", "k1"];

    fn key_strategy() -> impl Strategy<Value = Option<&'static str>> {
        proptest::option::of(proptest::sample::select(KEYS))
    }

    fn line_strategy() -> impl Strategy<Value = String> {
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

    fn text_strategy() -> impl Strategy<Value = String> {
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

    fn wanted_strategy() -> impl Strategy<Value = Vec<Watch>> {
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

    fn count_on(ws: &[(usize, Watch)], path: &str) -> usize {
        ws.iter()
            .filter(|(_, w)| normalize_path(&w.path) == normalize_path(path))
            .count()
    }

    /// `needle` lines appear in `haystack` lines as a subsequence.
    fn is_subsequence(needle: &str, haystack: &str) -> bool {
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

    // ---- property tests against auditctl's line syntax ----

    /// A watch rule written in one of the forms auditctl accepts, with the watch it makes.
    fn written_watch() -> impl Strategy<Value = (String, Watch)> {
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
    const SPOILERS: &[&str] = &[
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
    fn rule_line() -> impl Strategy<Value = (String, Option<Watch>)> {
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
}
