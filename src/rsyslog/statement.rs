//! What a statement says: a RainerScript object or a legacy `$Directive`, a module load, an
//! input and its ports.

use super::lexer::{Stmt, Tk, Token};
use super::proto::Proto;

#[derive(Debug, Clone)]
pub(super) struct Val {
    pub(super) text: String,
    pub(super) line: usize,
    pub(super) span: Option<(usize, usize)>,
}

pub(super) fn tok_val(t: &Token) -> Option<Val> {
    match &t.tk {
        Tk::Word(s) | Tk::Str(s) => Some(Val {
            text: s.clone(),
            line: t.line,
            span: t.span,
        }),
        Tk::Punct(_) => None,
    }
}

pub(super) type Params = Vec<(String, Vec<Val>)>;

/// `name(key=value ...)`: returns the lowercased name and its parameters.
pub(super) fn as_object(st: &Stmt) -> Option<(String, Params)> {
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
pub(super) fn as_legacy(st: &Stmt) -> Option<(String, Vec<Val>)> {
    match &st.toks.first()?.tk {
        Tk::Word(w) if w.starts_with('$') => Some((
            w.to_ascii_lowercase(),
            st.toks[1..].iter().filter_map(tok_val).collect(),
        )),
        _ => None,
    }
}

pub(super) fn param<'a>(params: &'a [(String, Vec<Val>)], key: &str) -> Option<&'a [Val]> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_slice())
}

/// `imtcp`, `imtcp.so` and `/usr/lib/rsyslog/imtcp.so` all name one module.
pub(super) fn module_name(s: &str) -> String {
    let base = s.trim().rsplit('/').next().unwrap_or("");
    base.strip_suffix(".so")
        .unwrap_or(base)
        .to_ascii_lowercase()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Rainer,
    Legacy,
}

pub(super) fn loads(st: &Stmt, proto: Proto) -> Option<Style> {
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
pub(super) fn input_ports(st: &Stmt, proto: Proto) -> Option<(Style, Vec<Val>)> {
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

pub(super) fn port_is(v: &Val, port: u16) -> bool {
    v.text.trim().parse::<u16>() == Ok(port)
}
