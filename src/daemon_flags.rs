//! Which settings dockerd receives as command-line flags.
//!
//! A setting given both as a flag and in daemon.json makes dockerd refuse to
//! start, and a flag silently wins over nothing else, so the auditor must know
//! the flags before it can judge or rewrite daemon.json. The flags come from
//! three places: the running process (`/proc/PID/cmdline`), the systemd unit
//! (with drop-ins and environment files), and the distribution's environment
//! file (`/etc/default/docker`, `/etc/sysconfig/docker`).
//!
//! Everything here is a pure function on strings so that it can be tested
//! without a Docker host; the caller reads the files.

use std::collections::HashMap;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Value,
}

#[derive(Debug)]
struct Spec {
    name: &'static str,
    short: Option<char>,
    kind: Kind,
    json: Option<&'static str>,
}

const fn b(name: &'static str, json: Option<&'static str>) -> Spec {
    Spec {
        name,
        short: None,
        kind: Kind::Bool,
        json,
    }
}

const fn v(name: &'static str, json: Option<&'static str>) -> Spec {
    Spec {
        name,
        short: None,
        kind: Kind::Value,
        json,
    }
}

const fn sv(name: &'static str, short: char, json: Option<&'static str>) -> Spec {
    Spec {
        name,
        short: Some(short),
        kind: Kind::Value,
        json,
    }
}

const fn sb(name: &'static str, short: char, json: Option<&'static str>) -> Spec {
    Spec {
        name,
        short: Some(short),
        kind: Kind::Bool,
        json,
    }
}

/// dockerd's flags (current and the removed ones that still appear in old
/// configuration files). Whether a flag is boolean decides how the next
/// argument is consumed, so this table must stay complete for booleans;
/// an unknown flag is guessed to take a value (see [`parse_dockerd_args`]).
static SPECS: &[Spec] = &[
    // Booleans.
    sb("debug", 'D', Some("debug")),
    sb("help", 'h', None),
    sb("version", 'v', None),
    b("icc", Some("icc")),
    b("iptables", Some("iptables")),
    b("ip6tables", Some("ip6tables")),
    b("ip-forward", Some("ip-forward")),
    b("ip-forward-no-drop", Some("ip-forward-no-drop")),
    b("ip-masq", Some("ip-masq")),
    b("ipv6", Some("ipv6")),
    b("userland-proxy", Some("userland-proxy")),
    b("live-restore", Some("live-restore")),
    b("no-new-privileges", Some("no-new-privileges")),
    b("selinux-enabled", Some("selinux-enabled")),
    b("experimental", Some("experimental")),
    b("tls", Some("tls")),
    b("tlsverify", Some("tlsverify")),
    b("raw-logs", Some("raw-logs")),
    b("init", Some("init")),
    b("rootless", Some("rootless")),
    b("validate", None),
    b("disable-legacy-registry", Some("disable-legacy-registry")),
    // Value flags with shorthands.
    sv("host", 'H', Some("hosts")),
    sv("log-level", 'l', Some("log-level")),
    sv("graph", 'g', Some("data-root")),
    sv("storage-driver", 's', Some("storage-driver")),
    sv("bridge", 'b', Some("bridge")),
    sv("group", 'G', Some("group")),
    sv("pidfile", 'p', Some("pidfile")),
    sv("exec-driver", 'e', None),
    // Value flags.
    v("add-runtime", Some("runtimes")),
    v(
        "allow-nondistributable-artifacts",
        Some("allow-nondistributable-artifacts"),
    ),
    v("api-cors-header", Some("api-cors-header")),
    v("authorization-plugin", Some("authorization-plugins")),
    v("bip", Some("bip")),
    v("cgroup-parent", Some("cgroup-parent")),
    v("cluster-advertise", Some("cluster-advertise")),
    v("cluster-store", Some("cluster-store")),
    v("cluster-store-opt", Some("cluster-store-opts")),
    v("config-file", None),
    v("containerd", Some("containerd")),
    v("containerd-namespace", Some("containerd-namespace")),
    v(
        "containerd-plugins-namespace",
        Some("containerd-plugin-namespace"),
    ),
    v("cpu-rt-period", Some("cpu-rt-period")),
    v("cpu-rt-runtime", Some("cpu-rt-runtime")),
    v("cri-containerd", Some("cri-containerd")),
    v("data-root", Some("data-root")),
    v("default-address-pool", Some("default-address-pools")),
    v("default-cgroupns-mode", Some("default-cgroupns-mode")),
    v("default-gateway", Some("default-gateway")),
    v("default-gateway-v6", Some("default-gateway-v6")),
    v("default-ipc-mode", Some("default-ipc-mode")),
    v("default-runtime", Some("default-runtime")),
    v("default-shm-size", Some("default-shm-size")),
    v("default-ulimit", Some("default-ulimits")),
    v("dns", Some("dns")),
    v("dns-opt", Some("dns-opts")),
    v("dns-search", Some("dns-search")),
    v("exec-opt", Some("exec-opts")),
    v("exec-root", Some("exec-root")),
    v("feature", Some("features")),
    v("fixed-cidr", Some("fixed-cidr")),
    v("fixed-cidr-v6", Some("fixed-cidr-v6")),
    v("host-gateway-ip", Some("host-gateway-ip")),
    // Proxies live in a nested "proxies" object, not a top-level key.
    v("http-proxy", None),
    v("https-proxy", None),
    v("no-proxy", None),
    v("init-path", Some("init-path")),
    v("insecure-registry", Some("insecure-registries")),
    v("ip", Some("ip")),
    v("label", Some("labels")),
    v("log-driver", Some("log-driver")),
    v("log-format", Some("log-format")),
    v("log-opt", Some("log-opts")),
    v("max-concurrent-downloads", Some("max-concurrent-downloads")),
    v("max-concurrent-uploads", Some("max-concurrent-uploads")),
    v("max-download-attempts", Some("max-download-attempts")),
    v("metrics-addr", Some("metrics-addr")),
    v("mtu", Some("mtu")),
    v(
        "network-control-plane-mtu",
        Some("network-control-plane-mtu"),
    ),
    v("node-generic-resource", Some("node-generic-resources")),
    v("oom-score-adjust", Some("oom-score-adjust")),
    v("registry-mirror", Some("registry-mirrors")),
    v("seccomp-profile", Some("seccomp-profile")),
    v("shutdown-timeout", Some("shutdown-timeout")),
    v("storage-opt", Some("storage-opts")),
    v(
        "swarm-default-advertise-addr",
        Some("swarm-default-advertise-addr"),
    ),
    v("tlscacert", Some("tlscacert")),
    v("tlscert", Some("tlscert")),
    v("tlskey", Some("tlskey")),
    v("userland-proxy-path", Some("userland-proxy-path")),
    v("userns-remap", Some("userns-remap")),
];

fn spec(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name)
}

fn short_spec(c: char) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.short == Some(c))
}

/// Canonical flag name -> daemon.json key. `None` for unknown flags and for
/// flags with no top-level daemon.json equivalent (`config-file`, `help`,
/// proxies, the removed `exec-driver`). The removed `graph` maps to
/// `data-root` because that is the key that now holds the same setting.
pub fn json_key(flag_name: &str) -> Option<&'static str> {
    spec(flag_name).and_then(|s| s.json)
}

/// Whether dockerd declares `name` as a boolean flag.
pub fn is_bool_flag(name: &str) -> bool {
    spec(name).is_some_and(|s| s.kind == Kind::Bool)
}

/// Whether `name` is a flag this module knows about.
pub fn is_known_flag(name: &str) -> bool {
    spec(name).is_some()
}

/// Canonical long name for a shorthand letter (`'l'` -> `"log-level"`).
pub fn long_name_for_short(c: char) -> Option<&'static str> {
    short_spec(c).map(|s| s.name)
}

/// Boolean value as Go's `strconv.ParseBool` reads it, which is what dockerd
/// uses for `--icc=...`; `None` means dockerd would refuse the value.
pub fn parse_bool(value: &str) -> Option<bool> {
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

fn push(out: &mut ParsedArgs, name: &str, value: &str, raw: String) {
    out.flags.push(Flag {
        name: name.to_string(),
        value: value.to_string(),
        raw,
    });
}

/// `body` is the argument without its leading dashes.
fn parse_long(body: &str, arg: &str, args: &[String], i: &mut usize, out: &mut ParsedArgs) {
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
fn parse_shorts(body: &str, arg: &str, args: &[String], i: &mut usize, out: &mut ParsedArgs) {
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
pub fn cmdline_args(raw: &[u8]) -> Vec<String> {
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

/// Split a DOCKER_OPTS / OPTIONS value into words the way the shell that
/// used to source these files would. A value with an unterminated quote would
/// make the shell fail; rather than lose every flag we fall back to plain
/// whitespace splitting.
pub fn split_words(value: &str) -> Vec<String> {
    shell_words::split(value)
        .unwrap_or_else(|_| value.split_whitespace().map(str::to_string).collect())
}

fn is_env_name(name: &str) -> bool {
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
pub fn parse_env_file(text: &str) -> Vec<(String, String)> {
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

fn skip_blanks(chars: &[char], pos: &mut usize) {
    while chars.get(*pos).is_some_and(|&c| c == ' ' || c == '\t') {
        *pos += 1;
    }
}

fn skip_line(chars: &[char], pos: &mut usize) {
    while let Some(&c) = chars.get(*pos) {
        *pos += 1;
        if c == '\n' {
            break;
        }
    }
}

/// Parses one logical line starting at `pos` and leaves `pos` after it.
fn parse_env_line(chars: &[char], pos: &mut usize) -> Option<(String, String)> {
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

fn parse_env_value(chars: &[char], pos: &mut usize) -> String {
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

/// One unit file (main unit or drop-in) as read by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFile {
    pub path: String,
    pub text: String,
}

/// The command systemd would run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecStart {
    /// `argv[0]` is the executable path (even with the `@` prefix, whose
    /// replacement `argv[0]` is dropped, because the auditor cares about the
    /// binary); the rest are the arguments after variable expansion.
    pub argv: Vec<String>,
    /// File that set it.
    pub path: String,
}

impl ExecStart {
    /// Arguments without the executable, ready for [`parse_dockerd_args`].
    pub fn args(&self) -> &[String] {
        self.argv.get(1..).unwrap_or_default()
    }
}

/// A `Key=value` assignment in a `[Service]` section.
struct Assignment<'a> {
    key: String,
    value: String,
    path: &'a str,
}

/// The `[Service]` assignments of the unit followed by its drop-ins, with
/// systemd's line syntax: `#`/`;` comment lines (also inside a continuation),
/// trailing backslash continuation (the backslash becomes a space), section
/// headers, and keys and values trimmed.
fn service_assignments<'a>(main: &'a UnitFile, dropins: &'a [UnitFile]) -> Vec<Assignment<'a>> {
    let mut out = Vec::new();
    for unit in std::iter::once(main).chain(dropins) {
        let mut in_service = false;
        let mut continued: Option<String> = None;
        for line in unit.text.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let logical = match continued.take() {
                Some(mut prefix) => {
                    prefix.push_str(trimmed);
                    prefix
                }
                None => {
                    if trimmed.starts_with('[') {
                        in_service = trimmed == "[Service]";
                        continue;
                    }
                    trimmed.to_string()
                }
            };
            if let Some(stripped) = logical.strip_suffix('\\') {
                let mut s = stripped.to_string();
                s.push(' ');
                continued = Some(s);
                continue;
            }
            if !in_service {
                continue;
            }
            if let Some((k, val)) = logical.split_once('=') {
                out.push(Assignment {
                    key: k.trim().to_string(),
                    value: val.trim().to_string(),
                    path: &unit.path,
                });
            }
        }
        // A continuation running into the end of the file still counts.
        if let (true, Some(logical)) = (in_service, continued)
            && let Some((k, val)) = logical.split_once('=')
        {
            out.push(Assignment {
                key: k.trim().to_string(),
                value: val.trim().to_string(),
                path: &unit.path,
            });
        }
    }
    out
}

/// EnvironmentFile= entries of the unit and drop-ins, in order: (path,
/// optional) where optional is the `-` prefix. An empty `EnvironmentFile=`
/// clears the list, as systemd does.
pub fn environment_files(main: &UnitFile, dropins: &[UnitFile]) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for a in service_assignments(main, dropins) {
        if a.key != "EnvironmentFile" {
            continue;
        }
        if a.value.is_empty() {
            out.clear();
            continue;
        }
        match a.value.strip_prefix('-') {
            Some(p) => out.push((p.trim().to_string(), true)),
            None => out.push((a.value.clone(), false)),
        }
    }
    out
}

/// Split a systemd command line or Environment= value into words: whitespace
/// separated, single and double quotes, C-style backslash escapes. `None`
/// for an unterminated quote, on which systemd ignores the whole directive.
fn systemd_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => {
                in_word = true;
                match it.next() {
                    Some('n') => cur.push('\n'),
                    Some('t') => cur.push('\t'),
                    Some('r') => cur.push('\r'),
                    Some('s') => cur.push(' '),
                    Some(other) => cur.push(other),
                    None => {}
                }
            }
            q @ ('"' | '\'') if quote.is_none() => {
                quote = Some(q);
                in_word = true;
            }
            q if Some(q) == quote => quote = None,
            c if quote.is_none() && c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return None;
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

/// Expands one command-line word per systemd.service(5) "Command lines":
/// a word that is exactly `$VAR` becomes the value split at whitespace (zero
/// or more words; nothing if unset); `${VAR}` anywhere in a word is replaced
/// by the exact value, keeping the word a single argument, and an unset
/// variable leaves an empty string, so a lone unset `${VAR}` is one empty
/// argument; `$$` is a literal `$`. A `$VAR` inside a longer word is not a
/// substitution in systemd and stays literal.
fn expand_word(word: &str, env: &HashMap<String, String>, out: &mut Vec<String>) {
    if let Some(name) = word.strip_prefix('$').filter(|n| is_env_name(n)) {
        if let Some(value) = env.get(name) {
            out.extend(value.split_whitespace().map(str::to_string));
        }
        return;
    }
    let mut result = String::new();
    let mut rest = word;
    while let Some(idx) = rest.find('$') {
        result.push_str(&rest[..idx]);
        let after = &rest[idx + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            result.push('$');
            rest = tail;
        } else if let Some((name, tail)) = after
            .strip_prefix('{')
            .and_then(|b| b.split_once('}'))
            .filter(|(n, _)| is_env_name(n))
        {
            if let Some(value) = env.get(name) {
                result.push_str(value);
            }
            rest = tail;
        } else {
            result.push('$');
            rest = after;
        }
    }
    result.push_str(rest);
    out.push(result);
}

/// systemd specifiers: only `%%` is resolved, since the others (`%n`, `%i`,
/// ...) never name dockerd settings and need unit context we do not have.
fn unescape_specifiers(s: &str) -> String {
    s.replace("%%", "%")
}

/// The effective `ExecStart=` value as written (prefixes and `$VAR`s kept), with the file
/// that sets it: what a drop-in replacing it must start from.
pub fn raw_exec_start(main: &UnitFile, dropins: &[UnitFile]) -> Option<(String, String)> {
    let mut exec = None;
    for a in service_assignments(main, dropins) {
        match a.key.as_str() {
            "ExecStart" if a.value.is_empty() => exec = None,
            "ExecStart" if systemd_words(&a.value).is_none() => {}
            "ExecStart" => exec = Some((a.value.clone(), a.path.to_string())),
            _ => {}
        }
    }
    exec
}

/// Splits a unit's command line into words the way systemd does (quotes, escapes); `None` for
/// an unterminated quote.
pub fn unit_words(value: &str) -> Option<Vec<String>> {
    systemd_words(value)
}

/// The command systemd would start for this service, with the semantics of
/// the `[Service]` section of the main unit followed by the drop-ins (in the
/// order given, which must be systemd's order):
///
/// * an empty `ExecStart=` resets the list and the last non-empty one wins.
///   systemd itself refuses a non-oneshot unit left with two ExecStart=
///   lines; we still report the last so the auditor sees what was meant;
/// * prefixes `-`, `@`, `:`, `+`, `!`, `!!` are removed; `:` also turns off
///   variable expansion, and `@` drops the `argv[0]` override word;
/// * only the first command of a `;`-separated list is used, because dockerd
///   is not a oneshot service;
/// * the environment is `Environment=` (empty resets) overridden by the
///   EnvironmentFile= contents the caller put in `env_files`, keyed by path
///   without the `-` prefix; a file missing from the map contributes nothing
///   (systemd would fail to start if it was not optional, which is beyond a
///   flag reader);
/// * `$VAR` alone is split into zero or more words, `${VAR}` gives exactly
///   one (an unset one gives an empty argument), `$$` is `$`, and `$VAR`
///   inside a longer word stays literal, as in systemd.service(5).
pub fn effective_exec_start(
    main: &UnitFile,
    dropins: &[UnitFile],
    env_files: &HashMap<String, String>,
) -> Option<ExecStart> {
    let assignments = service_assignments(main, dropins);
    let mut exec: Option<(String, &str)> = None;
    let mut env: HashMap<String, String> = HashMap::new();
    for a in &assignments {
        match a.key.as_str() {
            "ExecStart" if a.value.is_empty() => exec = None,
            // systemd ignores a line it cannot split and keeps the earlier one.
            "ExecStart" if systemd_words(&a.value).is_none() => {}
            "ExecStart" => exec = Some((a.value.clone(), a.path)),
            "Environment" if a.value.is_empty() => env.clear(),
            "Environment" => {
                for word in systemd_words(&unescape_specifiers(&a.value)).unwrap_or_default() {
                    if let Some((k, val)) = word.split_once('=').filter(|(k, _)| is_env_name(k)) {
                        env.insert(k.to_string(), val.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    for (path, _) in environment_files(main, dropins) {
        if let Some(text) = env_files.get(&path) {
            env.extend(parse_env_file(text));
        }
    }

    let (value, path) = exec?;
    let mut body = value.as_str();
    let mut no_expand = false;
    let mut argv0_override = false;
    while let Some(c) = body.chars().next().filter(|c| "-@:+!".contains(*c)) {
        no_expand |= c == ':';
        argv0_override |= c == '@';
        body = &body[1..];
    }
    let words = systemd_words(&unescape_specifiers(body))?;
    let mut words = words.split(|w| w == ";").next().unwrap_or_default().iter();
    let program = words.next()?.clone();
    if argv0_override {
        words.next();
    }
    let mut argv = vec![program];
    for w in words {
        if no_expand {
            argv.push(w.clone());
        } else {
            expand_word(w, &env, &mut argv);
        }
    }
    Some(ExecStart {
        argv,
        path: path.to_string(),
    })
}

/// Flags in DOCKER_OPTS (Debian) and OPTIONS (RHEL) of an environment file's
/// text, for hosts where an init script rather than systemd passes them.
pub fn env_file_flags(text: &str) -> ParsedArgs {
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
    use proptest::prelude::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn pairs(p: &ParsedArgs) -> Vec<(&str, &str)> {
        p.flags
            .iter()
            .map(|f| (f.name.as_str(), f.value.as_str()))
            .collect()
    }

    fn parse(v: &[&str]) -> ParsedArgs {
        parse_dockerd_args(&s(v))
    }

    fn unit(path: &str, text: &str) -> UnitFile {
        UnitFile {
            path: path.into(),
            text: text.into(),
        }
    }

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
    fn json_keys() {
        for (flag, key) in [
            ("icc", "icc"),
            ("iptables", "iptables"),
            ("ip-forward", "ip-forward"),
            ("ip-masq", "ip-masq"),
            ("userland-proxy", "userland-proxy"),
            ("live-restore", "live-restore"),
            ("no-new-privileges", "no-new-privileges"),
            ("log-level", "log-level"),
            ("log-driver", "log-driver"),
            ("log-opt", "log-opts"),
            ("host", "hosts"),
            ("data-root", "data-root"),
            ("graph", "data-root"),
            ("storage-driver", "storage-driver"),
            ("storage-opt", "storage-opts"),
            ("userns-remap", "userns-remap"),
            ("insecure-registry", "insecure-registries"),
            ("registry-mirror", "registry-mirrors"),
            ("tlsverify", "tlsverify"),
            ("tls", "tls"),
            ("tlscacert", "tlscacert"),
            ("tlscert", "tlscert"),
            ("tlskey", "tlskey"),
            ("selinux-enabled", "selinux-enabled"),
            ("experimental", "experimental"),
            ("cgroup-parent", "cgroup-parent"),
            ("default-ulimit", "default-ulimits"),
            ("authorization-plugin", "authorization-plugins"),
            ("seccomp-profile", "seccomp-profile"),
            ("bridge", "bridge"),
            ("group", "group"),
            ("pidfile", "pidfile"),
            ("exec-root", "exec-root"),
            ("debug", "debug"),
            ("label", "labels"),
            ("dns", "dns"),
            ("containerd", "containerd"),
            ("default-runtime", "default-runtime"),
            ("exec-opt", "exec-opts"),
        ] {
            assert_eq!(json_key(flag), Some(key), "{flag}");
        }
        assert_eq!(json_key("config-file"), None);
        assert!(is_known_flag("config-file"));
        assert_eq!(json_key("nonsense"), None);
        assert!(is_bool_flag("icc") && is_bool_flag("live-restore"));
        assert!(!is_bool_flag("log-level") && !is_bool_flag("nonsense"));
        assert_eq!(long_name_for_short('H'), Some("host"));
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

    const DEBIAN_UNIT: &str = "\
[Unit]
Description=Docker Application Container Engine
Documentation=https://docs.docker.com
After=network-online.target docker.socket firewalld.service containerd.service
Wants=network-online.target containerd.service
Requires=docker.socket

[Service]
Type=notify
# the default is not to use systemd for cgroups because the delegate issues still
# exists and systemd currently does not support the cgroup feature set required
# for containers run by docker
EnvironmentFile=-/etc/default/docker
ExecStart=/usr/sbin/dockerd -H fd:// $DOCKER_OPTS
ExecReload=/bin/kill -s HUP $MAINPID
TimeoutStartSec=0
RestartSec=2
Restart=always

[Install]
WantedBy=multi-user.target
";

    #[test]
    fn debian_unit_with_env_file() {
        let main = unit("/lib/systemd/system/docker.service", DEBIAN_UNIT);
        assert_eq!(
            environment_files(&main, &[]),
            vec![("/etc/default/docker".to_string(), true)]
        );
        let mut files = HashMap::new();
        files.insert(
            "/etc/default/docker".to_string(),
            "# comment\nDOCKER_OPTS=\"--dns 8.8.8.8 --icc=false\"\n".to_string(),
        );
        let e = effective_exec_start(&main, &[], &files).unwrap();
        assert_eq!(e.path, "/lib/systemd/system/docker.service");
        assert_eq!(
            e.argv,
            s(&[
                "/usr/sbin/dockerd",
                "-H",
                "fd://",
                "--dns",
                "8.8.8.8",
                "--icc=false"
            ])
        );
        let p = parse_dockerd_args(e.args());
        assert_eq!(
            pairs(&p),
            vec![("host", "fd://"), ("dns", "8.8.8.8"), ("icc", "false")]
        );

        // A missing optional file leaves $DOCKER_OPTS as zero words.
        let e = effective_exec_start(&main, &[], &HashMap::new()).unwrap();
        assert_eq!(e.argv, s(&["/usr/sbin/dockerd", "-H", "fd://"]));
    }

    #[test]
    fn docker_ce_unit() {
        let text = "\
[Service]
Type=notify
ExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock
ExecReload=/bin/kill -s HUP $MAINPID
";
        let main = unit("/lib/systemd/system/docker.service", text);
        let e = effective_exec_start(&main, &[], &HashMap::new()).unwrap();
        let p = parse_dockerd_args(e.args());
        assert_eq!(
            pairs(&p),
            vec![
                ("host", "fd://"),
                ("containerd", "/run/containerd/containerd.sock")
            ]
        );
        assert!(p.unparsed.is_empty());
    }

    #[test]
    fn rhel_unit() {
        let text = "\
[Service]
Type=notify
NotifyAccess=main
EnvironmentFile=-/run/containers/registries.conf
EnvironmentFile=-/etc/sysconfig/docker
EnvironmentFile=-/etc/sysconfig/docker-storage
EnvironmentFile=-/etc/sysconfig/docker-network
Environment=GOTRACEBACK=crash
Environment=DOCKER_HTTP_HOST_COMPAT=1
Environment=PATH=/usr/libexec/docker:/usr/bin:/usr/sbin
ExecStart=/usr/bin/dockerd-current \\
          --add-runtime docker-runc=/usr/libexec/docker/docker-runc-current \\
          --default-runtime=docker-runc \\
          --exec-opt native.cgroupdriver=systemd \\
          --userland-proxy-path=/usr/libexec/docker/docker-proxy-current \\
          --init-path=/usr/libexec/docker/docker-init-current \\
          --seccomp-profile=/etc/docker/seccomp.json \\
          $OPTIONS \\
          $DOCKER_STORAGE_OPTIONS \\
          $DOCKER_NETWORK_OPTIONS \\
          $ADD_REGISTRY \\
          $BLOCK_REGISTRY \\
          $INSECURE_REGISTRY \\
          $REGISTRIES
ExecReload=/bin/kill -s HUP $MAINPID
";
        let main = unit("/usr/lib/systemd/system/docker.service", text);
        assert_eq!(environment_files(&main, &[]).len(), 4);
        let mut files = HashMap::new();
        files.insert(
            "/etc/sysconfig/docker".to_string(),
            "# /etc/sysconfig/docker\n\n# Modify these options if you want to change the way the docker daemon runs\nOPTIONS='--selinux-enabled --log-driver=journald --signature-verification=false'\nif [ -z \"${DOCKER_CERT_PATH}\" ]; then\n    DOCKER_CERT_PATH=/etc/docker\nfi\n".to_string(),
        );
        files.insert(
            "/etc/sysconfig/docker-storage".to_string(),
            "DOCKER_STORAGE_OPTIONS=\"--storage-driver overlay2 \"\n".to_string(),
        );
        let e = effective_exec_start(&main, &[], &files).unwrap();
        assert_eq!(e.argv[0], "/usr/bin/dockerd-current");
        let p = parse_dockerd_args(e.args());
        assert_eq!(
            pairs(&p),
            vec![
                (
                    "add-runtime",
                    "docker-runc=/usr/libexec/docker/docker-runc-current"
                ),
                ("default-runtime", "docker-runc"),
                ("exec-opt", "native.cgroupdriver=systemd"),
                (
                    "userland-proxy-path",
                    "/usr/libexec/docker/docker-proxy-current"
                ),
                ("init-path", "/usr/libexec/docker/docker-init-current"),
                ("seccomp-profile", "/etc/docker/seccomp.json"),
                ("selinux-enabled", "true"),
                ("log-driver", "journald"),
                ("signature-verification", "false"),
                ("storage-driver", "overlay2"),
            ]
        );
        assert!(p.unparsed.is_empty());
    }

    #[test]
    fn dropin_reset() {
        let main = unit("/lib/systemd/system/docker.service", DEBIAN_UNIT);
        let dropin = unit(
            "/etc/systemd/system/docker.service.d/override.conf",
            "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --iptables=false -H fd://\n",
        );
        let e = effective_exec_start(&main, &[dropin], &HashMap::new()).unwrap();
        assert_eq!(e.path, "/etc/systemd/system/docker.service.d/override.conf");
        assert_eq!(
            e.argv,
            s(&["/usr/bin/dockerd", "--iptables=false", "-H", "fd://"])
        );
    }

    #[test]
    fn dropin_reset_only_means_none() {
        let main = unit("/lib/systemd/system/docker.service", DEBIAN_UNIT);
        let dropin = unit("/x.conf", "[Service]\nExecStart=\n");
        assert_eq!(
            effective_exec_start(&main, &[dropin], &HashMap::new()),
            None
        );
    }

    #[test]
    fn keys_outside_service_ignored() {
        let main = unit(
            "/u",
            "[Unit]\nExecStart=/bin/wrong\n[Service]\nExecStart=/bin/right\n[Install]\nExecStart=/bin/wrong2\n",
        );
        let e = effective_exec_start(&main, &[], &HashMap::new()).unwrap();
        assert_eq!(e.argv, s(&["/bin/right"]));
        // A drop-in with no section header is outside [Service].
        let d = unit("/d.conf", "ExecStart=\nExecStart=/bin/nope\n");
        let e = effective_exec_start(&main, &[d], &HashMap::new()).unwrap();
        assert_eq!(e.argv, s(&["/bin/right"]));
    }

    #[test]
    fn continuation_and_comments() {
        let text = "[Service]\n\
ExecStart=/usr/bin/dockerd \\\n\
  -H fd:// \\\n\
# a comment inside the continuation\n\
  --log-level=warn \\\n\
; another\n\
  --live-restore\n\
ExecReload=/bin/true \\";
        let main = unit("/u", text);
        let e = effective_exec_start(&main, &[], &HashMap::new()).unwrap();
        assert_eq!(
            e.argv,
            s(&[
                "/usr/bin/dockerd",
                "-H",
                "fd://",
                "--log-level=warn",
                "--live-restore"
            ])
        );
    }

    #[test]
    fn prefixes() {
        for (line, want) in [
            ("-/usr/bin/dockerd -D", s(&["/usr/bin/dockerd", "-D"])),
            ("+/usr/bin/dockerd -D", s(&["/usr/bin/dockerd", "-D"])),
            ("!!/usr/bin/dockerd -D", s(&["/usr/bin/dockerd", "-D"])),
            ("-!/usr/bin/dockerd -D", s(&["/usr/bin/dockerd", "-D"])),
            (
                "@/usr/bin/dockerd dockerd -D",
                s(&["/usr/bin/dockerd", "-D"]),
            ),
            (":/usr/bin/dockerd $X", s(&["/usr/bin/dockerd", "$X"])),
        ] {
            let main = unit(
                "/u",
                &format!("[Service]\nEnvironment=X=1\nExecStart={line}\n"),
            );
            let e = effective_exec_start(&main, &[], &HashMap::new()).unwrap();
            assert_eq!(e.argv, want, "{line}");
        }
    }

    #[test]
    fn expansion_rules() {
        let text = r#"[Service]
Environment="A=--dns 1.1.1.1" B=two\ words
Environment=C=x EMPTY=
ExecStart=/d $A ${A} ${UNSET} $UNSET pre${C}post $$C --v=$C "quoted arg" 100%% $EMPTY ${EMPTY} ; /second cmd
"#;
        let main = unit("/u", text);
        let e = effective_exec_start(&main, &[], &HashMap::new()).unwrap();
        assert_eq!(
            e.argv,
            s(&[
                "/d",
                "--dns",
                "1.1.1.1",
                "--dns 1.1.1.1",
                "",
                "prexpost",
                "$C",
                "--v=$C",
                "quoted arg",
                "100%",
                "",
            ])
        );
    }

    #[test]
    fn environment_reset_and_file_precedence() {
        let main = unit(
            "/u",
            "[Service]\nEnvironment=OPTS=--a\nEnvironment=\nEnvironment=X=--x\nEnvironmentFile=/f\nExecStart=/d $OPTS $X\n",
        );
        let mut files = HashMap::new();
        files.insert("/f".to_string(), "X=--from-file\n".to_string());
        let e = effective_exec_start(&main, &[], &files).unwrap();
        assert_eq!(e.argv, s(&["/d", "--from-file"]));
        assert_eq!(
            environment_files(&main, &[]),
            vec![("/f".to_string(), false)]
        );
        let d = unit(
            "/d.conf",
            "[Service]\nEnvironmentFile=\nEnvironmentFile=-/g\n",
        );
        assert_eq!(
            environment_files(&main, &[d]),
            vec![("/g".to_string(), true)]
        );
    }

    #[test]
    fn unterminated_quote_ignores_directive() {
        let main = unit("/u", "[Service]\nExecStart=/d -D\n");
        let d = unit("/d.conf", "[Service]\nExecStart=/e \"open\n");
        let e = effective_exec_start(&main, &[d], &HashMap::new()).unwrap();
        assert_eq!(e.argv, s(&["/d", "-D"]));
    }

    #[test]
    fn no_exec_start() {
        let main = unit("/u", "[Service]\nType=notify\n");
        assert_eq!(effective_exec_start(&main, &[], &HashMap::new()), None);
    }

    // ---- property tests ----

    /// A generated flag occurrence: the argv words and the pair it must
    /// parse to.
    #[derive(Debug, Clone)]
    struct Gen {
        words: Vec<String>,
        name: String,
        value: String,
    }

    fn value_strategy() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9/:._=,-]{0,12}"
    }

    fn flag_strategy() -> impl Strategy<Value = Gen> {
        let names: Vec<&'static Spec> = SPECS.iter().collect();
        (
            proptest::sample::select(names),
            value_strategy(),
            any::<bool>(),
            0u8..4,
        )
            .prop_map(|(spec, value, bv, form)| {
                let name = spec.name.to_string();
                match (spec.kind, spec.short, form) {
                    (Kind::Bool, _, 0) => Gen {
                        words: vec![format!("--{name}")],
                        name,
                        value: "true".into(),
                    },
                    (Kind::Bool, Some(c), 1) => Gen {
                        words: vec![format!("-{c}")],
                        name,
                        value: "true".into(),
                    },
                    (Kind::Bool, Some(c), 2) => Gen {
                        words: vec![format!("-{c}={bv}")],
                        name,
                        value: bv.to_string(),
                    },
                    (Kind::Bool, _, _) => Gen {
                        words: vec![format!("--{name}={bv}")],
                        name,
                        value: bv.to_string(),
                    },
                    (Kind::Value, _, 0) => Gen {
                        words: vec![format!("--{name}={value}")],
                        name,
                        value,
                    },
                    (Kind::Value, Some(c), 1) => Gen {
                        words: vec![format!("-{c}"), value.clone()],
                        name,
                        value,
                    },
                    (Kind::Value, Some(c), 2)
                        if !value.is_empty()
                            && !value.starts_with('=')
                            && !is_known_flag(&format!(
                                "{c}{}",
                                value.split('=').next().unwrap_or_default()
                            )) =>
                    {
                        Gen {
                            words: vec![format!("-{c}{value}")],
                            name,
                            value,
                        }
                    }
                    (Kind::Value, Some(c), 3) => Gen {
                        words: vec![format!("-{c}={value}")],
                        name,
                        value,
                    },
                    (Kind::Value, _, _) => Gen {
                        words: vec![format!("--{name}"), value.clone()],
                        name,
                        value,
                    },
                }
            })
    }

    proptest! {
        #[test]
        fn never_panics(args in proptest::collection::vec(any::<String>(), 0..12)) {
            let _ = parse_dockerd_args(&args);
        }

        #[test]
        fn never_panics_dashy(args in proptest::collection::vec("[-=a-zA-Z ]{0,6}", 0..12)) {
            let p = parse_dockerd_args(&args);
            // An argument yields at most one unparsed entry.
            prop_assert!(p.unparsed.len() <= args.len());
        }

        #[test]
        fn recovers_generated_flags(
            gens in proptest::collection::vec(flag_strategy(), 0..10),
            stray in proptest::collection::vec("[a-z0-9/]{1,6}", 0..3),
        ) {
            let mut argv: Vec<String> = stray.clone();
            for g in &gens {
                argv.extend(g.words.iter().cloned());
            }
            let p = parse_dockerd_args(&argv);
            let got: Vec<(String, String)> =
                p.flags.iter().map(|f| (f.name.clone(), f.value.clone())).collect();
            let want: Vec<(String, String)> =
                gens.iter().map(|g| (g.name.clone(), g.value.clone())).collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(p.unparsed, stray);
        }

        #[test]
        fn text_parsers_never_panic(text in any::<String>(), bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_env_file(&text);
            let _ = split_words(&text);
            let _ = cmdline_args(&bytes);
            let _ = env_file_flags(&text);
            let u = UnitFile { path: "/u".into(), text: format!("[Service]\n{text}") };
            let _ = effective_exec_start(&u, std::slice::from_ref(&u), &HashMap::new());
            let _ = environment_files(&u, &[]);
        }

        #[test]
        fn exec_start_roundtrip(args in proptest::collection::vec("[a-zA-Z0-9/:._=,-]{1,10}", 0..8)) {
            let text = format!("[Service]\nExecStart=/usr/bin/dockerd {}\n", args.join(" "));
            let u = UnitFile { path: "/u".into(), text };
            let e = effective_exec_start(&u, &[], &HashMap::new()).unwrap();
            prop_assert_eq!(e.args(), &args[..]);
        }
    }
}
