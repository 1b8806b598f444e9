//! Where inputs listen: the active input statements, what they bind, and which a change started.

use super::bind::Bind;
use super::config::{ConfFile, Found, find_stmt, found};
use super::lexer::{Stmt, Tk, lines_of, statements};
use super::proto::Proto;
use super::statement::{Style, Val, as_legacy, as_object, input_ports, loads, param, port_is};
use super::written::HEADER;

/// Where the module for `proto` is loaded (active statement, any file), if anywhere.
pub(crate) fn module_loaded(files: &[ConfFile], proto: Proto) -> Option<Found> {
    find_stmt(files, |st| loads(st, proto)).map(|(fi, st, _)| found(files, fi, &st))
}

/// An active input statement on one port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Input {
    pub(crate) at: Found,
    pub(crate) bind: Bind,
    /// `$InputTCPServerRun` or `$UDPServerRun`: narrowed by replacing it with the
    /// RainerScript form, as imtcp's legacy directives cannot name an address.
    pub(crate) legacy: bool,
    /// Its tokens without layout or comments: the same statement across versions of a file.
    pub(crate) key: String,
}

#[derive(Debug, Clone)]
pub(super) struct Active {
    pub(super) fi: usize,
    pub(super) st: Stmt,
    pub(super) style: Style,
    pub(super) ports: Vec<Val>,
    pub(super) bind: Bind,
}

pub(super) fn stmt_key(st: &Stmt) -> String {
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
pub(super) fn active_inputs(files: &[ConfFile], proto: Proto) -> Vec<Active> {
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

pub(super) fn on_port(a: &Active, port: u16) -> bool {
    a.ports.iter().any(|v| port_is(v, port))
}

/// The first active input on proto/port that a client of `host` reaches.
pub(super) fn find_input(
    files: &[ConfFile],
    proto: Proto,
    port: u16,
    host: &str,
) -> Option<Active> {
    active_inputs(files, proto)
        .into_iter()
        .find(|a| on_port(a, port) && a.bind.serves(host))
}

pub(super) fn input_of(files: &[ConfFile], a: &Active) -> Input {
    Input {
        at: found(files, a.fi, &a.st),
        bind: a.bind.clone(),
        legacy: a.style == Style::Legacy,
        key: stmt_key(&a.st),
    }
}

/// Every active input on proto/port, whatever it binds.
pub(crate) fn inputs(files: &[ConfFile], proto: Proto, port: u16) -> Vec<Input> {
    active_inputs(files, proto)
        .iter()
        .filter(|a| on_port(a, port))
        .map(|a| input_of(files, a))
        .collect()
}

/// Where an active input on proto/port that a client of `host` reaches is declared, new or
/// legacy syntax, if anywhere.
pub(crate) fn input_declared(
    files: &[ConfFile],
    proto: Proto,
    port: u16,
    host: &str,
) -> Option<Found> {
    find_input(files, proto, port, host).map(|a| found(files, a.fi, &a.st))
}

/// Module loaded and an input that a client of `host` reaches declared, both active.
pub(crate) fn listens(files: &[ConfFile], proto: Proto, port: u16, host: &str) -> bool {
    module_loaded(files, proto).is_some() && input_declared(files, proto, port, host).is_some()
}

/// Inputs rsyslog does not run now because their module is not loaded, which loading it for
/// proto/port would start besides the one that serves `host`: a plan that loads the module
/// must not start listeners nobody asked docker-harden for.
pub(crate) fn woken_by_load(files: &[ConfFile], proto: Proto, port: u16, host: &str) -> Vec<Input> {
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
pub(crate) fn inputs_started(
    before: Option<&str>,
    after: &str,
    proto: Proto,
    port: u16,
) -> Vec<String> {
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
pub(crate) fn in_own_block(text: &str, line: usize) -> bool {
    let lines = lines_of(text);
    let at = |k: Option<usize>| k.and_then(|k| lines.get(k)).map(|l| l.trim());
    let idx = line.checked_sub(1);
    let above = idx.and_then(|i| i.checked_sub(1));
    let two_above = above.and_then(|i| i.checked_sub(1));
    at(above) == Some(HEADER)
        || (at(two_above) == Some(HEADER)
            && at(above).is_some_and(|l| l.starts_with("module(load=")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rsyslog::bind::Bind;
    use crate::rsyslog::fixtures::*;
    use crate::rsyslog::proto::Proto;
    use crate::rsyslog::written::HEADER;

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
}
