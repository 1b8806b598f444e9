//! Analysis of rsyslog configuration text, and planning of the smallest edit
//! that makes rsyslog receive what Docker's syslog log driver sends.
//!
//! Everything here is a pure function on strings: the caller reads files,
//! expands include globs and writes the planned edits.

use std::collections::BTreeMap;
use std::net::IpAddr;

/// Header written above statements this module adds, so a person reading the
/// config later knows where they came from.
pub const HEADER: &str =
    "# docker-harden: receive syslog from Docker's syslog log driver (CIS 2.13)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn module(self) -> &'static str {
        match self {
            Proto::Tcp => "imtcp",
            Proto::Udp => "imudp",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfFile {
    pub path: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: String,
    /// 1-based, first line of the statement.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub path: String,
    /// The file's current text; None when the file is to be created.
    pub before: Option<String>,
    pub after: String,
}

// ---------------------------------------------------------------------------
// Lexing: rsyslog mixes one-line legacy directives/selectors with RainerScript
// objects that may span lines, and `#` is a comment only outside quotes.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tk {
    Word(String),
    Str(String),
    Punct(char),
}

#[derive(Debug, Clone)]
struct Token {
    tk: Tk,
    line: usize,
    end_line: usize,
    /// Byte range of the value within its line; None for strings that span
    /// lines, which we never rewrite.
    span: Option<(usize, usize)>,
}

#[derive(Debug, Clone)]
struct Stmt {
    first: usize,
    last: usize,
    toks: Vec<Token>,
}

struct OpenStr {
    quote: char,
    val: String,
    line: usize,
    start: usize,
}

/// Lines without their terminators; indices match `split_inclusive('\n')`
/// so parse positions map straight onto the rendered output.
fn lines_of(text: &str) -> Vec<&str> {
    text.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect()
}

fn is_delim(c: char, in_object: bool) -> bool {
    c.is_whitespace()
        || matches!(c, '#' | '"' | '(' | ')' | '=' | '[' | ']' | ',' | '{' | '}')
        || (in_object && c == '\'')
}

fn finish(out: &mut Vec<Stmt>, cur: &mut Vec<Token>) {
    if let (Some(f), Some(l)) = (cur.first(), cur.last()) {
        out.push(Stmt {
            first: f.line,
            last: l.end_line,
            toks: std::mem::take(cur),
        });
    }
}

/// Split text into statements. Only a RainerScript object (`name(`) may
/// continue onto the next line: letting a stray `(` in a selector carry over
/// would swallow the rest of the file.
fn statements(lines: &[&str]) -> Vec<Stmt> {
    let mut out = Vec::new();
    let mut cur: Vec<Token> = Vec::new();
    let mut depth = 0usize;
    let mut object = false;
    let mut open: Option<OpenStr> = None;
    let mut escaped = false;

    for (li, line) in lines.iter().enumerate() {
        let chars: Vec<(usize, char)> = line.char_indices().collect();
        let mut k = 0;
        while k < chars.len() {
            let (i, c) = chars[k];
            if let Some(s) = open.as_mut() {
                if escaped {
                    s.val.push(c);
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == s.quote {
                    let span = (s.line == li).then_some((s.start, i));
                    cur.push(Token {
                        tk: Tk::Str(std::mem::take(&mut s.val)),
                        line: s.line,
                        end_line: li,
                        span,
                    });
                    open = None;
                } else {
                    s.val.push(c);
                }
                k += 1;
                continue;
            }
            let punct = |c: char| Token {
                tk: Tk::Punct(c),
                line: li,
                end_line: li,
                span: Some((i, i + c.len_utf8())),
            };
            match c {
                c if c.is_whitespace() => {}
                '#' => break,
                '"' => {
                    open = Some(OpenStr {
                        quote: c,
                        val: String::new(),
                        line: li,
                        start: i + 1,
                    })
                }
                '\'' if depth > 0 => {
                    open = Some(OpenStr {
                        quote: c,
                        val: String::new(),
                        line: li,
                        start: i + 1,
                    })
                }
                '(' => {
                    if depth == 0 && cur.len() == 1 && matches!(cur[0].tk, Tk::Word(_)) {
                        object = true;
                    }
                    depth += 1;
                    cur.push(punct(c));
                }
                ')' => {
                    cur.push(punct(c));
                    depth = depth.saturating_sub(1);
                    if depth == 0 && object {
                        finish(&mut out, &mut cur);
                        object = false;
                    }
                }
                '=' | '[' | ']' | ',' | '{' | '}' => cur.push(punct(c)),
                _ => {
                    let start = i;
                    while k < chars.len() && !is_delim(chars[k].1, depth > 0) {
                        k += 1;
                    }
                    let end = chars.get(k).map_or(line.len(), |x| x.0);
                    cur.push(Token {
                        tk: Tk::Word(line[start..end].to_string()),
                        line: li,
                        end_line: li,
                        span: Some((start, end)),
                    });
                    continue;
                }
            }
            k += 1;
        }
        let continuing = object && depth > 0;
        if let Some(s) = open.as_mut() {
            if continuing {
                s.val.push('\n');
            } else {
                // An unterminated quote outside an object ends with its line,
                // as rsyslog's legacy parser treats it.
                let span = (s.line == li).then_some((s.start, line.len()));
                cur.push(Token {
                    tk: Tk::Str(std::mem::take(&mut s.val)),
                    line: s.line,
                    end_line: li,
                    span,
                });
                open = None;
            }
        }
        if !continuing {
            escaped = false;
            depth = 0;
            object = false;
            finish(&mut out, &mut cur);
        }
    }
    if let Some(s) = open.take() {
        cur.push(Token {
            tk: Tk::Str(s.val),
            line: s.line,
            end_line: lines.len().saturating_sub(1),
            span: None,
        });
    }
    finish(&mut out, &mut cur);
    out
}

// ---------------------------------------------------------------------------
// Interpretation of statements.

#[derive(Debug, Clone)]
struct Val {
    text: String,
    line: usize,
    span: Option<(usize, usize)>,
}

fn tok_val(t: &Token) -> Option<Val> {
    match &t.tk {
        Tk::Word(s) | Tk::Str(s) => Some(Val {
            text: s.clone(),
            line: t.line,
            span: t.span,
        }),
        Tk::Punct(_) => None,
    }
}

type Params = Vec<(String, Vec<Val>)>;

/// `name(key=value ...)`: returns the lowercased name and its parameters.
fn as_object(st: &Stmt) -> Option<(String, Params)> {
    let name = match (&st.toks.first()?.tk, &st.toks.get(1)?.tk) {
        (Tk::Word(n), Tk::Punct('(')) => n.to_ascii_lowercase(),
        _ => return None,
    };
    let t = &st.toks;
    let mut params = Vec::new();
    let mut k = 2;
    while k < t.len() {
        if let (Tk::Word(key), Some(Tk::Punct('='))) = (&t[k].tk, t.get(k + 1).map(|x| &x.tk)) {
            let key = key.to_ascii_lowercase();
            let mut vals = Vec::new();
            k += 2;
            match t.get(k).map(|x| &x.tk) {
                Some(Tk::Punct('[')) => {
                    k += 1;
                    while k < t.len() && t[k].tk != Tk::Punct(']') {
                        vals.extend(tok_val(&t[k]));
                        k += 1;
                    }
                }
                Some(_) => vals.extend(tok_val(&t[k])),
                None => {}
            }
            params.push((key, vals));
        }
        k += 1;
    }
    Some((name, params))
}

/// `$Directive args...`: returns the lowercased directive and its arguments.
fn as_legacy(st: &Stmt) -> Option<(String, Vec<Val>)> {
    match &st.toks.first()?.tk {
        Tk::Word(w) if w.starts_with('$') => Some((
            w.to_ascii_lowercase(),
            st.toks[1..].iter().filter_map(tok_val).collect(),
        )),
        _ => None,
    }
}

fn param<'a>(params: &'a [(String, Vec<Val>)], key: &str) -> Option<&'a [Val]> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_slice())
}

/// `imtcp`, `imtcp.so` and `/usr/lib/rsyslog/imtcp.so` all name one module.
fn module_name(s: &str) -> String {
    let base = s.trim().rsplit('/').next().unwrap_or("");
    base.strip_suffix(".so")
        .unwrap_or(base)
        .to_ascii_lowercase()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Rainer,
    Legacy,
}

fn loads(st: &Stmt, proto: Proto) -> Option<Style> {
    if let Some((name, params)) = as_object(st) {
        let hit = name == "module"
            && param(&params, "load")
                .and_then(|v| v.first())
                .is_some_and(|v| module_name(&v.text) == proto.module());
        return hit.then_some(Style::Rainer);
    }
    let (dir, args) = as_legacy(st)?;
    let hit = dir == "$modload"
        && args
            .first()
            .is_some_and(|v| module_name(&v.text) == proto.module());
    hit.then_some(Style::Legacy)
}

/// Ports an input statement for `proto` listens on; None if it is not one.
fn input_ports(st: &Stmt, proto: Proto) -> Option<(Style, Vec<Val>)> {
    // imudp defaults to 514 when no port is given; imtcp has no default.
    let default = |line| match proto {
        Proto::Udp => vec![Val {
            text: "514".into(),
            line,
            span: None,
        }],
        Proto::Tcp => Vec::new(),
    };
    if let Some((name, params)) = as_object(st) {
        let is_input = name == "input"
            && param(&params, "type")
                .and_then(|v| v.first())
                .is_some_and(|v| module_name(&v.text) == proto.module());
        if !is_input {
            return None;
        }
        let ports = match param(&params, "port") {
            Some(v) if !v.is_empty() => v.to_vec(),
            _ => default(st.first),
        };
        return Some((Style::Rainer, ports));
    }
    let (dir, args) = as_legacy(st)?;
    let ok = match proto {
        Proto::Tcp => dir == "$inputtcpserverrun",
        Proto::Udp => dir == "$udpserverrun" || dir == "$inputudpserverrun",
    };
    if !ok {
        return None;
    }
    let ports = match args.into_iter().next() {
        Some(v) => vec![v],
        None => default(st.first),
    };
    Some((Style::Legacy, ports))
}

fn port_is(v: &Val, port: u16) -> bool {
    v.text.trim().parse::<u16>() == Ok(port)
}

fn include_of(st: &Stmt) -> Option<String> {
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
fn includes_with_lines(text: &str) -> Vec<(usize, String)> {
    statements(&lines_of(text))
        .iter()
        .filter_map(|st| include_of(st).map(|p| (st.first, p)))
        .collect()
}

/// Include patterns named by active include statements in the main file, in order.
pub fn include_patterns(main_text: &str) -> Vec<String> {
    includes_with_lines(main_text)
        .into_iter()
        .map(|(_, p)| p)
        .collect()
}

/// Shell-style match where `*` and `?` stay within one path component; a
/// pattern ending in `/` names every file of that directory, as
/// `$IncludeConfig /etc/rsyslog.d/` does.
pub fn glob_match(pattern: &str, path: &str) -> bool {
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

fn component_match(p: &[u8], s: &[u8]) -> bool {
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

fn find_stmt<T>(files: &[ConfFile], f: impl Fn(&Stmt) -> Option<T>) -> Option<(usize, Stmt, T)> {
    files.iter().enumerate().find_map(|(fi, file)| {
        statements(&lines_of(&file.text))
            .into_iter()
            .find_map(|st| f(&st).map(|t| (fi, st, t)))
    })
}

fn found(files: &[ConfFile], fi: usize, st: &Stmt) -> Found {
    Found {
        path: files[fi].path.clone(),
        line: st.first + 1,
    }
}

/// Where the module for `proto` is loaded (active statement, any file), if anywhere.
pub fn module_loaded(files: &[ConfFile], proto: Proto) -> Option<Found> {
    find_stmt(files, |st| loads(st, proto)).map(|(fi, st, _)| found(files, fi, &st))
}

// ---------------------------------------------------------------------------
// Where inputs listen.

/// The local address an input binds to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    /// No `address`, an empty one, `*` or a wildcard address: rsyslog binds every interface
    /// (0.0.0.0 and [::]), so anyone who can reach the host can send it logs.
    Every,
    /// One address or host name, as written.
    Only(String),
}

impl Bind {
    fn of(value: Option<&str>) -> Bind {
        let v = value.map(str::trim).unwrap_or("");
        let unbracketed = v
            .strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(v);
        let wildcard = unbracketed
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_unspecified());
        if v.is_empty() || v == "*" || wildcard {
            Bind::Every
        } else {
            Bind::Only(v.to_string())
        }
    }

    /// Whether a client that connects to `host` (the syslog-address's host) reaches an input
    /// bound here.
    pub fn serves(&self, host: &str) -> bool {
        match self {
            Bind::Every => true,
            Bind::Only(bound) => same_host(bound, host),
        }
    }
}

impl std::fmt::Display for Bind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bind::Every => f.write_str("every interface"),
            Bind::Only(a) => f.write_str(a),
        }
    }
}

/// An address as rsyslog's `address` parameter takes it: no brackets, no trailing dot, an
/// IPv4-mapped IPv6 address as the IPv4 one (what the kernel binds for it), names in lower
/// case.
pub fn bind_address(host: &str) -> String {
    let h = host.trim();
    let h = h
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(h);
    let h = h.strip_suffix('.').unwrap_or(h);
    match h.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        Ok(ip) => ip.to_string(),
        Err(_) => h.to_ascii_lowercase(),
    }
}

/// Two spellings of one local address. `localhost` stands for every loopback address: rsyslog
/// and dockerd both resolve it through /etc/hosts, to 127.0.0.1, ::1 or both, and dockerd
/// tries each.
fn same_host(a: &str, b: &str) -> bool {
    let (a, b) = (bind_address(a), bind_address(b));
    let loopback =
        |h: &str| h == "localhost" || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    a == b || ((a == "localhost" || b == "localhost") && loopback(&a) && loopback(&b))
}

/// An active input statement on one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub at: Found,
    pub bind: Bind,
    /// `$InputTCPServerRun` or `$UDPServerRun`: narrowed by replacing it with the
    /// RainerScript form, as imtcp's legacy directives cannot name an address.
    pub legacy: bool,
    /// Its tokens without layout or comments: the same statement across versions of a file.
    pub key: String,
}

#[derive(Debug, Clone)]
struct Active {
    fi: usize,
    st: Stmt,
    style: Style,
    ports: Vec<Val>,
    bind: Bind,
}

fn stmt_key(st: &Stmt) -> String {
    st.toks
        .iter()
        .map(|t| match &t.tk {
            Tk::Word(w) => w.clone(),
            Tk::Str(s) => format!("{s:?}"),
            Tk::Punct(c) => c.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every active input for `proto`, in file order. A legacy `$UDPServerRun` binds the
/// `$UDPServerAddress` set before it; a legacy imtcp input always binds every interface.
fn active_inputs(files: &[ConfFile], proto: Proto) -> Vec<Active> {
    let mut out = Vec::new();
    let mut udp_address: Option<String> = None;
    for (fi, file) in files.iter().enumerate() {
        for st in statements(&lines_of(&file.text)) {
            if let Some((dir, args)) = as_legacy(&st)
                && dir == "$udpserveraddress"
            {
                udp_address = args.first().map(|v| v.text.clone());
                continue;
            }
            let Some((style, ports)) = input_ports(&st, proto) else {
                continue;
            };
            let bind = match (style, proto) {
                (Style::Rainer, _) => {
                    let (_, params) = as_object(&st).unwrap_or_default();
                    Bind::of(
                        param(&params, "address")
                            .and_then(|v| v.first())
                            .map(|v| v.text.as_str()),
                    )
                }
                (Style::Legacy, Proto::Udp) => Bind::of(udp_address.as_deref()),
                (Style::Legacy, Proto::Tcp) => Bind::Every,
            };
            out.push(Active {
                fi,
                st,
                style,
                ports,
                bind,
            });
        }
    }
    out
}

fn on_port(a: &Active, port: u16) -> bool {
    a.ports.iter().any(|v| port_is(v, port))
}

/// The first active input on proto/port that a client of `host` reaches.
fn find_input(files: &[ConfFile], proto: Proto, port: u16, host: &str) -> Option<Active> {
    active_inputs(files, proto)
        .into_iter()
        .find(|a| on_port(a, port) && a.bind.serves(host))
}

fn input_of(files: &[ConfFile], a: &Active) -> Input {
    Input {
        at: found(files, a.fi, &a.st),
        bind: a.bind.clone(),
        legacy: a.style == Style::Legacy,
        key: stmt_key(&a.st),
    }
}

/// Every active input on proto/port, whatever it binds.
pub fn inputs(files: &[ConfFile], proto: Proto, port: u16) -> Vec<Input> {
    active_inputs(files, proto)
        .iter()
        .filter(|a| on_port(a, port))
        .map(|a| input_of(files, a))
        .collect()
}

/// Where an active input on proto/port that a client of `host` reaches is declared, new or
/// legacy syntax, if anywhere.
pub fn input_declared(files: &[ConfFile], proto: Proto, port: u16, host: &str) -> Option<Found> {
    find_input(files, proto, port, host).map(|a| found(files, a.fi, &a.st))
}

/// Module loaded and an input that a client of `host` reaches declared, both active.
pub fn listens(files: &[ConfFile], proto: Proto, port: u16, host: &str) -> bool {
    module_loaded(files, proto).is_some() && input_declared(files, proto, port, host).is_some()
}

/// Inputs rsyslog does not run now because their module is not loaded, which loading it for
/// proto/port would start besides the one that serves `host`: a plan that loads the module
/// must not start listeners nobody asked docker-harden for.
pub fn woken_by_load(files: &[ConfFile], proto: Proto, port: u16, host: &str) -> Vec<Input> {
    if module_loaded(files, proto).is_some() {
        return Vec::new();
    }
    let serving = find_input(files, proto, port, host).map(|a| (a.fi, a.st.first));
    active_inputs(files, proto)
        .iter()
        .filter(|a| Some((a.fi, a.st.first)) != serving)
        .map(|a| input_of(files, a))
        .collect()
}

/// Keys of the inputs on proto/port that are active in `after` and not in `before`: what a
/// run that changed one file from `before` to `after` started.
pub fn inputs_started(before: Option<&str>, after: &str, proto: Proto, port: u16) -> Vec<String> {
    let keys = |text: &str| -> Vec<String> {
        inputs(
            &[ConfFile {
                path: String::new(),
                text: text.to_string(),
            }],
            proto,
            port,
        )
        .into_iter()
        .map(|i| i.key)
        .collect()
    };
    let old = before.map(keys).unwrap_or_default();
    keys(after)
        .into_iter()
        .filter(|k| !old.contains(k))
        .collect()
}

/// Whether the statement starting at 1-based `line` of `text` is in a block docker-harden
/// appended: the HEADER line right above it, or above the one module load before it.
pub fn in_own_block(text: &str, line: usize) -> bool {
    let lines = lines_of(text);
    let at = |k: Option<usize>| k.and_then(|k| lines.get(k)).map(|l| l.trim());
    let idx = line.checked_sub(1);
    let above = idx.and_then(|i| i.checked_sub(1));
    let two_above = above.and_then(|i| i.checked_sub(1));
    at(above) == Some(HEADER)
        || (at(two_above) == Some(HEADER)
            && at(above).is_some_and(|l| l.starts_with("module(load=")))
}

// ---------------------------------------------------------------------------
// Commented-out statements that can be revived in place.

#[derive(Debug, Clone)]
struct Cand {
    first: usize,
    last: usize,
    /// Replacement text for each line first..=last.
    new_lines: Vec<String>,
    style: Style,
    exact_port: bool,
    /// A statement to add after the lines, which then stay commented (a legacy input, which
    /// cannot bind an address, gives way to its RainerScript form).
    instead: Option<String>,
}

/// Splits `  # rest` into ("  ", "rest"): only the `#` and one space go, so
/// indentation and trailing comments survive.
fn split_comment(line: &str) -> Option<(&str, &str)> {
    let trimmed = line.trim_start();
    let rest = trimmed.strip_prefix('#')?;
    let indent = &line[..line.len() - trimmed.len()];
    Some((indent, rest.strip_prefix(' ').unwrap_or(rest)))
}

/// A statement spanning more comment lines than this is not a distribution
/// default; the cap also keeps the scan linear on huge comment blocks.
const MAX_STMT_LINES: usize = 32;

fn commented_cands(text: &str, pick: impl Fn(&Stmt, &[&str]) -> Option<Cand>) -> Vec<Cand> {
    let lines = lines_of(text);
    let mut out = Vec::new();
    for i in 0..lines.len() {
        let mut indents = Vec::new();
        let mut rems = Vec::new();
        for line in lines.iter().skip(i).take(MAX_STMT_LINES) {
            match split_comment(line) {
                Some((ind, rem)) => {
                    indents.push(ind);
                    rems.push(rem);
                }
                None => break,
            }
        }
        if rems.is_empty() {
            continue;
        }
        let Some(st) = statements(&rems).into_iter().next() else {
            continue;
        };
        // A half-closed object would make the uncommented file invalid.
        let closed =
            as_object(&st).is_none() || st.toks.last().is_some_and(|t| t.tk == Tk::Punct(')'));
        if st.first != 0 || !closed {
            continue;
        }
        if let Some(mut c) = pick(&st, &rems) {
            for (k, l) in c.new_lines.iter_mut().enumerate() {
                l.insert_str(0, indents.get(k).copied().unwrap_or(""));
            }
            c.first += i;
            c.last += i;
            out.push(c);
        }
    }
    out
}

fn module_cands(text: &str, proto: Proto) -> Vec<Cand> {
    commented_cands(text, |st, rems| {
        let style = loads(st, proto)?;
        Some(Cand {
            first: st.first,
            last: st.last,
            new_lines: rems[st.first..=st.last]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            style,
            exact_port: true,
            instead: None,
        })
    })
}

/// Commented inputs for `proto`; a RainerScript one on another port is kept only when its
/// port value can be rewritten in place. Each is revived bound to `host`: a RainerScript
/// input gets `address` (set, or rewritten where the comment names another), a legacy one
/// stays commented and its RainerScript form goes after it. Exact-port matches come first.
fn input_cands(text: &str, proto: Proto, port: u16, host: &str) -> Vec<Cand> {
    let mut c = commented_cands(text, |st, rems| {
        let (style, ports) = input_ports(st, proto)?;
        let mut new_lines: Vec<String> = rems[st.first..=st.last]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let exact_port = ports.iter().any(|v| port_is(v, port));
        if style == Style::Legacy {
            return Some(Cand {
                first: st.first,
                last: st.last,
                new_lines,
                style,
                exact_port,
                instead: Some(input_stmt(proto, port, host)),
            });
        }
        let mut splices = address_splices(st, host)?;
        if !exact_port {
            let v = ports.first()?;
            splices.push((v.line, v.span?, port.to_string()));
        }
        splice(&mut new_lines, st.first, splices)?;
        Some(Cand {
            first: st.first,
            last: st.last,
            new_lines,
            style,
            exact_port,
            instead: None,
        })
    });
    c.sort_by_key(|c| !c.exact_port);
    c
}

/// A replacement of a byte range of one line: (line, (start, end), text).
type Splice = (usize, (usize, usize), String);

/// (line, byte range, replacement) that bind a RainerScript object to `host`: its `address`
/// value rewritten, or ` address="HOST"` put before its closing parenthesis. None when the
/// value cannot be rewritten in place (a string spanning lines).
fn address_splices(st: &Stmt, host: &str) -> Option<Vec<Splice>> {
    let (_, params) = as_object(st)?;
    let host = bind_address(host);
    if let Some(v) = param(&params, "address").and_then(|v| v.first()) {
        let (a, b) = v.span?;
        // A bare word (`address=127.0.0.1`) becomes a quoted string: RainerScript wants one.
        let quoted = st
            .toks
            .iter()
            .any(|t| t.line == v.line && t.span == v.span && matches!(t.tk, Tk::Str(_)));
        let text = if quoted { host } else { format!("\"{host}\"") };
        return Some(vec![(v.line, (a, b), text)]);
    }
    let close = st.toks.last().filter(|t| t.tk == Tk::Punct(')'))?;
    let (at, _) = close.span?;
    Some(vec![(close.line, (at, at), format!(" address=\"{host}\""))])
}

/// Applies splices to `lines` (line numbers counted from `first`), right to left so earlier
/// ranges stay valid.
fn splice(lines: &mut [String], first: usize, mut splices: Vec<Splice>) -> Option<()> {
    splices.sort_by_key(|s| std::cmp::Reverse((s.0, s.1)));
    for (line, (a, b), text) in splices {
        let l = lines.get_mut(line.checked_sub(first)?)?;
        if a > b || b > l.len() || !l.is_char_boundary(a) || !l.is_char_boundary(b) {
            return None;
        }
        l.replace_range(a..b, &text);
    }
    Some(())
}

/// Ops that bind the active input `st` (lines of its file: `lines`) to `host`: a RainerScript
/// input gets its `address`; a legacy one is commented out and its RainerScript form follows.
fn narrow_ops(lines: &[&str], a: &Active, proto: Proto, port: u16, host: &str) -> Vec<Op> {
    let st = &a.st;
    if a.style == Style::Rainer {
        let mut new_lines: Vec<String> = lines[st.first..=st.last]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if let Some(splices) = address_splices(st, host)
            && splice(&mut new_lines, st.first, splices).is_some()
        {
            return new_lines
                .into_iter()
                .enumerate()
                .map(|(k, l)| Op::Replace(st.first + k, l))
                .collect();
        }
    }
    // Legacy, or an object whose address cannot be rewritten in place: the statement is
    // commented out whole and the RainerScript form takes its place.
    let mut ops: Vec<Op> = (st.first..=st.last)
        .map(|l| Op::Replace(l, format!("#{}", lines[l])))
        .collect();
    ops.push(Op::InsertAfter(
        st.last,
        vec![input_stmt(proto, port, host)],
    ));
    ops
}

// ---------------------------------------------------------------------------
// Planning.

#[derive(Debug, Clone)]
enum Op {
    Replace(usize, String),
    InsertBefore(usize, Vec<String>),
    InsertAfter(usize, Vec<String>),
    Append(Vec<String>),
}

fn module_stmt(proto: Proto, style: Style) -> String {
    match style {
        Style::Rainer => format!("module(load=\"{}\")", proto.module()),
        Style::Legacy => format!("$ModLoad {}", proto.module()),
    }
}

/// Always RainerScript: the legacy `$InputTCPServerRun` has no way to name an address (imtcp
/// knows no legacy directive for it; rsyslogd 8.2302 rejects `$InputTCPServerAddress`), so an
/// input written in it listens on every interface.
fn input_stmt(proto: Proto, port: u16, host: &str) -> String {
    format!(
        "input(type=\"{}\" port=\"{port}\" address=\"{}\")",
        proto.module(),
        bind_address(host)
    )
}

fn render(text: &str, ops: &[Op]) -> String {
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = String::with_capacity(text.len() + 256);
    for (i, piece) in text.split_inclusive('\n').enumerate() {
        for op in ops {
            if let Op::InsertBefore(l, lines) = op
                && *l == i
            {
                for s in lines {
                    out.push_str(s);
                    out.push_str(nl);
                }
            }
        }
        let body_len = piece.trim_end_matches(['\n', '\r']).len();
        let (body, term) = piece.split_at(body_len);
        let replaced = ops.iter().find_map(|op| match op {
            Op::Replace(l, s) if *l == i => Some(s.as_str()),
            _ => None,
        });
        out.push_str(replaced.unwrap_or(body));
        out.push_str(term);
        for op in ops {
            if let Op::InsertAfter(l, lines) = op
                && *l == i
            {
                if term.is_empty() {
                    out.push_str(nl);
                }
                for s in lines {
                    out.push_str(s);
                    out.push_str(nl);
                }
            }
        }
    }
    for op in ops {
        if let Op::Append(lines) = op {
            if !out.is_empty() {
                if !out.ends_with('\n') {
                    out.push_str(nl);
                }
                // A blank line sets the added block apart from what precedes.
                if !out.ends_with("\n\n") && !out.ends_with("\n\r\n") {
                    out.push_str(nl);
                }
            }
            for s in lines {
                out.push_str(s);
                out.push_str(nl);
            }
        }
    }
    out
}

fn uncomment_ops(c: &Cand) -> Vec<Op> {
    if let Some(stmt) = &c.instead {
        return vec![Op::InsertAfter(c.last, vec![stmt.clone()])];
    }
    c.new_lines
        .iter()
        .enumerate()
        .map(|(k, s)| Op::Replace(c.first + k, s.clone()))
        .collect()
}

/// Position in rsyslog's parse order: an input is rejected unless its module
/// was loaded earlier, and included files are parsed where the include is.
/// A file reached by no include of the main file (nested include) is assumed
/// early, since we cannot tell better.
fn order_key(
    files: &[ConfFile],
    incs: &[(usize, String)],
    fi: usize,
    line: usize,
) -> (usize, Option<String>) {
    if fi == 0 {
        return (line, None);
    }
    let path = files[fi].path.clone();
    let at = incs
        .iter()
        .find(|(_, p)| glob_match(p, &path))
        .map_or(0, |(l, _)| *l);
    (at, Some(path))
}

/// Smallest edit so rsyslog receives on proto/port from a client of `host`
/// (the syslog-address's host): nothing if it already does; else revive the
/// main file's commented lines; else a drop-in the main file includes
/// (`dropin_path`); else append to the main file. `files[0]` is the main
/// rsyslog.conf. A placement is skipped when it would put the input before the
/// module load in rsyslog's parse order, which rsyslog rejects. Every input the
/// plan starts binds `host` alone; an input that already serves is left as it
/// is, however wide (see `plan_narrow`).
pub fn plan_listen(
    files: &[ConfFile],
    proto: Proto,
    port: u16,
    host: &str,
    dropin_path: &str,
) -> Vec<Edit> {
    let Some(main) = files.first() else {
        return Vec::new();
    };
    let load = find_stmt(files, |st| loads(st, proto));
    let input = find_input(files, proto, port, host);
    let incs = includes_with_lines(&main.text);
    let mut ops: BTreeMap<usize, Vec<Op>> = BTreeMap::new();

    match (&load, &input) {
        (Some(_), Some(_)) => return Vec::new(),
        (None, Some(a)) => {
            let in_key = order_key(files, &incs, a.fi, a.st.first);
            let cand = module_cands(&main.text, proto)
                .into_iter()
                .find(|c| (c.first, None) < in_key);
            match cand {
                Some(c) => ops.entry(0).or_default().extend(uncomment_ops(&c)),
                None => ops.entry(a.fi).or_default().push(Op::InsertBefore(
                    a.st.first,
                    vec![module_stmt(proto, a.style)],
                )),
            }
            // rsyslog does not run this input now (no module): loading the module starts
            // it, so it is docker-harden's to bind, like any input it starts.
            if a.bind == Bind::Every {
                let lines = lines_of(&files[a.fi].text);
                let narrowed = narrow_ops(&lines, a, proto, port, host);
                ops.entry(a.fi).or_default().extend(narrowed);
            }
        }
        (_, None) => plan_missing_input(
            files,
            proto,
            port,
            host,
            dropin_path,
            &load,
            &incs,
            &mut ops,
        ),
    }
    edits_of(files, ops, dropin_path)
}

/// Binds each input in `targets` (found by `inputs`; each must listen on every interface) to
/// `host`, in place: for the inputs docker-harden itself started, which it must narrow. The
/// caller decides which those are.
pub fn plan_narrow(
    files: &[ConfFile],
    proto: Proto,
    port: u16,
    host: &str,
    targets: &[Input],
) -> Vec<Edit> {
    let mut ops: BTreeMap<usize, Vec<Op>> = BTreeMap::new();
    for a in active_inputs(files, proto) {
        let at = found(files, a.fi, &a.st);
        if a.bind == Bind::Every && on_port(&a, port) && targets.iter().any(|t| t.at == at) {
            let lines = lines_of(&files[a.fi].text);
            let narrowed = narrow_ops(&lines, &a, proto, port, host);
            ops.entry(a.fi).or_default().extend(narrowed);
        }
    }
    edits_of(files, ops, "")
}

fn edits_of(files: &[ConfFile], ops: BTreeMap<usize, Vec<Op>>, dropin_path: &str) -> Vec<Edit> {
    let mut edits = Vec::new();
    for (fi, ops) in ops {
        match files.get(fi) {
            Some(f) => edits.push(Edit {
                path: f.path.clone(),
                before: Some(f.text.clone()),
                after: render(&f.text, &ops),
            }),
            None => edits.push(Edit {
                path: dropin_path.to_string(),
                before: None,
                after: render("", &ops),
            }),
        }
    }
    edits
}

#[allow(clippy::too_many_arguments)]
fn plan_missing_input(
    files: &[ConfFile],
    proto: Proto,
    port: u16,
    host: &str,
    dropin_path: &str,
    load: &Option<(usize, Stmt, Style)>,
    incs: &[(usize, String)],
    ops: &mut BTreeMap<usize, Vec<Op>>,
) {
    let main = &files[0];
    let load_key = load
        .as_ref()
        .map(|(fi, st, _)| order_key(files, incs, *fi, st.first));
    let ci = input_cands(&main.text, proto, port, host)
        .into_iter()
        .next();
    let cm = if load.is_none() {
        module_cands(&main.text, proto).into_iter().next()
    } else {
        None
    };

    // Rule 2: revive the distribution's own lines in the main file.
    match (&ci, &cm, &load_key) {
        (Some(ci), Some(cm), _) if cm.last < ci.first => {
            let o = ops.entry(0).or_default();
            o.extend(uncomment_ops(cm));
            o.extend(uncomment_ops(ci));
            return;
        }
        (Some(ci), _, None) => {
            // The commented module is missing or sits after the input, so a
            // fresh load goes right before the input.
            let o = ops.entry(0).or_default();
            o.push(Op::InsertBefore(
                ci.first,
                vec![module_stmt(proto, ci.style)],
            ));
            o.extend(uncomment_ops(ci));
            return;
        }
        (Some(ci), _, Some(k)) if *k < (ci.first, None) => {
            ops.entry(0).or_default().extend(uncomment_ops(ci));
            return;
        }
        (None, Some(cm), _) => {
            let o = ops.entry(0).or_default();
            o.extend(uncomment_ops(cm));
            o.push(Op::InsertAfter(
                cm.last,
                vec![input_stmt(proto, port, host)],
            ));
            return;
        }
        _ => {}
    }

    let mut stmts = Vec::new();
    if load.is_none() {
        stmts.push(module_stmt(proto, Style::Rainer));
    }
    stmts.push(input_stmt(proto, port, host));

    // Rule 3: a drop-in, if the main file includes it after the module load.
    let existing = files
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, f)| f.path == dropin_path)
        .map(|(i, _)| i);
    if let Some((inc_line, _)) = incs.iter().find(|(_, p)| glob_match(p, dropin_path)) {
        let in_order = match (load, &load_key) {
            (Some((fi, _, _)), Some(k)) => {
                Some(*fi) == existing || *k < (*inc_line, Some(dropin_path.to_string()))
            }
            _ => true,
        };
        if in_order {
            match existing {
                Some(fi) => {
                    if !files[fi].text.contains(HEADER) {
                        stmts.insert(0, HEADER.to_string());
                    }
                    ops.entry(fi).or_default().push(Op::Append(stmts));
                }
                None => {
                    stmts.insert(0, HEADER.to_string());
                    ops.entry(files.len()).or_default().push(Op::Append(stmts));
                }
            }
            return;
        }
    }

    // Rule 4: the end of the main file comes after every include it makes.
    stmts.insert(0, HEADER.to_string());
    ops.entry(0).or_default().push(Op::Append(stmts));
}

// ---------------------------------------------------------------------------
// Docker's `syslog-address` option.

/// (proto, host, port) of a tcp:// or udp:// syslog-address, port 514 by
/// default; None for unix://, tcp+tls:// and anything malformed, since no
/// local plain listener can serve those.
pub fn parse_syslog_address(addr: &str) -> Option<(Proto, String, u16)> {
    let (scheme, rest) = addr.trim().split_once("://")?;
    let proto = match scheme.to_ascii_lowercase().as_str() {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        _ => return None,
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#', '@']) {
        return None;
    }
    let (host, port) = if let Some(r) = rest.strip_prefix('[') {
        let (h, after) = r.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (h, port)
    } else {
        match rest.split_once(':') {
            // Unbracketed IPv6 is ambiguous: Docker rejects it too.
            Some((_, p)) if p.contains(':') => return None,
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() || host.contains(['[', ']']) {
        return None;
    }
    let port = match port {
        None => 514,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n != 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return None,
        },
    };
    Some((proto, host.to_string(), port))
}

/// True for a host that names this machine: 127.0.0.0/8, ::1, localhost.
pub fn is_local_host(host: &str) -> bool {
    let h = host.trim();
    let h = h
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(h);
    let h = h.strip_suffix('.').unwrap_or(h);
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match h.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback(),
        Ok(IpAddr::V6(v6)) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DROPIN: &str = "/etc/rsyslog.d/60-docker-harden-input.conf";
    /// The host of the default syslog-address, which every input planned here binds.
    const LO: &str = "127.0.0.1";

    const DEBIAN: &str = r#"# /etc/rsyslog.conf configuration file for rsyslog
#
# For more information install rsyslog-doc and see
# /usr/share/doc/rsyslog-doc/html/configuration/index.html


#################
#### MODULES ####
#################

module(load="imuxsock") # provides support for local system logging
module(load="imklog")   # provides kernel logging support
#module(load="immark")  # provides --MARK-- message capability

# provides UDP syslog reception
#module(load="imudp")
#input(type="imudp" port="514")

# provides TCP syslog reception
#module(load="imtcp")
#input(type="imtcp" port="514")

###########################
#### GLOBAL DIRECTIVES ####
###########################

$FileOwner root
$FileGroup adm
$FileCreateMode 0640
$DirCreateMode 0755
$Umask 0022
$WorkDirectory /var/spool/rsyslog

$IncludeConfig /etc/rsyslog.d/*.conf

###############
#### RULES ####
###############

*.*;auth,authpriv.none		-/var/log/syslog
auth,authpriv.*			/var/log/auth.log
*.emerg				:omusrmsg:*
"#;

    const RHEL: &str = r#"# rsyslog configuration file

#### GLOBAL DIRECTIVES ####
global(workDirectory="/var/lib/rsyslog")
module(load="builtin:omfile" Template="RSYSLOG_TraditionalFileFormat")

#### MODULES ####
module(load="imuxsock"    # provides support for local system logging (e.g. via logger command)
       SysSock.Use="off") # Turn off message reception via local log socket;
module(load="imjournal"             # provides access to the systemd journal
       StateFile="imjournal.state") # File to store the position in the journal

include(file="/etc/rsyslog.d/*.conf" mode="optional")

# Provides UDP syslog reception
# for parameters see http://www.rsyslog.com/doc/imudp.html
#module(load="imudp") # needs to be done just once
#input(type="imudp" port="514")

# Provides TCP syslog reception
# for parameters see http://www.rsyslog.com/doc/imtcp.html
#module(load="imtcp") # needs to be done just once
#input(type="imtcp" port="514")

#### RULES ####
*.info;mail.none;authpriv.none;cron.none                /var/log/messages
authpriv.*                                              /var/log/secure
"#;

    const LEGACY: &str = "$ModLoad imuxsock\n$ModLoad imklog\n\n# Provides TCP syslog reception\n#$ModLoad imtcp\n#$InputTCPServerRun 514\n\n$IncludeConfig /etc/rsyslog.d/*.conf\n*.* /var/log/messages\n";

    fn cf(path: &str, text: &str) -> ConfFile {
        ConfFile {
            path: path.into(),
            text: text.into(),
        }
    }

    fn main_only(text: &str) -> Vec<ConfFile> {
        vec![cf("/etc/rsyslog.conf", text)]
    }

    fn apply(files: &[ConfFile], edits: &[Edit]) -> Vec<ConfFile> {
        let mut out = files.to_vec();
        for e in edits {
            match out.iter_mut().find(|f| f.path == e.path) {
                Some(f) => {
                    assert_eq!(e.before.as_deref(), Some(f.text.as_str()));
                    f.text = e.after.clone();
                }
                None => {
                    assert!(e.before.is_none());
                    out.push(cf(&e.path, &e.after));
                }
            }
        }
        out
    }

    fn plan_apply(files: &[ConfFile], proto: Proto, port: u16) -> Vec<ConfFile> {
        let edits = plan_listen(files, proto, port, LO, DROPIN);
        let after = apply(files, &edits);
        assert!(listens(&after, proto, port, LO), "{after:#?}");
        assert!(plan_listen(&after, proto, port, LO, DROPIN).is_empty());
        after
    }

    fn active_loads(files: &[ConfFile], proto: Proto) -> usize {
        files
            .iter()
            .map(|f| {
                statements(&lines_of(&f.text))
                    .iter()
                    .filter(|s| loads(s, proto).is_some())
                    .count()
            })
            .sum()
    }

    #[test]
    fn debian_uncomments_in_place() {
        let files = main_only(DEBIAN);
        assert!(!listens(&files, Proto::Tcp, 514, LO));
        assert_eq!(include_patterns(DEBIAN), vec!["/etc/rsyslog.d/*.conf"]);
        let edits = plan_listen(&files, Proto::Tcp, 514, LO, DROPIN);
        assert_eq!(edits.len(), 1);
        let want = DEBIAN.replace(
            "#module(load=\"imtcp\")\n#input(type=\"imtcp\" port=\"514\")",
            "module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")",
        );
        assert_eq!(edits[0].after, want);
        assert_eq!(edits[0].before.as_deref(), Some(DEBIAN));
        let after = plan_apply(&files, Proto::Tcp, 514);
        assert_eq!(
            module_loaded(&after, Proto::Tcp),
            Some(Found {
                path: "/etc/rsyslog.conf".into(),
                line: 20
            })
        );
        assert_eq!(
            input_declared(&after, Proto::Tcp, 514, LO).map(|f| f.line),
            Some(21)
        );
        // UDP stays off.
        assert!(!listens(&after, Proto::Udp, 514, LO));
    }

    #[test]
    fn debian_udp() {
        let files = main_only(DEBIAN);
        let after = plan_apply(&files, Proto::Udp, 514);
        assert!(after[0].text.contains(
            "\nmodule(load=\"imudp\")\ninput(type=\"imudp\" port=\"514\" address=\"127.0.0.1\")\n"
        ));
        assert!(after[0].text.contains("#module(load=\"imtcp\")"));
    }

    #[test]
    fn rhel_keeps_trailing_comment() {
        let files = main_only(RHEL);
        assert_eq!(include_patterns(RHEL), vec!["/etc/rsyslog.d/*.conf"]);
        let edits = plan_listen(&files, Proto::Tcp, 514, LO, DROPIN);
        let want = RHEL.replace(
            "#module(load=\"imtcp\") # needs to be done just once\n#input(type=\"imtcp\" port=\"514\")",
            "module(load=\"imtcp\") # needs to be done just once\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")",
        );
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].after, want);
        plan_apply(&files, Proto::Tcp, 514);
    }

    #[test]
    fn rhel_multiline_statements_parse() {
        let files = main_only(RHEL);
        assert!(module_loaded(&files, Proto::Tcp).is_none());
        let imjournal = statements(&lines_of(RHEL))
            .into_iter()
            .find(|s| matches!(&s.toks[0].tk, Tk::Word(w) if w == "module") && s.first == 9)
            .expect("imjournal module statement");
        assert_eq!(imjournal.last, 10);
    }

    #[test]
    fn legacy_input_gives_way_to_a_bound_rainerscript_one() {
        let files = main_only(LEGACY);
        let edits = plan_listen(&files, Proto::Tcp, 514, LO, DROPIN);
        // $InputTCPServerRun cannot name an address: it stays commented.
        assert_eq!(
            edits[0].after,
            LEGACY.replace(
                "#$ModLoad imtcp\n#$InputTCPServerRun 514",
                "$ModLoad imtcp\n#$InputTCPServerRun 514\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")"
            )
        );
        plan_apply(&files, Proto::Tcp, 514);
    }

    #[test]
    fn legacy_detection() {
        let files = main_only("$ModLoad imudp.so\n$UDPServerRun 1514\n");
        assert!(listens(&files, Proto::Udp, 1514, LO));
        assert!(!listens(&files, Proto::Udp, 514, LO));
        assert!(!listens(&files, Proto::Tcp, 1514, LO));
        let files =
            main_only("$modload /usr/lib/rsyslog/imtcp.so\n$inputtcpserverrun 514 # trailing\n");
        assert!(listens(&files, Proto::Tcp, 514, LO));
    }

    #[test]
    fn dropin_when_included_and_nothing_commented() {
        let main = "module(load=\"imuxsock\")\n$IncludeConfig /etc/rsyslog.d/*.conf\n*.* /var/log/syslog\n";
        let files = vec![
            cf("/etc/rsyslog.conf", main),
            cf("/etc/rsyslog.d/50-default.conf", "*.* /var/log/x\n"),
        ];
        let edits = plan_listen(&files, Proto::Tcp, 514, LO, DROPIN);
        assert_eq!(
            edits,
            vec![Edit {
                path: DROPIN.into(),
                before: None,
                after: format!(
                    "{HEADER}\nmodule(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n"
                ),
            }]
        );
        plan_apply(&files, Proto::Tcp, 514);
    }

    #[test]
    fn dropin_with_directory_include() {
        let files = main_only("$IncludeConfig /etc/rsyslog.d/\n");
        let edits = plan_listen(&files, Proto::Udp, 514, LO, DROPIN);
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].path, DROPIN);
    }

    #[test]
    fn append_when_no_include() {
        let main = "$FileOwner root\n*.* /var/log/x";
        let files = main_only(main);
        let edits = plan_listen(&files, Proto::Tcp, 1514, LO, DROPIN);
        assert_eq!(
            edits[0].after,
            format!(
                "{main}\n\n{HEADER}\nmodule(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"1514\" address=\"127.0.0.1\")\n"
            )
        );
        plan_apply(&files, Proto::Tcp, 1514);
    }

    #[test]
    fn include_not_matching_dropin_appends() {
        let files = main_only("include(file=\"/etc/rsyslog.d/*.rules\")\n");
        let edits = plan_listen(&files, Proto::Tcp, 514, LO, DROPIN);
        assert_eq!(edits[0].path, "/etc/rsyslog.conf");
    }

    #[test]
    fn module_in_dropin_not_loaded_again() {
        let files = vec![
            cf("/etc/rsyslog.conf", DEBIAN),
            cf(
                "/etc/rsyslog.d/10-tcp.conf",
                "module(load=\"imtcp\" MaxSessions=\"500\")\n",
            ),
        ];
        let edits = plan_listen(&files, Proto::Tcp, 514, LO, DROPIN);
        // The main file's commented input sits before the include, where
        // imtcp is not yet loaded; the drop-in comes after 10-tcp.conf.
        assert_eq!(
            edits,
            vec![Edit {
                path: DROPIN.into(),
                before: None,
                after: format!(
                    "{HEADER}\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n"
                ),
            }]
        );
        let after = plan_apply(&files, Proto::Tcp, 514);
        assert_eq!(active_loads(&after, Proto::Tcp), 1);
    }

    #[test]
    fn module_in_late_dropin_appends_to_main() {
        let main = "$IncludeConfig /etc/rsyslog.d/*.conf\n";
        let files = vec![
            cf("/etc/rsyslog.conf", main),
            cf("/etc/rsyslog.d/99-tcp.conf", "module(load=\"imtcp\")\n"),
        ];
        let edits = plan_listen(&files, Proto::Tcp, 514, LO, DROPIN);
        assert_eq!(edits.len(), 1);
        assert_eq!(
            edits[0].after,
            format!("{main}\n{HEADER}\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n")
        );
        let after = plan_apply(&files, Proto::Tcp, 514);
        assert_eq!(active_loads(&after, Proto::Tcp), 1);
    }

    #[test]
    fn module_loaded_early_in_main_uncomments_input_only() {
        let text = "module(load=\"imtcp\")\n# input\n#input(type=\"imtcp\" port=\"514\")\n";
        let edits = plan_listen(&main_only(text), Proto::Tcp, 514, LO, DROPIN);
        assert_eq!(
            edits[0].after,
            "module(load=\"imtcp\")\n# input\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n"
        );
    }

    #[test]
    fn already_listening_no_edit() {
        let text = DEBIAN.replace(
            "#module(load=\"imtcp\")\n#input",
            "module(load=\"imtcp\")\ninput",
        );
        assert!(listens(&main_only(&text), Proto::Tcp, 514, LO));
        assert!(plan_listen(&main_only(&text), Proto::Tcp, 514, LO, DROPIN).is_empty());
        let split = vec![
            cf(
                "/etc/rsyslog.conf",
                "module(load=\"imtcp\")\n$IncludeConfig /etc/rsyslog.d/*.conf\n",
            ),
            cf(
                "/etc/rsyslog.d/a.conf",
                "input(\n  type=\"imtcp\"\n  port=\"514\"\n)\n",
            ),
        ];
        assert!(plan_listen(&split, Proto::Tcp, 514, LO, DROPIN).is_empty());
        assert_eq!(
            input_declared(&split, Proto::Tcp, 514, LO),
            Some(Found {
                path: "/etc/rsyslog.d/a.conf".into(),
                line: 1
            })
        );
    }

    #[test]
    fn different_commented_port_is_rewritten() {
        let text = "#module(load=\"imtcp\")\n#input(type=\"imtcp\" port=\"10514\") # keep\n";
        let edits = plan_listen(&main_only(text), Proto::Tcp, 514, LO, DROPIN);
        assert_eq!(
            edits[0].after,
            "module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\") # keep\n"
        );
        let legacy = "#$ModLoad imudp\n#$UDPServerRun 10514\n";
        let edits = plan_listen(&main_only(legacy), Proto::Udp, 1514, LO, DROPIN);
        assert_eq!(
            edits[0].after,
            "$ModLoad imudp\n#$UDPServerRun 10514\ninput(type=\"imudp\" port=\"1514\" address=\"127.0.0.1\")\n"
        );
    }

    #[test]
    fn exact_port_preferred_over_other_port() {
        let text = "#module(load=\"imtcp\")\n#input(type=\"imtcp\" port=\"10514\")\n#input(type=\"imtcp\" port=\"514\")\n";
        let edits = plan_listen(&main_only(text), Proto::Tcp, 514, LO, DROPIN);
        assert_eq!(
            edits[0].after,
            "module(load=\"imtcp\")\n#input(type=\"imtcp\" port=\"10514\")\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n"
        );
    }

    #[test]
    fn only_module_commented_adds_input_after_it() {
        let text = "# tcp\n#module(load=\"imtcp\")\n*.* /var/log/x\n";
        let edits = plan_listen(&main_only(text), Proto::Tcp, 514, LO, DROPIN);
        assert_eq!(
            edits[0].after,
            "# tcp\nmodule(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n*.* /var/log/x\n"
        );
        let legacy = "#$ModLoad imtcp\n";
        let edits = plan_listen(&main_only(legacy), Proto::Tcp, 514, LO, DROPIN);
        assert_eq!(
            edits[0].after,
            "$ModLoad imtcp\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n"
        );
    }

    #[test]
    fn only_input_commented_adds_module_before_it() {
        let text = "*.* /var/log/x\n#input(type=\"imtcp\" port=\"514\")\n";
        let edits = plan_listen(&main_only(text), Proto::Tcp, 514, LO, DROPIN);
        assert_eq!(
            edits[0].after,
            "*.* /var/log/x\nmodule(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n"
        );
    }

    #[test]
    fn active_input_without_module_gets_module_before_it() {
        let files = vec![
            cf(
                "/etc/rsyslog.conf",
                "$IncludeConfig /etc/rsyslog.d/*.conf\n",
            ),
            cf(
                "/etc/rsyslog.d/a.conf",
                "# x\r\ninput(type=\"imudp\" port=\"514\")\r\n",
            ),
        ];
        let edits = plan_listen(&files, Proto::Udp, 514, LO, DROPIN);
        assert_eq!(edits.len(), 1);
        assert_eq!(
            edits[0].after,
            "# x\r\nmodule(load=\"imudp\")\r\ninput(type=\"imudp\" port=\"514\" address=\"127.0.0.1\")\r\n"
        );
        plan_apply(&files, Proto::Udp, 514);
    }

    #[test]
    fn multiline_commented_module() {
        let text = "#module(load=\"imtcp\"\n#  MaxSessions=\"500\")\n#input(type=\"imtcp\" port=\"514\")\n";
        let edits = plan_listen(&main_only(text), Proto::Tcp, 514, LO, DROPIN);
        assert_eq!(
            edits[0].after,
            // Only the `#` and one space go, so indentation shrinks by one.
            "module(load=\"imtcp\"\n MaxSessions=\"500\")\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n"
        );
    }

    #[test]
    fn hash_inside_quotes_is_not_a_comment() {
        let text =
            "template(name=\"t\" type=\"string\" string=\"#%msg%\") module(load=\"imtcp\")\n";
        assert!(module_loaded(&main_only(text), Proto::Tcp).is_some());
        let text =
            "template(name=\"t\" type=\"string\"\n string=\"a\n#b)\") module(load=\"imtcp\")\n";
        assert_eq!(
            module_loaded(&main_only(text), Proto::Tcp).map(|f| f.line),
            Some(3)
        );
    }

    #[test]
    fn prose_comments_are_not_uncommented() {
        let text = "# provides TCP syslog reception (see module(load=\"imtcp\"))\n";
        let edits = plan_listen(&main_only(text), Proto::Tcp, 514, LO, DROPIN);
        assert!(edits[0].after.starts_with(text));
        assert!(edits[0].after.contains(HEADER));
    }

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

    #[test]
    fn syslog_address() {
        assert_eq!(
            parse_syslog_address("tcp://127.0.0.1:514"),
            Some((Proto::Tcp, "127.0.0.1".into(), 514))
        );
        assert_eq!(
            parse_syslog_address("udp://host:1514"),
            Some((Proto::Udp, "host".into(), 1514))
        );
        assert_eq!(
            parse_syslog_address("tcp://[::1]:514"),
            Some((Proto::Tcp, "::1".into(), 514))
        );
        assert_eq!(
            parse_syslog_address("udp://[::1]"),
            Some((Proto::Udp, "::1".into(), 514))
        );
        assert_eq!(
            parse_syslog_address("tcp://localhost"),
            Some((Proto::Tcp, "localhost".into(), 514))
        );
        assert_eq!(parse_syslog_address("unix:///dev/log"), None);
        assert_eq!(parse_syslog_address("tcp+tls://127.0.0.1:6514"), None);
        assert_eq!(parse_syslog_address("tcp://127.0.0.1:99999"), None);
        assert_eq!(parse_syslog_address("tcp://:514"), None);
        assert_eq!(parse_syslog_address("tcp://::1"), None);
        assert_eq!(parse_syslog_address("127.0.0.1:514"), None);
    }

    #[test]
    fn local_hosts() {
        for h in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
            "localhost",
            "LOCALHOST.",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_local_host(h), "{h}");
        }
        for h in [
            "10.0.0.1",
            "128.0.0.1",
            "example.com",
            "",
            "::2",
            "localhost.example.com",
        ] {
            assert!(!is_local_host(h), "{h}");
        }
    }

    fn binds(text: &str, proto: Proto, port: u16) -> Vec<Bind> {
        inputs(&main_only(text), proto, port)
            .into_iter()
            .map(|i| i.bind)
            .collect()
    }

    #[test]
    fn what_an_input_binds() {
        let only = |a: &str| Bind::Only(a.into());
        let text = "module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"514\")\ninput(type=\"imtcp\" port=\"514\" address=\"*\")\ninput(type=\"imtcp\" port=\"514\" Address=\"0.0.0.0\")\ninput(type=\"imtcp\" port=\"514\" address=\"[::]\")\ninput(type=\"imtcp\" port=\"514\" address=\"\")\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\ninput(type=\"imtcp\"\n  address=\"::1\"\n  port=\"514\")\ninput(type=\"imtcp\" port=\"1514\" address=\"10.0.0.5\")\n$InputTCPServerRun 514\n";
        assert_eq!(
            binds(text, Proto::Tcp, 514),
            vec![
                Bind::Every,
                Bind::Every,
                Bind::Every,
                Bind::Every,
                Bind::Every,
                only("127.0.0.1"),
                only("::1"),
                // imtcp's legacy directives cannot name an address.
                Bind::Every,
            ]
        );
        assert_eq!(binds(text, Proto::Tcp, 1514), vec![only("10.0.0.5")]);
        let legacy_udp =
            "$ModLoad imudp\n$UDPServerRun 514\n$UDPServerAddress 127.0.0.1\n$UDPServerRun 1514\n";
        assert_eq!(binds(legacy_udp, Proto::Udp, 514), vec![Bind::Every]);
        assert_eq!(binds(legacy_udp, Proto::Udp, 1514), vec![only("127.0.0.1")]);
    }

    #[test]
    fn which_bind_serves_which_host() {
        let only = |a: &str| Bind::Only(a.into());
        assert!(Bind::Every.serves("127.0.0.1"));
        assert!(only("127.0.0.1").serves("127.0.0.1"));
        assert!(only("127.0.0.1").serves("::ffff:127.0.0.1"));
        assert!(!only("127.0.0.1").serves("::1"));
        assert!(!only("127.0.0.1").serves("127.0.0.2"));
        assert!(only("::1").serves("[::1]"));
        assert!(only("0:0:0:0:0:0:0:1").serves("::1"));
        assert!(only("localhost").serves("127.0.0.1"));
        assert!(only("LOCALHOST.").serves("::1"));
        assert!(only("127.0.0.1").serves("localhost"));
        assert!(!only("10.0.0.5").serves("localhost"));
        assert!(!only("10.0.0.5").serves("127.0.0.1"));
        assert_eq!(bind_address("[::1]"), "::1");
        assert_eq!(bind_address("::ffff:127.0.0.1"), "127.0.0.1");
        assert_eq!(bind_address("LocalHost."), "localhost");
    }

    #[test]
    fn ipv6_loopback_binds_ipv6() {
        let files = main_only(DEBIAN);
        let edits = plan_listen(&files, Proto::Tcp, 514, "[::1]", DROPIN);
        assert!(
            edits[0]
                .after
                .contains("\ninput(type=\"imtcp\" port=\"514\" address=\"::1\")\n"),
            "{}",
            edits[0].after
        );
        let after = apply(&files, &edits);
        assert!(listens(&after, Proto::Tcp, 514, "::1"));
        assert!(!listens(&after, Proto::Tcp, 514, "127.0.0.1"));
    }

    #[test]
    fn commented_wildcard_address_is_rewritten() {
        let text =
            "#module(load=\"imtcp\")\n#input(type=\"imtcp\" address=\"0.0.0.0\" port=\"10514\")\n";
        let edits = plan_listen(&main_only(text), Proto::Tcp, 514, LO, DROPIN);
        assert_eq!(
            edits[0].after,
            "module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"514\")\n"
        );
    }

    #[test]
    fn input_bound_elsewhere_gets_one_of_its_own() {
        // The operator's input for the network stays; dockerd gets its own on loopback.
        let text =
            "module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"514\" address=\"10.0.0.5\")\n";
        assert!(!listens(&main_only(text), Proto::Tcp, 514, LO));
        let edits = plan_listen(&main_only(text), Proto::Tcp, 514, LO, DROPIN);
        assert_eq!(
            edits[0].after,
            format!("{text}\n{HEADER}\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n")
        );
    }

    #[test]
    fn an_inert_wide_input_is_bound_when_its_module_is_loaded() {
        let files = vec![
            cf(
                "/etc/rsyslog.conf",
                "$IncludeConfig /etc/rsyslog.d/*.conf\n",
            ),
            cf("/etc/rsyslog.d/a.conf", "$InputTCPServerRun 514 # old\n"),
        ];
        let edits = plan_listen(&files, Proto::Tcp, 514, LO, DROPIN);
        assert_eq!(
            edits[0].after,
            "$ModLoad imtcp\n#$InputTCPServerRun 514 # old\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n"
        );
        plan_apply(&files, Proto::Tcp, 514);
    }

    #[test]
    fn loading_the_module_would_wake_other_inputs() {
        let text = "input(type=\"imtcp\" port=\"514\")\ninput(type=\"imtcp\" port=\"6514\")\n";
        let woken = woken_by_load(&main_only(text), Proto::Tcp, 514, LO);
        assert_eq!(woken.len(), 1);
        assert_eq!(woken[0].at.line, 2);
        assert_eq!(woken[0].bind, Bind::Every);
        let loaded = format!("module(load=\"imtcp\")\n{text}");
        assert!(woken_by_load(&main_only(&loaded), Proto::Tcp, 514, LO).is_empty());
    }

    #[test]
    fn narrowing_binds_rainerscript_in_place_and_replaces_legacy() {
        let text = "module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"514\") # as Debian ships it\ninput(type=\"imtcp\"\n      port=\"514\"\n      address=\"*\")\ninput(type=\"imtcp\" port=\"514\" address=0.0.0.0)\n$ModLoad imudp\n";
        let files = main_only(text);
        let wide = inputs(&files, Proto::Tcp, 514);
        assert_eq!(wide.len(), 3);
        let edits = plan_narrow(&files, Proto::Tcp, 514, LO, &wide);
        assert_eq!(
            edits[0].after,
            "module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\") # as Debian ships it\ninput(type=\"imtcp\"\n      port=\"514\"\n      address=\"127.0.0.1\")\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n$ModLoad imudp\n"
        );
        // Only the targets change.
        let first = &wide[..1];
        let edits = plan_narrow(&files, Proto::Tcp, 514, LO, first);
        assert_eq!(
            inputs(&apply(&files, &edits), Proto::Tcp, 514)
                .iter()
                .filter(|i| i.bind == Bind::Every)
                .count(),
            2
        );
        let legacy = LEGACY.replace(
            "#$ModLoad imtcp\n#$InputTCPServerRun 514",
            "$ModLoad imtcp\n$InputTCPServerRun 514",
        );
        let files = main_only(&legacy);
        let wide = inputs(&files, Proto::Tcp, 514);
        assert!(wide[0].legacy);
        let after = apply(&files, &plan_narrow(&files, Proto::Tcp, 514, LO, &wide));
        assert_eq!(
            after[0].text,
            LEGACY.replace(
                "#$ModLoad imtcp\n#$InputTCPServerRun 514",
                "$ModLoad imtcp\n#$InputTCPServerRun 514\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")"
            )
        );
        assert!(listens(&after, Proto::Tcp, 514, LO));
        assert!(
            inputs(&after, Proto::Tcp, 514)
                .iter()
                .all(|i| i.bind != Bind::Every)
        );
    }

    #[test]
    fn inputs_a_change_started_and_own_blocks() {
        let wide = "input(type=\"imtcp\" port=\"514\")";
        let before = format!("module(load=\"imtcp\")\n#{wide}\n");
        let after = format!("module(load=\"imtcp\")\n{wide} # uncommented\n");
        let started = inputs_started(Some(&before), &after, Proto::Tcp, 514);
        assert_eq!(started.len(), 1);
        // Layout and comments aside, the same statement.
        let now = main_only("module(load=\"imtcp\")\ninput( type=\"imtcp\"  port=\"514\" )\n");
        assert_eq!(inputs(&now, Proto::Tcp, 514)[0].key, started[0]);
        assert!(inputs_started(Some(&after), &after, Proto::Tcp, 514).is_empty());
        assert_eq!(inputs_started(None, &after, Proto::Tcp, 514), started);

        let block = format!("*.* /var/log/x\n\n{HEADER}\nmodule(load=\"imtcp\")\n{wide}\n");
        assert!(in_own_block(&block, 5));
        assert!(in_own_block(&block, 4));
        assert!(!in_own_block(&block, 1));
        let block = format!("{HEADER}\n{wide}\n");
        assert!(in_own_block(&block, 2));
        assert!(!in_own_block(&format!("# mine\n{wide}\n"), 2));
        assert!(!in_own_block(&format!("{HEADER}\n*.* /x\n{wide}\n"), 3));
    }

    #[test]
    fn no_files_no_edits() {
        assert!(plan_listen(&[], Proto::Tcp, 514, LO, DROPIN).is_empty());
        assert!(!listens(&[], Proto::Tcp, 514, LO));
    }

    // ---------------- property tests ----------------

    fn unrelated_line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("*.* /var/log/x".to_string()),
            Just("# a comment".to_string()),
            Just("#".to_string()),
            Just("$FileOwner root".to_string()),
            Just(String::new()),
            Just("   ".to_string()),
            Just("auth,authpriv.*\t/var/log/auth.log".to_string()),
            Just("module(load=\"imuxsock\")".to_string()),
            Just("# provides TCP syslog reception (see docs)".to_string()),
            Just("template(name=\"t\" type=\"string\" string=\"%msg% # x\\n\")".to_string()),
            "[a-z#$ ]{0,12}".prop_map(|s| s.replace('$', "$x")),
        ]
    }

    fn commented_block() -> impl Strategy<Value = Vec<String>> {
        prop_oneof![
            Just(vec![]),
            Just(vec![
                "#module(load=\"imtcp\")".into(),
                "#input(type=\"imtcp\" port=\"514\")".into()
            ]),
            Just(vec![
                "#module(load=\"imudp\")".into(),
                "#input(type=\"imudp\" port=\"514\")".into()
            ]),
            Just(vec![
                "#module(load=\"imtcp\") # needs to be done just once".into(),
                "#input(type=\"imtcp\" port=\"514\")".into()
            ]),
            Just(vec![
                "#$ModLoad imtcp".into(),
                "#$InputTCPServerRun 514".into()
            ]),
            Just(vec!["#module(load=\"imtcp\")".into()]),
            Just(vec!["# input(type=\"imtcp\" port=\"514\")".into()]),
            Just(vec!["#$UDPServerRun 514".into()]),
        ]
    }

    fn dropin_text() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("*.* /var/log/y\n".to_string()),
            Just("module(load=\"imtcp\")\n".to_string()),
            Just("module(load=\"imudp\")\n".to_string()),
            Just("input(type=\"imtcp\" port=\"514\")\n".to_string()),
            Just("$ModLoad imudp\n".to_string()),
            Just("$UDPServerRun 514".to_string()),
        ]
    }

    prop_compose! {
        fn scenario()(
            head in prop::collection::vec(unrelated_line(), 0..6),
            block in commented_block(),
            mid in prop::collection::vec(unrelated_line(), 0..4),
            include in prop_oneof![
                Just(None),
                Just(Some("$IncludeConfig /etc/rsyslog.d/*.conf")),
                Just(Some("include(file=\"/etc/rsyslog.d/*.conf\" mode=\"optional\")")),
                Just(Some("$IncludeConfig /etc/other/*.conf")),
            ],
            include_first in any::<bool>(),
            tail in prop::collection::vec(unrelated_line(), 0..4),
            trailing_nl in any::<bool>(),
            dropins in prop::collection::vec((0u8..100, dropin_text()), 0..3),
            udp in any::<bool>(),
        ) -> (Vec<ConfFile>, Proto) {
            let mut lines: Vec<String> = head;
            if include_first { lines.extend(include.map(String::from)); }
            lines.extend(block);
            lines.extend(mid);
            if !include_first { lines.extend(include.map(String::from)); }
            lines.extend(tail);
            let mut text = lines.join("\n");
            if trailing_nl { text.push('\n'); }
            let mut files = vec![cf("/etc/rsyslog.conf", &text)];
            let mut seen = std::collections::HashSet::new();
            for (n, t) in dropins {
                // At most one file loads each module, as a valid config has.
                let loads_t = active_loads(&[cf("x", &t)], Proto::Tcp) + active_loads(&files, Proto::Tcp);
                let loads_u = active_loads(&[cf("x", &t)], Proto::Udp) + active_loads(&files, Proto::Udp);
                if seen.insert(n) && loads_t <= 1 && loads_u <= 1 {
                    files.push(cf(&format!("/etc/rsyslog.d/{n:02}-x.conf"), &t));
                }
            }
            (files, if udp { Proto::Udp } else { Proto::Tcp })
        }
    }

    /// Original lines survive in order, either verbatim, uncommented (with
    /// the port rewritten when the commented input named another one, and an
    /// input bound to LO), or commented out (an input that listened on every
    /// interface, which gives way to its bound RainerScript form).
    fn kept_in_order(before: &str, after: &str, port: u16) -> bool {
        let new: Vec<String> = lines_of(after)
            .iter()
            .map(|l| l.replace(&format!(" address=\"{LO}\""), ""))
            .collect();
        let mut j = 0;
        for old in lines_of(before) {
            let unc = split_comment(old).map(|(i, r)| format!("{i}{r}"));
            let moved = unc.as_ref().map(|u| u.replace("514", &port.to_string()));
            let commented = format!("#{old}");
            while j < new.len()
                && new[j] != old
                && Some(&new[j]) != unc.as_ref()
                && Some(&new[j]) != moved.as_ref()
                && new[j] != commented
            {
                j += 1;
            }
            if j == new.len() {
                return false;
            }
            j += 1;
        }
        true
    }

    proptest! {
        #[test]
        fn plan_makes_listen_idempotent_and_minimal((files, proto) in scenario(), port in prop_oneof![Just(514u16), 1u16..]) {
            let loads_before = active_loads(&files, proto);
            let edits = plan_listen(&files, proto, port, LO, DROPIN);
            let after = apply(&files, &edits);
            prop_assert!(listens(&after, proto, port, LO), "{:#?}", after);
            prop_assert!(plan_listen(&after, proto, port, LO, DROPIN).is_empty());
            for f in &files {
                let new = &after.iter().find(|g| g.path == f.path).unwrap().text;
                prop_assert!(kept_in_order(&f.text, new, port), "{}\n---\n{}", f.text, new);
            }
            prop_assert!(active_loads(&after, proto) <= 1.max(loads_before));
            prop_assert!(active_loads(&after, proto) <= 1);
            let other = if proto == Proto::Tcp { Proto::Udp } else { Proto::Tcp };
            prop_assert_eq!(active_loads(&after, other), active_loads(&files, other));
            // Nothing listens on every interface on the port that did not before: with the
            // module loaded already, the same inputs; without it, none at all. (Where loading
            // the module would wake other inputs, the caller refuses the plan.)
            let refused = !woken_by_load(&files, proto, port, LO).is_empty();
            let wide = |fs: &[ConfFile]| -> Vec<String> {
                if module_loaded(fs, proto).is_none() {
                    return Vec::new();
                }
                inputs(fs, proto, port).into_iter().filter(|i| i.bind == Bind::Every).map(|i| i.key).collect()
            };
            let (wide_before, wide_after) = (wide(&files), wide(&after));
            prop_assert!(refused || wide_after.iter().all(|k| wide_before.contains(k)), "{:#?}", after);
            // The input that serves LO is one that binds it, unless a wide one served already.
            let serving = inputs(&after, proto, port).into_iter().find(|i| i.bind.serves(LO)).unwrap();
            prop_assert!(serving.bind == Bind::Only(LO.into()) || !wide_before.is_empty(), "{:#?}", after);
        }

        #[test]
        fn no_panic_on_arbitrary_text(text in "\\PC{0,200}", extra in "[#$()\"'=\\[\\] a-z0-9\n\\\\]{0,200}") {
            let files = vec![cf("/etc/rsyslog.conf", &text), cf("/etc/rsyslog.d/a.conf", &extra)];
            for proto in [Proto::Tcp, Proto::Udp] {
                let _ = listens(&files, proto, 514, LO);
                let _ = plan_listen(&files, proto, 514, LO, DROPIN);
                let _ = plan_listen(&[cf("/etc/rsyslog.conf", &extra)], proto, 514, LO, DROPIN);
            }
            let _ = include_patterns(&extra);
            let _ = parse_syslog_address(&text);
            let _ = is_local_host(&text);
        }

        #[test]
        fn address_roundtrip(udp in any::<bool>(), a in any::<[u8; 4]>(), port in 1u16..) {
            let host = format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]);
            let scheme = if udp { "udp" } else { "tcp" };
            let (p, h, n) = parse_syslog_address(&format!("{scheme}://{host}:{port}")).unwrap();
            prop_assert_eq!(p, if udp { Proto::Udp } else { Proto::Tcp });
            prop_assert_eq!(n, port);
            prop_assert_eq!(is_local_host(&h), a[0] == 127);
        }
    }
}
