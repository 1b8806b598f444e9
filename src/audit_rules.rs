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

/// The meaningful part of a line, or None for blank lines and comments.
fn active(line: &str) -> Option<&str> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        None
    } else {
        Some(trimmed)
    }
}

fn is_immutable_line(line: &str) -> bool {
    active(line).is_some_and(|l| {
        let mut t = l.split_whitespace();
        t.next() == Some("-e") && t.next() == Some("2") && t.next().is_none()
    })
}

fn is_delete_all_line(line: &str) -> bool {
    active(line).is_some_and(|l| l.split_whitespace().next() == Some("-D"))
}

/// Parses one rule line into a watch when it is one; any other rule yields
/// None so callers can scan whole files without caring about the rest.
fn parse_watch_line(line: &str) -> Option<Watch> {
    let line = active(line)?;
    let tokens: Vec<&str> = line.split_whitespace().collect();

    let mut watch_path: Option<&str> = None;
    let mut field_path: Option<&str> = None;
    let mut perm_opt: Option<&str> = None;
    let mut perm_field: Option<&str> = None;
    let mut key: Option<&str> = None;
    let mut action: Option<&str> = None;
    let mut syscalls: Vec<&str> = Vec::new();

    let mut i = 0;
    while i < tokens.len() {
        let value = tokens.get(i + 1).copied();
        match tokens[i] {
            "-w" => watch_path = value,
            "-p" => perm_opt = value,
            // Several keys are legal; the first is enough to label the rule.
            "-k" => key = key.or(value),
            "-a" | "-A" => action = value,
            "-S" => syscalls.extend(value),
            "-F" => {
                if let Some(field) = value {
                    if let Some(v) = field.strip_prefix("path=") {
                        field_path = Some(v);
                    } else if let Some(v) = field.strip_prefix("dir=") {
                        field_path = Some(v);
                    } else if let Some(v) = field.strip_prefix("perm=") {
                        perm_field = Some(v);
                    } else if let Some(v) = field.strip_prefix("key=") {
                        key = key.or(Some(v));
                    }
                }
            }
            _ => {
                i += 1;
                continue;
            }
        }
        // Every option handled above takes a value; skip over it.
        i += 2;
    }

    let key = key.filter(|k| !k.is_empty());
    if let Some(path) = watch_path {
        return Some(Watch::new(path, perm_opt.unwrap_or(""), key));
    }

    let is_exit_always = matches!(action, Some("always,exit") | Some("exit,always"));
    let path = field_path?;
    if !is_exit_always || path.is_empty() {
        return None;
    }
    let perms = match perm_field {
        Some(p) => p,
        // Without a perm filter the rule only watches the listed syscalls;
        // that is a file watch only when it applies to all of them.
        None if syscalls.iter().all(|s| *s == "all") => "",
        None => return None,
    };
    Some(Watch::new(path, perms, key))
}

/// Every file-watch rule in a rules file text, in order, with its 1-based
/// line number.
pub fn watches(text: &str) -> Vec<(usize, Watch)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| parse_watch_line(line).map(|w| (i + 1, w)))
        .collect()
}

/// The watches of a text loaded with `auditctl -R` that actually end up in
/// the kernel: a `-D` wipes everything before it, and once `-e 2` is
/// reached the kernel rejects every later rule.
pub fn effective_watches(text: &str) -> Vec<(usize, Watch)> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .iter()
        .position(|l| is_immutable_line(l))
        .unwrap_or(lines.len());
    let start = lines
        .iter()
        .take(end)
        .rposition(|l| is_delete_all_line(l))
        .map_or(0, |i| i + 1);
    lines
        .iter()
        .enumerate()
        .take(end)
        .skip(start)
        .filter_map(|(i, line)| parse_watch_line(line).map(|w| (i + 1, w)))
        .collect()
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

    let mut offset = 0;
    for line in existing.split_inclusive('\n') {
        if is_immutable_line(line) {
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
}
