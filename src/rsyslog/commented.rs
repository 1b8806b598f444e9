//! Commented-out statements that can be revived in place.

use super::edit::Op;
use super::lexer::{Stmt, Tk, lines_of, statements};
use super::narrow::{address_splices, splice};
use super::proto::Proto;
use super::statement::{Style, as_object, input_ports, loads, port_is};
use super::written::input_stmt;

#[derive(Debug, Clone)]
pub(super) struct Cand {
    pub(super) first: usize,
    pub(super) last: usize,
    /// Replacement text for each line first..=last.
    pub(super) new_lines: Vec<String>,
    pub(super) style: Style,
    pub(super) exact_port: bool,
    /// A statement to add after the lines, which then stay commented (a legacy input, which
    /// cannot bind an address, gives way to its RainerScript form).
    pub(super) instead: Option<String>,
}

/// Splits `  # rest` into ("  ", "rest"): only the `#` and one space go, so
/// indentation and trailing comments survive.
pub(super) fn split_comment(line: &str) -> Option<(&str, &str)> {
    let trimmed = line.trim_start();
    let rest = trimmed.strip_prefix('#')?;
    let indent = &line[..line.len() - trimmed.len()];
    Some((indent, rest.strip_prefix(' ').unwrap_or(rest)))
}

/// A statement spanning more comment lines than this is not a distribution
/// default; the cap also keeps the scan linear on huge comment blocks.
pub(super) const MAX_STMT_LINES: usize = 32;

pub(super) fn commented_cands(
    text: &str,
    pick: impl Fn(&Stmt, &[&str]) -> Option<Cand>,
) -> Vec<Cand> {
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

pub(super) fn module_cands(text: &str, proto: Proto) -> Vec<Cand> {
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
pub(super) fn input_cands(text: &str, proto: Proto, port: u16, host: &str) -> Vec<Cand> {
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

pub(super) fn uncomment_ops(c: &Cand) -> Vec<Op> {
    if let Some(stmt) = &c.instead {
        return vec![Op::InsertAfter(c.last, vec![stmt.clone()])];
    }
    c.new_lines
        .iter()
        .enumerate()
        .map(|(k, s)| Op::Replace(c.first + k, s.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::rsyslog::fixtures::*;
    use crate::rsyslog::proto::Proto;
    use crate::rsyslog::written::HEADER;

    #[test]
    fn multiline_commented_module() {
        let text = "#module(load=\"imtcp\"\n#  MaxSessions=\"500\")\n#input(type=\"imtcp\" port=\"514\")\n";
        assert_eq!(
            planned(text, Proto::Tcp, 514),
            // Only the `#` and one space go, so indentation shrinks by one.
            "module(load=\"imtcp\"\n MaxSessions=\"500\")\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n"
        );
    }

    #[test]
    fn prose_comments_are_not_uncommented() {
        let text = "# provides TCP syslog reception (see module(load=\"imtcp\"))\n";
        let edits = plan_lo(&main_only(text), Proto::Tcp, 514);
        assert!(edits[0].after.starts_with(text));
        assert!(edits[0].after.contains(HEADER));
    }

    #[test]
    fn different_commented_port_is_rewritten() {
        let text = "#module(load=\"imtcp\")\n#input(type=\"imtcp\" port=\"10514\") # keep\n";
        assert_eq!(
            planned(text, Proto::Tcp, 514),
            "module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\") # keep\n"
        );
        let legacy = "#$ModLoad imudp\n#$UDPServerRun 10514\n";
        assert_eq!(
            planned(legacy, Proto::Udp, 1514),
            "$ModLoad imudp\n#$UDPServerRun 10514\ninput(type=\"imudp\" port=\"1514\" address=\"127.0.0.1\")\n"
        );
    }

    #[test]
    fn exact_port_preferred_over_other_port() {
        let text = "#module(load=\"imtcp\")\n#input(type=\"imtcp\" port=\"10514\")\n#input(type=\"imtcp\" port=\"514\")\n";
        assert_eq!(
            planned(text, Proto::Tcp, 514),
            "module(load=\"imtcp\")\n#input(type=\"imtcp\" port=\"10514\")\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n"
        );
    }

    #[test]
    fn commented_wildcard_address_is_rewritten() {
        let text =
            "#module(load=\"imtcp\")\n#input(type=\"imtcp\" address=\"0.0.0.0\" port=\"10514\")\n";
        assert_eq!(
            planned(text, Proto::Tcp, 514),
            "module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"514\")\n"
        );
    }
}
