//! Include statements and the glob patterns they name.

use super::lexer::{Stmt, lines_of, statements};
use super::statement::{as_legacy, as_object, param};

pub(super) fn include_of(st: &Stmt) -> Option<String> {
    if let Some((name, params)) = as_object(st) {
        if name != "include" {
            return None;
        }
        return param(&params, "file")?.first().map(|v| v.text.clone());
    }
    let (dir, args) = as_legacy(st)?;
    (dir == "$includeconfig")
        .then(|| args.first().map(|v| v.text.clone()))
        .flatten()
}

/// (0-based line, pattern) of each active include in `text`.
pub(super) fn includes_with_lines(text: &str) -> Vec<(usize, String)> {
    statements(&lines_of(text))
        .iter()
        .filter_map(|st| include_of(st).map(|p| (st.first, p)))
        .collect()
}

/// Include patterns named by active include statements in the main file, in order.
pub(crate) fn include_patterns(main_text: &str) -> Vec<String> {
    includes_with_lines(main_text)
        .into_iter()
        .map(|(_, p)| p)
        .collect()
}

/// Shell-style match where `*` and `?` stay within one path component; a
/// pattern ending in `/` names every file of that directory, as
/// `$IncludeConfig /etc/rsyslog.d/` does.
pub(crate) fn glob_match(pattern: &str, path: &str) -> bool {
    let owned;
    let pattern = if pattern.ends_with('/') {
        owned = format!("{pattern}*");
        owned.as_str()
    } else {
        pattern
    };
    let pc: Vec<&str> = pattern.split('/').collect();
    let sc: Vec<&str> = path.split('/').collect();
    pc.len() == sc.len()
        && pc
            .iter()
            .zip(&sc)
            .all(|(p, s)| component_match(p.as_bytes(), s.as_bytes()))
}

pub(super) fn component_match(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rsyslog::fixtures::*;

    #[test]
    fn include_patterns_only_active() {
        let text = "#$IncludeConfig /nope/*.conf\n$IncludeConfig /a/*.conf\ninclude(\n file=\"/b/*.conf\" mode=\"optional\")\ninclude(text=\"x\")\n";
        assert_eq!(include_patterns(text), vec!["/a/*.conf", "/b/*.conf"]);
    }

    #[test]
    fn glob() {
        assert!(glob_match("/etc/rsyslog.d/*.conf", DROPIN));
        assert!(glob_match("/etc/rsyslog.d/*", DROPIN));
        assert!(glob_match("/etc/rsyslog.d/", DROPIN));
        assert!(!glob_match("/etc/*.conf", DROPIN));
        assert!(!glob_match("/etc/rsyslog.d/*.frule", DROPIN));
        assert!(glob_match("/etc/rsyslog.d/6?-*.conf", DROPIN));
    }
}
