//! dockerd's command line read the way it reads it (spf13/pflag), from an argument list or
//! from `/proc/PID/cmdline`.

use super::flag_table::{Kind, is_bool_flag, is_known_flag, short_spec, spec};

/// One flag as dockerd would see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// Canonical long name without dashes, e.g. `log-level` for `-l`.
    pub name: String,
    /// `"true"` for a bare boolean flag; otherwise exactly as written
    /// (booleans are not normalised: see [`parse_bool`]).
    pub value: String,
    /// As written, e.g. `--icc=false` or `-l info`.
    pub raw: String,
}

/// Result of [`parse_dockerd_args`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedArgs {
    /// Flags in command-line order; repeated flags are all kept.
    pub flags: Vec<Flag>,
    /// Arguments dockerd would reject or treat as positional: stray words
    /// (such as the `false` in `--icc false`), malformed flags, a value flag
    /// missing its value, unknown shorthands, and everything after `--`.
    pub unparsed: Vec<String>,
    /// Words written right after a boolean flag without `=` (the `false` of `--icc false`),
    /// as (index in `flags`, word). A boolean flag takes no next word, so dockerd gets the
    /// word as an argument and refuses to start ("accepts no argument(s)"); the operator
    /// meant it as the flag's value. Each is also in `unparsed`.
    pub bool_values: Vec<(usize, String)>,
}

impl ParsedArgs {
    /// Values of every occurrence of `name`, in order.
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.flags
            .iter()
            .filter(|f| f.name == name)
            .map(|f| f.value.as_str())
            .collect()
    }

    /// Value of the last occurrence of `name`: for single-valued settings
    /// dockerd keeps the last one.
    pub fn last(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|f| f.name == name)
            .map(|f| f.value.as_str())
    }
}

/// Boolean value as Go's `strconv.ParseBool` reads it, which is what dockerd
/// uses for `--icc=...`; `None` means dockerd would refuse the value.
pub(crate) fn parse_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Parse dockerd arguments (without the program name), following the
/// spf13/pflag rules dockerd uses:
///
/// * a known value flag written without `=` takes the next argument
///   unconditionally, even if it starts with a dash (pflag does that);
/// * a boolean never takes the next argument, so `--icc false` yields
///   `icc=true` and a stray `false` in `unparsed` (dockerd then refuses to
///   start, which the auditor should report);
/// * an unknown `--foo` followed by a word not starting with `-` is taken as
///   a value flag: most dockerd flags take values, so an unknown flag is most
///   likely a value flag newer than this table. Followed by a dash-word or
///   nothing, it is recorded as `"true"`;
/// * a single-dash word whose name part (before `=`) is longer than one
///   letter and is a known long name, such as `-icc=false` or `-bip=...`, is
///   read as that long flag: old Docker accepted this form and old
///   `/etc/default/docker` files still contain it. Otherwise it is a group
///   of shorthands (`-D`, `-Dl info`, `-linfo`, `-l=info`);
/// * positional words do not stop parsing (pflag intersperses); `--` does.
pub fn parse_dockerd_args(args: &[String]) -> ParsedArgs {
    let mut out = ParsedArgs::default();
    let mut i = 0;
    // The flag the previous argument ended with, when it was a boolean without `=`.
    let mut bare_bool: Option<usize> = None;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        let after_bool = bare_bool.take();
        let flags_before = out.flags.len();
        if arg == "--" {
            out.unparsed.extend(args[i..].iter().cloned());
            break;
        }
        if let Some(body) = arg.strip_prefix("--") {
            if body.starts_with('-') || body.starts_with('=') {
                out.unparsed.push(arg.clone());
            } else {
                parse_long(body, arg, args, &mut i, &mut out);
            }
        } else if let Some(body) = arg.strip_prefix('-').filter(|b| !b.is_empty()) {
            let name_part = body.split('=').next().unwrap_or_default();
            if name_part.chars().count() > 1 && is_known_flag(name_part) {
                parse_long(body, arg, args, &mut i, &mut out);
            } else {
                parse_shorts(body, arg, args, &mut i, &mut out);
            }
        } else {
            if let Some(at) = after_bool {
                out.bool_values.push((at, arg.clone()));
            }
            out.unparsed.push(arg.clone());
        }
        if out.flags.len() > flags_before
            && let Some(last) = out.flags.last()
            && is_bool_flag(&last.name)
            && last.raw == *arg
            && !arg.contains('=')
        {
            bare_bool = Some(out.flags.len() - 1);
        }
    }
    out
}

pub(super) fn push(out: &mut ParsedArgs, name: &str, value: &str, raw: String) {
    out.flags.push(Flag {
        name: name.to_string(),
        value: value.to_string(),
        raw,
    });
}

/// `body` is the argument without its leading dashes.
pub(super) fn parse_long(
    body: &str,
    arg: &str,
    args: &[String],
    i: &mut usize,
    out: &mut ParsedArgs,
) {
    if let Some((name, value)) = body.split_once('=') {
        push(out, name, value, arg.to_string());
        return;
    }
    let next = args.get(*i);
    match spec(body).map(|s| s.kind) {
        Some(Kind::Bool) => push(out, body, "true", arg.to_string()),
        Some(Kind::Value) => match next {
            Some(value) => {
                *i += 1;
                push(out, body, value, format!("{arg} {value}"));
            }
            None => out.unparsed.push(arg.to_string()),
        },
        None => match next {
            Some(value) if !value.starts_with('-') => {
                *i += 1;
                push(out, body, value, format!("{arg} {value}"));
            }
            _ => push(out, body, "true", arg.to_string()),
        },
    }
}

/// `body` is a shorthand group without its leading dash.
pub(super) fn parse_shorts(
    body: &str,
    arg: &str,
    args: &[String],
    i: &mut usize,
    out: &mut ParsedArgs,
) {
    let mut rest = body;
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        let Some(s) = short_spec(c) else {
            // pflag aborts on an unknown shorthand; keep what is left so the
            // caller can show it.
            out.unparsed.push(format!("-{rest}"));
            return;
        };
        if let Some(value) = after.strip_prefix('=') {
            push(out, s.name, value, arg.to_string());
            return;
        }
        match s.kind {
            Kind::Bool => {
                push(out, s.name, "true", arg.to_string());
                rest = after;
            }
            Kind::Value if !after.is_empty() => {
                push(out, s.name, after, arg.to_string());
                return;
            }
            Kind::Value => {
                match args.get(*i) {
                    Some(value) => {
                        *i += 1;
                        push(out, s.name, value, format!("{arg} {value}"));
                    }
                    None => out.unparsed.push(arg.to_string()),
                }
                return;
            }
        }
    }
}

/// From /proc/PID/cmdline bytes (NUL-separated) to argv, dropping the
/// program name. Invalid UTF-8 is replaced rather than rejected so that one
/// odd byte does not hide every other flag.
pub(crate) fn cmdline_args(raw: &[u8]) -> Vec<String> {
    // The kernel terminates every argument with NUL, so the final empty piece
    // is an artefact; an empty argument in the middle is real.
    let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
    if raw.is_empty() {
        return Vec::new();
    }
    raw.split(|&b| b == 0)
        .skip(1)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon_flags::fixtures::*;
    use crate::daemon_flags::flag_table::json_key;

    #[test]
    fn log_level_forms() {
        for form in [
            &["--log-level=info"][..],
            &["--log-level", "info"],
            &["-l", "info"],
            &["-linfo"],
            &["-l=info"],
            &["-log-level=info"],
        ] {
            let p = parse(form);
            assert_eq!(pairs(&p), vec![("log-level", "info")], "{form:?}");
            assert!(p.unparsed.is_empty(), "{form:?}");
            assert_eq!(p.flags[0].raw, form.join(" "));
        }
    }

    #[test]
    fn bare_boolean_is_true() {
        let p = parse(&["--live-restore"]);
        assert_eq!(pairs(&p), vec![("live-restore", "true")]);
        assert_eq!(p.flags[0].raw, "--live-restore");
    }

    #[test]
    fn boolean_with_equals() {
        let p = parse(&["--icc=false"]);
        assert_eq!(pairs(&p), vec![("icc", "false")]);
        assert_eq!(parse_bool(&p.flags[0].value), Some(false));
    }

    #[test]
    fn boolean_does_not_take_next_word() {
        let p = parse(&["--icc", "false", "--iptables"]);
        assert_eq!(pairs(&p), vec![("icc", "true"), ("iptables", "true")]);
        assert_eq!(p.unparsed, s(&["false"]));
        assert_eq!(p.bool_values, vec![(0, "false".to_string())]);
        let p = parse(&["-D", "no", "--icc=false", "x", "--dns", "1.1.1.1", "y"]);
        assert_eq!(p.bool_values, vec![(0, "no".to_string())]);
        assert_eq!(p.unparsed, s(&["no", "x", "y"]));
    }

    #[test]
    fn value_flag_takes_dash_word() {
        let p = parse(&["--log-level", "--debug"]);
        assert_eq!(pairs(&p), vec![("log-level", "--debug")]);
    }

    #[test]
    fn repeated_host_kept_in_order() {
        let p = parse(&[
            "-H",
            "fd://",
            "-Hunix:///var/run/docker.sock",
            "-H=tcp://0.0.0.0:2376",
            "--host",
            "tcp://1.2.3.4:2375",
        ]);
        assert_eq!(
            p.values("host"),
            vec![
                "fd://",
                "unix:///var/run/docker.sock",
                "tcp://0.0.0.0:2376",
                "tcp://1.2.3.4:2375"
            ]
        );
        assert_eq!(p.last("host"), Some("tcp://1.2.3.4:2375"));
    }

    #[test]
    fn shorthands() {
        let p = parse(&[
            "-D", "-g", "/old", "-s", "overlay2", "-b", "br0", "-G", "dock", "-p", "/p.pid", "-e",
            "native",
        ]);
        assert_eq!(
            pairs(&p),
            vec![
                ("debug", "true"),
                ("graph", "/old"),
                ("storage-driver", "overlay2"),
                ("bridge", "br0"),
                ("group", "dock"),
                ("pidfile", "/p.pid"),
                ("exec-driver", "native"),
            ]
        );
        assert_eq!(json_key("graph"), Some("data-root"));
    }

    #[test]
    fn shorthand_group() {
        let p = parse(&["-Dl", "debug"]);
        assert_eq!(pairs(&p), vec![("debug", "true"), ("log-level", "debug")]);
        let p = parse(&["-D=false"]);
        assert_eq!(pairs(&p), vec![("debug", "false")]);
    }

    #[test]
    fn unknown_flags() {
        let p = parse(&["--foo=bar", "--baz", "qux", "--zap", "--icc"]);
        assert_eq!(
            pairs(&p),
            vec![
                ("foo", "bar"),
                ("baz", "qux"),
                ("zap", "true"),
                ("icc", "true")
            ]
        );
        let p = parse(&["-x", "-Dx"]);
        assert_eq!(pairs(&p), vec![("debug", "true")]);
        assert_eq!(p.unparsed, s(&["-x", "-x"]));
    }

    #[test]
    fn malformed_and_terminator() {
        let p = parse(&["---x", "--=1", "-", "", "--debug", "--", "--icc=false"]);
        assert_eq!(pairs(&p), vec![("debug", "true")]);
        assert_eq!(p.unparsed, s(&["---x", "--=1", "-", "", "--icc=false"]));
    }

    #[test]
    fn missing_value_at_end() {
        let p = parse(&["--log-level"]);
        assert!(p.flags.is_empty());
        assert_eq!(p.unparsed, s(&["--log-level"]));
        let p = parse(&["-H"]);
        assert_eq!(p.unparsed, s(&["-H"]));
    }

    #[test]
    fn parse_bool_go_rules() {
        assert_eq!(parse_bool("T"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("no"), None);
    }

    #[test]
    fn cmdline() {
        assert_eq!(
            cmdline_args(b"/usr/bin/dockerd\0-H\0fd://\0--containerd=/run/c.sock\0"),
            s(&["-H", "fd://", "--containerd=/run/c.sock"])
        );
        assert_eq!(cmdline_args(b"dockerd\0\0x\0"), s(&["", "x"]));
        assert!(cmdline_args(b"").is_empty());
        assert!(cmdline_args(b"\0").is_empty());
        assert!(cmdline_args(b"/usr/bin/dockerd").is_empty());
        assert_eq!(cmdline_args(b"d\0\xff"), s(&["\u{fffd}"]));
    }
}
