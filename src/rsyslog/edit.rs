//! Edits planned on whole files: line operations rendered onto a file's text.

use std::collections::BTreeMap;

use super::config::ConfFile;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edit {
    pub(crate) path: String,
    /// The file's current text; None when the file is to be created.
    pub(crate) before: Option<String>,
    pub(crate) after: String,
}

#[derive(Debug, Clone)]
pub(super) enum Op {
    Replace(usize, String),
    InsertBefore(usize, Vec<String>),
    InsertAfter(usize, Vec<String>),
    Append(Vec<String>),
}

pub(super) fn render(text: &str, ops: &[Op]) -> String {
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

pub(super) fn edits_of(
    files: &[ConfFile],
    ops: BTreeMap<usize, Vec<Op>>,
    dropin_path: &str,
) -> Vec<Edit> {
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
