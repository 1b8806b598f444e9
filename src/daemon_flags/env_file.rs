//! Environment files (`/etc/default/docker`, `/etc/sysconfig/docker`) and the flags their
//! DOCKER_OPTS / OPTIONS pass to dockerd.

use super::args::{ParsedArgs, parse_dockerd_args};

/// Split a DOCKER_OPTS / OPTIONS value into words the way the shell that
/// used to source these files would. A value with an unterminated quote would
/// make the shell fail; rather than lose every flag we fall back to plain
/// whitespace splitting.
pub(crate) fn split_words(value: &str) -> Vec<String> {
    shell_words::split(value)
        .unwrap_or_else(|_| value.split_whitespace().map(str::to_string).collect())
}

pub(super) fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// KEY=VALUE lines of an environment file such as /etc/default/docker or
/// /etc/sysconfig/docker. These files are read both by shells (SysV init
/// scripts) and by systemd's EnvironmentFile=, so the rules are their common
/// ground: `#`/`;` comment lines, optional `export `, single quotes literal,
/// double quotes with backslash escapes, quoted values may span lines, a
/// backslash-newline continues a line, and `#` after whitespace outside
/// quotes starts a trailing comment. Unquoted inner whitespace is kept (as
/// systemd does) and `$VAR` is not expanded. Later keys override earlier
/// ones; the result has each key once, ordered by its last assignment.
pub(crate) fn parse_env_file(text: &str) -> Vec<(String, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut pos = 0;
    let mut out: Vec<(String, String)> = Vec::new();
    while pos < chars.len() {
        if let Some((key, value)) = parse_env_line(&chars, &mut pos) {
            out.retain(|(k, _)| *k != key);
            out.push((key, value));
        }
    }
    out
}

pub(super) fn skip_blanks(chars: &[char], pos: &mut usize) {
    while chars.get(*pos).is_some_and(|&c| c == ' ' || c == '\t') {
        *pos += 1;
    }
}

pub(super) fn skip_line(chars: &[char], pos: &mut usize) {
    while let Some(&c) = chars.get(*pos) {
        *pos += 1;
        if c == '\n' {
            break;
        }
    }
}

/// Parses one logical line starting at `pos` and leaves `pos` after it.
pub(super) fn parse_env_line(chars: &[char], pos: &mut usize) -> Option<(String, String)> {
    skip_blanks(chars, pos);
    match chars.get(*pos) {
        None => return None,
        Some('#' | ';' | '\n' | '\r') => {
            skip_line(chars, pos);
            return None;
        }
        Some(_) => {}
    }
    let export: Vec<char> = "export".chars().collect();
    if chars[*pos..].starts_with(&export)
        && chars
            .get(*pos + export.len())
            .is_some_and(|&c| c == ' ' || c == '\t')
    {
        *pos += export.len();
        skip_blanks(chars, pos);
    }
    let mut key = String::new();
    while let Some(&c) = chars.get(*pos) {
        if c == '=' || c.is_whitespace() {
            break;
        }
        key.push(c);
        *pos += 1;
    }
    skip_blanks(chars, pos);
    if chars.get(*pos) != Some(&'=') || !is_env_name(&key) {
        skip_line(chars, pos);
        return None;
    }
    *pos += 1;
    skip_blanks(chars, pos);
    Some((key, parse_env_value(chars, pos)))
}

pub(super) fn parse_env_value(chars: &[char], pos: &mut usize) -> String {
    let mut value = String::new();
    // Unquoted whitespace is held back so that trailing blanks and the blanks
    // before a trailing comment are dropped.
    let mut pending = String::new();
    while let Some(&c) = chars.get(*pos) {
        *pos += 1;
        match c {
            '\n' => return value,
            '\r' if chars.get(*pos) == Some(&'\n') => {}
            ' ' | '\t' | '\r' => {
                pending.push(c);
                if chars.get(*pos) == Some(&'#') {
                    skip_line(chars, pos);
                    return value;
                }
            }
            _ => {
                value.push_str(&pending);
                pending.clear();
                match c {
                    '\\' => match chars.get(*pos) {
                        Some('\n') => *pos += 1,
                        Some(&n) => {
                            value.push(n);
                            *pos += 1;
                        }
                        None => {}
                    },
                    '\'' => {
                        while let Some(&q) = chars.get(*pos) {
                            *pos += 1;
                            if q == '\'' {
                                break;
                            }
                            value.push(q);
                        }
                    }
                    '"' => {
                        while let Some(&q) = chars.get(*pos) {
                            *pos += 1;
                            match q {
                                '"' => break,
                                '\\' => match chars.get(*pos) {
                                    Some('\n') => *pos += 1,
                                    Some(&n @ ('"' | '\\' | '$' | '`')) => {
                                        value.push(n);
                                        *pos += 1;
                                    }
                                    _ => value.push('\\'),
                                },
                                _ => value.push(q),
                            }
                        }
                    }
                    _ => value.push(c),
                }
            }
        }
    }
    value
}

/// Flags in DOCKER_OPTS (Debian) and OPTIONS (RHEL) of an environment file's
/// text, for hosts where an init script rather than systemd passes them.
pub(crate) fn env_file_flags(text: &str) -> ParsedArgs {
    let words: Vec<String> = parse_env_file(text)
        .into_iter()
        .filter(|(k, _)| k == "DOCKER_OPTS" || k == "OPTIONS")
        .flat_map(|(_, val)| split_words(&val))
        .collect();
    parse_dockerd_args(&words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon_flags::fixtures::*;
    use std::collections::HashMap;

    #[test]
    fn words() {
        assert_eq!(
            split_words(r#"--dns 8.8.8.8 --label "a b" --log-opt='x=1 2'"#),
            s(&["--dns", "8.8.8.8", "--label", "a b", "--log-opt=x=1 2"])
        );
        assert_eq!(
            split_words(r#"--icc=false "oops"#),
            s(&["--icc=false", "\"oops"])
        );
        assert!(split_words("   ").is_empty());
    }

    #[test]
    fn env_file_debian() {
        let text = "\
# Docker Upstart and SysVinit configuration file

#
# THIS FILE DOES NOT APPLY TO SYSTEMD
#
# Use DOCKER_OPTS to modify the daemon startup options.
#DOCKER_OPTS=\"--dns 8.8.8.8 --dns 8.8.4.4\"
DOCKER_OPTS=\"--dns 8.8.8.8 --icc=false\"

# If you need Docker to use an HTTP proxy, it can also be specified here.
#export http_proxy=\"http://127.0.0.1:3128/\"
export TMPDIR=\"/mnt/bigdrive/docker-tmp\"
";
        let env = parse_env_file(text);
        assert_eq!(
            env,
            vec![
                ("DOCKER_OPTS".into(), "--dns 8.8.8.8 --icc=false".into()),
                ("TMPDIR".into(), "/mnt/bigdrive/docker-tmp".into()),
            ]
        );
        let p = env_file_flags(text);
        assert_eq!(pairs(&p), vec![("dns", "8.8.8.8"), ("icc", "false")]);
    }

    #[test]
    fn env_file_quoting() {
        let text = "\
OPTIONS='--selinux-enabled --log-driver=journald'
A=plain value   # trailing comment
B=\"quoted # not a comment\" # comment
C='single \"keeps\" $HOME'
D=\"esc \\\"q\\\" \\$X \\n\"
E=a#b
  ; semicolon comment
F=\"multi
line\"
G=cont\\
inued
bad line without equals
1BAD=x
H = spaced
A=override
I=
J=mix'ed 'and\"\" \"x\"
";
        let env: HashMap<_, _> = parse_env_file(text).into_iter().collect();
        let get = |k: &str| env.get(k).map(String::as_str);
        assert_eq!(
            get("OPTIONS"),
            Some("--selinux-enabled --log-driver=journald")
        );
        assert_eq!(get("A"), Some("override"));
        assert_eq!(get("B"), Some("quoted # not a comment"));
        assert_eq!(get("C"), Some("single \"keeps\" $HOME"));
        assert_eq!(get("D"), Some("esc \"q\" $X \\n"));
        assert_eq!(get("E"), Some("a#b"));
        assert_eq!(get("F"), Some("multi\nline"));
        assert_eq!(get("G"), Some("continued"));
        assert_eq!(get("H"), Some("spaced"));
        assert_eq!(get("I"), Some(""));
        assert_eq!(get("J"), Some("mixed and x"));
        assert_eq!(get("1BAD"), None);
        assert_eq!(env.len(), 11);
        let order: Vec<String> = parse_env_file(text).into_iter().map(|(k, _)| k).collect();
        assert_eq!(order.last().map(String::as_str), Some("J"));
        assert_eq!(order.iter().position(|k| k == "A"), Some(8));
    }

    #[test]
    fn env_file_crlf_and_unterminated() {
        let env = parse_env_file("A=1\r\nB=\"open\r\n");
        assert_eq!(
            env,
            vec![("A".into(), "1".into()), ("B".into(), "open\r\n".into())]
        );
    }
}
