//! Planning the smallest edit that makes rsyslog receive on a port.

use std::collections::BTreeMap;

use super::bind::Bind;
use super::commented::{input_cands, module_cands, uncomment_ops};
use super::config::{ConfFile, find_stmt};
use super::edit::{Edit, Op, edits_of};
use super::includes::{glob_match, includes_with_lines};
use super::inputs::find_input;
use super::lexer::{Stmt, lines_of};
use super::narrow::narrow_ops;
use super::proto::Proto;
use super::statement::{Style, loads};
use super::written::{HEADER, input_stmt, module_stmt};

/// Position in rsyslog's parse order: an input is rejected unless its module
/// was loaded earlier, and included files are parsed where the include is.
/// A file reached by no include of the main file (nested include) is assumed
/// early, since we cannot tell better.
pub(super) fn order_key(
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
pub(crate) fn plan_listen(
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

#[allow(clippy::too_many_arguments)]
pub(super) fn plan_missing_input(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rsyslog::config::Found;
    use crate::rsyslog::edit::Edit;
    use crate::rsyslog::fixtures::*;
    use crate::rsyslog::includes::include_patterns;
    use crate::rsyslog::inputs::{input_declared, listens, module_loaded};
    use crate::rsyslog::proto::Proto;
    use crate::rsyslog::written::HEADER;

    #[test]
    fn debian_uncomments_in_place() {
        let files = main_only(DEBIAN);
        assert!(!listens(&files, Proto::Tcp, 514, LO));
        assert_eq!(include_patterns(DEBIAN), vec!["/etc/rsyslog.d/*.conf"]);
        let edits = plan_lo(&files, Proto::Tcp, 514);
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
        let edits = plan_lo(&files, Proto::Tcp, 514);
        let want = RHEL.replace(
            "#module(load=\"imtcp\") # needs to be done just once\n#input(type=\"imtcp\" port=\"514\")",
            "module(load=\"imtcp\") # needs to be done just once\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")",
        );
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].after, want);
        plan_apply(&files, Proto::Tcp, 514);
    }

    #[test]
    fn legacy_input_gives_way_to_a_bound_rainerscript_one() {
        let files = main_only(LEGACY);
        let edits = plan_lo(&files, Proto::Tcp, 514);
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
    fn dropin_when_included_and_nothing_commented() {
        let main = "module(load=\"imuxsock\")\n$IncludeConfig /etc/rsyslog.d/*.conf\n*.* /var/log/syslog\n";
        let files = vec![
            cf("/etc/rsyslog.conf", main),
            cf("/etc/rsyslog.d/50-default.conf", "*.* /var/log/x\n"),
        ];
        let edits = plan_lo(&files, Proto::Tcp, 514);
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
        let edits = plan_lo(&files, Proto::Udp, 514);
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].path, DROPIN);
    }

    #[test]
    fn append_when_no_include() {
        let main = "$FileOwner root\n*.* /var/log/x";
        let files = main_only(main);
        let edits = plan_lo(&files, Proto::Tcp, 1514);
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
        let edits = plan_lo(&files, Proto::Tcp, 514);
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
        let edits = plan_lo(&files, Proto::Tcp, 514);
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
        let edits = plan_lo(&files, Proto::Tcp, 514);
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
        assert_eq!(
            planned(text, Proto::Tcp, 514),
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
        assert!(plan_lo(&main_only(&text), Proto::Tcp, 514).is_empty());
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
        assert!(plan_lo(&split, Proto::Tcp, 514).is_empty());
        assert_eq!(
            input_declared(&split, Proto::Tcp, 514, LO),
            Some(Found {
                path: "/etc/rsyslog.d/a.conf".into(),
                line: 1
            })
        );
    }

    #[test]
    fn only_module_commented_adds_input_after_it() {
        let text = "# tcp\n#module(load=\"imtcp\")\n*.* /var/log/x\n";
        assert_eq!(
            planned(text, Proto::Tcp, 514),
            "# tcp\nmodule(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n*.* /var/log/x\n"
        );
        let legacy = "#$ModLoad imtcp\n";
        assert_eq!(
            planned(legacy, Proto::Tcp, 514),
            "$ModLoad imtcp\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n"
        );
    }

    #[test]
    fn only_input_commented_adds_module_before_it() {
        let text = "*.* /var/log/x\n#input(type=\"imtcp\" port=\"514\")\n";
        assert_eq!(
            planned(text, Proto::Tcp, 514),
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
        let edits = plan_lo(&files, Proto::Udp, 514);
        assert_eq!(edits.len(), 1);
        assert_eq!(
            edits[0].after,
            "# x\r\nmodule(load=\"imudp\")\r\ninput(type=\"imudp\" port=\"514\" address=\"127.0.0.1\")\r\n"
        );
        plan_apply(&files, Proto::Udp, 514);
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
    fn input_bound_elsewhere_gets_one_of_its_own() {
        // The operator's input for the network stays; dockerd gets its own on loopback.
        let text =
            "module(load=\"imtcp\")\ninput(type=\"imtcp\" port=\"514\" address=\"10.0.0.5\")\n";
        assert!(!listens(&main_only(text), Proto::Tcp, 514, LO));
        assert_eq!(
            planned(text, Proto::Tcp, 514),
            format!("{text}\n{HEADER}\ninput(type=\"imtcp\" port=\"514\" address=\"127.0.0.1\")\n")
        );
    }

    #[test]
    fn no_files_no_edits() {
        assert!(plan_lo(&[], Proto::Tcp, 514).is_empty());
        assert!(!listens(&[], Proto::Tcp, 514, LO));
    }
}
