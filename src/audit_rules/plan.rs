//! Planning the watches docker-harden adds: its own rules.d file, or a block in audit.rules.

use super::load::effective_watches;
use super::rules::{is_immutable_line, watches};
use super::validate::line_error;
use super::watch::Watch;

/// Header of a rules.d file that docker-harden creates.
pub(crate) const OWN_FILE_HEADER: [&str; 2] = [
    "# Managed by docker-harden: audit watches for Docker files and binaries (CIS Docker Benchmark 1.1.x).",
    "# Rules are appended; edits to existing lines are kept.",
];

/// Comment that precedes the block inserted into /etc/audit/audit.rules.
pub(crate) const APPEND_MARKER: &str = "# docker-harden: audit watches for Docker (CIS 1.1.x)";

/// The wanted watches not satisfied by `present`, in wanted order, each path
/// at most once.
pub(super) fn missing<'a>(present: &[Watch], wanted: &'a [Watch]) -> Vec<&'a Watch> {
    let mut out: Vec<&Watch> = Vec::new();
    for w in wanted.iter().filter(|w| w.is_renderable()) {
        let done = present
            .iter()
            .chain(out.iter().copied())
            .any(|p| p.satisfies(w));
        if !done {
            out.push(w);
        }
    }
    out
}

/// Content for a rules.d file owned by docker-harden.
pub(crate) fn plan_own_rules_file(existing: Option<&str>, wanted: &[Watch]) -> String {
    let mut out = String::new();
    match existing {
        Some(text) if !text.is_empty() => {
            out.push_str(text);
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        // An empty file is treated like a new one so that it gets the header.
        _ => {
            for line in OWN_FILE_HEADER {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    // augenrules moves the -e flag to the end of the merged rules, so every
    // watch in this file counts, wherever it stands.
    let present: Vec<Watch> = watches(existing.unwrap_or(""))
        .into_iter()
        .map(|(_, w)| w)
        .collect();
    for w in missing(&present, wanted) {
        out.push_str(&w.render());
        out.push('\n');
    }
    out
}

/// New content of /etc/audit/audit.rules with the missing watches added.
pub(crate) fn plan_append(existing: &str, wanted: &[Watch]) -> String {
    let present: Vec<Watch> = effective_watches(existing)
        .into_iter()
        .map(|(_, w)| w)
        .collect();
    let todo = missing(&present, wanted);
    if todo.is_empty() {
        return existing.to_string();
    }
    let mut block = String::new();
    block.push_str(APPEND_MARKER);
    block.push('\n');
    for w in todo {
        block.push_str(&w.render());
        block.push('\n');
    }

    // The block goes before the line where loading stops (`-e 2`, or a line
    // auditctl refuses), so that it loads.
    let mut offset = 0;
    for line in existing.split_inclusive('\n') {
        let bare = line.strip_suffix('\n').unwrap_or(line);
        let bare = bare.strip_suffix('\r').unwrap_or(bare);
        if is_immutable_line(bare) || line_error(bare).is_some() {
            let mut out = String::with_capacity(existing.len() + block.len());
            out.push_str(&existing[..offset]);
            out.push_str(&block);
            out.push_str(&existing[offset..]);
            return out;
        }
        offset += line.len();
    }

    let mut out = existing.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&block);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit_rules::fixtures::*;
    use crate::audit_rules::load::effective_watches;

    #[test]
    fn own_file_new_has_header_and_rules() {
        let wanted = [
            w("/usr/bin/dockerd", "wa", Some("docker")),
            w("/etc/docker", "wa", Some("docker")),
        ];
        let out = plan_own_rules_file(None, &wanted);
        assert_eq!(
            out,
            format!(
                "{}\n{}\n-w /usr/bin/dockerd -p wa -k docker\n-w /etc/docker -p wa -k docker\n",
                OWN_FILE_HEADER[0], OWN_FILE_HEADER[1]
            )
        );
        assert_eq!(plan_own_rules_file(Some(&out), &wanted), out);
    }

    #[test]
    fn own_file_keeps_operator_edits() {
        let existing = "# my note\n-w /etc/docker -p rwa -k mine\n-w /usr/bin/dockerd -p r";
        let wanted = [
            w("/usr/bin/dockerd", "wa", Some("docker")),
            w("/etc/docker/", "wa", Some("docker")),
        ];
        let out = plan_own_rules_file(Some(existing), &wanted);
        assert_eq!(
            out,
            format!("{existing}\n-w /usr/bin/dockerd -p wa -k docker\n")
        );
    }

    #[test]
    fn own_file_dedupes_wanted_and_skips_unrenderable() {
        let wanted = [
            w("/etc/docker", "wa", None),
            w("/etc/docker/", "rwa", Some("x")),
            w("/bad path", "wa", None),
            w("", "wa", None),
        ];
        let out = plan_own_rules_file(Some("-b 8192\n"), &wanted);
        assert_eq!(out, "-b 8192\n-w /etc/docker -p wa\n");
    }

    #[test]
    fn own_file_nothing_to_add_still_ends_with_newline() {
        assert_eq!(
            plan_own_rules_file(
                Some("-w /etc/docker -p wa"),
                &[w("/etc/docker", "wa", None)]
            ),
            "-w /etc/docker -p wa\n"
        );
    }

    #[test]
    fn append_inserts_before_first_e2() {
        let existing = "-D\n-b 8192\n-w /etc/docker -p wa -k docker\n# -e 2\n-e 2\n";
        let wanted = [
            w("/etc/docker", "wa", Some("docker")),
            w("/usr/bin/dockerd", "wa", Some("docker")),
        ];
        let out = plan_append(existing, &wanted);
        assert_eq!(
            out,
            format!(
                "-D\n-b 8192\n-w /etc/docker -p wa -k docker\n# -e 2\n{APPEND_MARKER}\n\
                 -w /usr/bin/dockerd -p wa -k docker\n-e 2\n"
            )
        );
        assert_eq!(plan_append(&out, &wanted), out);
    }

    #[test]
    fn append_at_end_without_e2() {
        let wanted = [w("/etc/docker", "wa", None)];
        assert_eq!(
            plan_append("-D\n-b 8192", &wanted),
            format!("-D\n-b 8192\n{APPEND_MARKER}\n-w /etc/docker -p wa\n")
        );
        assert_eq!(
            plan_append("", &wanted),
            format!("{APPEND_MARKER}\n-w /etc/docker -p wa\n")
        );
    }

    #[test]
    fn append_unchanged_when_nothing_missing() {
        let existing = "-w /etc/docker/ -p rwxa\n-e 2";
        assert_eq!(
            plan_append(existing, &[w("/etc/docker", "wa", None)]),
            existing
        );
        assert_eq!(plan_append(existing, &[]), existing);
    }

    #[test]
    fn append_ignores_watches_the_kernel_would_reject_or_drop() {
        // After -e 2 a rule fails to load; before -D it is wiped.
        let existing = "-w /a -p wa\n-D\n-e 2\n-w /b -p wa\n";
        let out = plan_append(existing, &[w("/a", "wa", None), w("/b", "wa", None)]);
        assert_eq!(
            out,
            format!(
                "-w /a -p wa\n-D\n{APPEND_MARKER}\n-w /a -p wa\n-w /b -p wa\n-e 2\n-w /b -p wa\n"
            )
        );
    }

    #[test]
    fn append_goes_before_the_line_that_stops_the_load() {
        let existing = "-D\n-w /a -p wa\n-w /b \\\n  -p wa\n-e 2\n";
        let out = plan_append(existing, &[w("/c", "wa", None)]);
        assert_eq!(
            out,
            format!("-D\n-w /a -p wa\n{APPEND_MARKER}\n-w /c -p wa\n-w /b \\\n  -p wa\n-e 2\n")
        );
        assert!(effective_watches(&out).iter().any(|(_, x)| x.covers("/c")));
    }
}
