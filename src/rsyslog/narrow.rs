//! Binding an input that listens on every interface to one address, in place.

use std::collections::BTreeMap;

use super::bind::{Bind, bind_address};
use super::config::{ConfFile, found};
use super::edit::{Edit, Op, edits_of};
use super::inputs::{Active, Input, active_inputs, on_port};
use super::lexer::{Stmt, Tk, lines_of};
use super::proto::Proto;
use super::statement::{Style, as_object, param};
use super::written::input_stmt;

/// A replacement of a byte range of one line: (line, (start, end), text).
pub(super) type Splice = (usize, (usize, usize), String);

/// (line, byte range, replacement) that bind a RainerScript object to `host`: its `address`
/// value rewritten, or ` address="HOST"` put before its closing parenthesis. None when the
/// value cannot be rewritten in place (a string spanning lines).
pub(super) fn address_splices(st: &Stmt, host: &str) -> Option<Vec<Splice>> {
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
pub(super) fn splice(lines: &mut [String], first: usize, mut splices: Vec<Splice>) -> Option<()> {
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
pub(super) fn narrow_ops(
    lines: &[&str],
    a: &Active,
    proto: Proto,
    port: u16,
    host: &str,
) -> Vec<Op> {
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

/// Binds each input in `targets` (found by `inputs`; each must listen on every interface) to
/// `host`, in place: for the inputs docker-harden itself started, which it must narrow. The
/// caller decides which those are.
pub(crate) fn plan_narrow(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rsyslog::bind::Bind;
    use crate::rsyslog::fixtures::*;
    use crate::rsyslog::inputs::{inputs, listens};
    use crate::rsyslog::proto::Proto;

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
    fn an_inert_wide_input_is_bound_when_its_module_is_loaded() {
        let files = vec![
            cf(
                "/etc/rsyslog.conf",
                "$IncludeConfig /etc/rsyslog.d/*.conf\n",
            ),
            cf("/etc/rsyslog.d/a.conf", "$InputTCPServerRun 514 # old\n"),
        ];
        let edits = plan_lo(&files, Proto::Tcp, 514);
        assert_eq!(
            edits[0].after,
            "$ModLoad imtcp\n#$InputTCPServerRun 514 # old\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n"
        );
        plan_apply(&files, Proto::Tcp, 514);
    }
}
