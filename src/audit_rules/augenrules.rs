//! How `augenrules --load` orders and merges the rules.d files.

use super::load::{Load, load};

/// The order in which augenrules reads rules.d files (`ls -1v`): names
/// compared piece by piece, runs of digits by their value.
pub(crate) fn augenrules_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn pieces(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            let digit = c.is_ascii_digit();
            let end = rest
                .find(|ch: char| ch.is_ascii_digit() != digit)
                .unwrap_or(rest.len());
            out.push((digit, &rest[..end]));
            rest = &rest[end..];
        }
        out
    }
    let (pa, pb) = (pieces(a), pieces(b));
    for (x, y) in pa.iter().zip(&pb) {
        let ord = match (x, y) {
            ((true, x), (true, y)) => {
                let (tx, ty) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                tx.len().cmp(&ty.len()).then(tx.cmp(ty))
            }
            ((_, x), (_, y)) => x.cmp(y),
        };
        if ord.is_ne() {
            return ord;
        }
    }
    pa.len().cmp(&pb.len()).then(a.cmp(b))
}

/// What `augenrules --load` puts in the kernel from rules.d files, given in
/// the order it reads them (`augenrules_order`): it joins them, drops
/// comments, moves the last `-D`, `-b` and `-f` to the front and the last
/// `-e` to the end, and loads the result with `auditctl -R`. Each watch comes
/// with (index of its file, line).
pub(crate) fn augenrules_load(files: &[&str]) -> Load<(usize, usize)> {
    type Line<'a> = ((usize, usize), &'a str);
    let (mut delete, mut backlog, mut failure, mut enable): (
        Option<Line<'_>>,
        Option<Line<'_>>,
        Option<Line<'_>>,
        Option<Line<'_>>,
    ) = (None, None, None, None);
    let mut rest: Vec<Line<'_>> = Vec::new();
    for (fi, text) in files.iter().enumerate() {
        for (li, line) in text.lines().enumerate() {
            let at = ((fi, li + 1), line);
            let t = line.trim_start();
            if t.is_empty() || t.starts_with('#') {
                continue;
            } else if t.starts_with("-e") {
                enable = Some(at);
            } else if t.trim_end() == "-D" {
                delete = Some(at);
            } else if t.starts_with("-b") {
                backlog = Some(at);
            } else if t.starts_with("-f") {
                failure = Some(at);
            } else {
                rest.push(at);
            }
        }
    }
    let merged = [delete, backlog, failure]
        .into_iter()
        .flatten()
        .chain(rest)
        .chain(enable);
    load(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit_rules::fixtures::*;

    #[test]
    fn augenrules_joins_files_and_moves_controls() {
        let files = [
            "-D\n-w /a -p wa\n",
            "-w /b \\\n  -p wa\n-e 2\n",
            "-w /c -p wa\n",
        ];
        let load = augenrules_load(&files);
        assert_eq!(load.watches, vec![((0, 2), w("/a", "wa", None))]);
        assert_eq!(load.stop.as_ref().map(|(at, _)| *at), Some((1, 1)));
        // -e moves to the end, so a lock in an early file does not stop later files.
        let load = augenrules_load(&["-e 2\n-w /a -p wa\n", "-w /c -p wa\n"]);
        assert_eq!(load.watches.len(), 2);
        assert_eq!(load.stop, None);
        // A broken -b moves to the front and stops everything.
        let load = augenrules_load(&["-w /a -p wa\n", "-b lots\n"]);
        assert!(load.watches.is_empty());
        assert_eq!(load.stop.map(|(at, _)| at), Some((1, 1)));
    }

    #[test]
    fn rules_d_order_is_ls_v() {
        use std::cmp::Ordering::*;
        assert_eq!(augenrules_order("9-a.rules", "10-b.rules"), Less);
        assert_eq!(
            augenrules_order("50-docker-harden.rules", "99-finalize.rules"),
            Less
        );
        assert_eq!(
            augenrules_order("50-docker-harden.rules", "audit.rules"),
            Less
        );
        assert_eq!(augenrules_order("10-site.rules", "10-site.rules"), Equal);
        assert_eq!(augenrules_order("010-a.rules", "10-a.rules"), Less);
        let mut names = vec![
            "audit.rules",
            "99-finalize.rules",
            "10-base.rules",
            "9-x.rules",
        ];
        names.sort_by(|a, b| augenrules_order(a, b));
        assert_eq!(
            names,
            [
                "9-x.rules",
                "10-base.rules",
                "99-finalize.rules",
                "audit.rules"
            ]
        );
    }
}
