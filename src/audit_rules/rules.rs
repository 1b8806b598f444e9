//! What a rules line does: a file watch, the `-e 2` lock, or something else.

use super::options::{Opt, Parsed};
use super::validate::parse_line;
use super::watch::Watch;

pub(super) fn has_opt(opts: &[Opt<'_>], name: &str) -> bool {
    opts.iter().any(|(n, _)| *n == name)
}

pub(super) fn is_immutable(opts: &[Opt<'_>]) -> bool {
    opts.contains(&("-e", Some("2")))
}

/// The file watch a rule makes, whichever syntax it is written in; None for
/// any other rule.
pub(super) fn watch_of(opts: &[Opt<'_>]) -> Option<Watch> {
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
pub(super) fn parse_watch_line(line: &str) -> Option<Watch> {
    match parse_line(line) {
        Parsed::Rule(opts) => watch_of(&opts),
        _ => None,
    }
}

pub(super) fn is_immutable_line(line: &str) -> bool {
    matches!(parse_line(line), Parsed::Rule(opts) if is_immutable(&opts))
}

/// Every file-watch rule in a rules file text, in order, with its 1-based
/// line number.
pub(crate) fn watches(text: &str) -> Vec<(usize, Watch)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| parse_watch_line(line).map(|w| (i + 1, w)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit_rules::fixtures::*;
    use crate::audit_rules::load::{effective_watches, load_text};
    use crate::audit_rules::validate::line_error;

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
    fn sets_immutable_only_for_active_e2() {
        assert!(sets_immutable("-D\n-e 2\n"));
        assert!(sets_immutable("  -e   2  "));
        assert!(!sets_immutable("# -e 2\n"));
        assert!(!sets_immutable("-e 1\n"));
        assert!(!sets_immutable("-e 20\n"));
        assert!(!sets_immutable(""));
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
}
