//! The checks auditctl makes on a line's options, and the lines it refuses.

use super::options::{Opt, Parsed, getopt};
use super::refusal::Refusal;

/// Longest path auditctl takes for a watch (PATH_MAX, with its terminating NUL).
pub(super) const PATH_MAX: usize = 4096;

/// Longest key auditctl takes (AUDIT_MAX_KEY_LEN).
pub(super) const MAX_KEY_LEN: usize = 256;

/// The checks auditctl makes while it reads a rule's options, in order; the
/// first failure makes it refuse the line. Only what auditctl itself rejects
/// (measured with auditctl 3.0.9) is checked here: values the kernel judges,
/// such as a `-F` field's, are not.
pub(super) fn validate(opts: &[Opt<'_>]) -> Result<(), Refusal> {
    // `-D` deletes every rule, or with `-k KEY` those with that key; it takes nothing else.
    if opts.first().is_some_and(|(n, _)| *n == "-D") {
        return match opts {
            [_] | [_, ("-k", Some(_))] => Ok(()),
            _ => Err(Refusal::DeleteTakesOnlyKey),
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
                    return Err(Refusal::OneRulePerLine {
                        option: name,
                        value: value.to_string(),
                    });
                }
                let parts: Vec<&str> = value.split(',').collect();
                let actions = parts
                    .iter()
                    .filter(|p| matches!(**p, "always" | "never" | "possible"))
                    .count();
                if parts.len() != 2 || actions != 1 || parts.iter().any(|p| p.is_empty()) {
                    return Err(Refusal::NotListAction {
                        option: name,
                        value: value.to_string(),
                    });
                }
                list = true;
            }
            "-w" | "-W" => {
                if list {
                    return Err(Refusal::OneRulePerLine {
                        option: name,
                        value: value.to_string(),
                    });
                }
                if !value.starts_with('/') {
                    return Err(Refusal::RelativePath {
                        option: name,
                        value: value.to_string(),
                    });
                }
                if value.len() >= PATH_MAX {
                    return Err(Refusal::PathTooLong(name));
                }
                list = true;
            }
            "-p" => {
                if !list {
                    return Err(Refusal::BeforeRule("-p"));
                }
                if value.chars().count() > 4
                    || !value
                        .chars()
                        .all(|c| "rwxa".contains(c.to_ascii_lowercase()))
                {
                    return Err(Refusal::BadPermissions(value.to_string()));
                }
            }
            "-k" | "-F" if !list => {
                return Err(Refusal::BeforeRule(name));
            }
            "-k" => {
                key_len += value.len() + usize::from(key_len > 0);
                if key_len > MAX_KEY_LEN {
                    return Err(Refusal::KeysTooLong);
                }
            }
            "-F" => {
                if !value.contains(['=', '<', '>', '&']) {
                    return Err(Refusal::NotFieldValue(value.to_string()));
                }
                if let Some(key) = value.strip_prefix("key=") {
                    key_len += key.len() + usize::from(key_len > 0);
                    if key_len > MAX_KEY_LEN {
                        return Err(Refusal::KeysTooLong);
                    }
                }
            }
            "-e" | "-f" if !matches!(value, "0" | "1" | "2") => {
                return Err(Refusal::NotZeroOneTwo {
                    option: name,
                    value: value.to_string(),
                });
            }
            "-b" | "-r" | "--backlog_wait_time"
                if !value.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                return Err(Refusal::NotANumber {
                    option: name,
                    value: value.to_string(),
                });
            }
            "-h" => return Err(Refusal::PrintsUsage),
            "-R" => return Err(Refusal::IncludesFile),
            _ => {}
        }
    }
    Ok(())
}

/// How auditctl reads one line of a rules file.
pub(super) fn parse_line(line: &str) -> Parsed<'_> {
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
pub(crate) fn line_error(line: &str) -> Option<Refusal> {
    match parse_line(line) {
        Parsed::Broken(reason) => Some(reason),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
