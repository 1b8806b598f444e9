//! Planned file changes as Ansible diffs: one `{before, after, before_header, after_header}`
//! per file, which `ansible-playbook --diff` prints as a unified diff.

use serde::Serialize;

use crate::facts::Facts;
use crate::kinds::{mode_string, owner_string};
use crate::plan::{FileChange, PlannedFile};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffEntry {
    pub before: String,
    pub after: String,
    pub before_header: String,
    pub after_header: String,
}

/// The headers name the file with its mode and owner, so a change of those shows even next to
/// a content change. A change of mode or owner alone has no content to compare: its texts are
/// the mode and owner lines, so the diff body shows them.
pub fn entry(change: &FileChange, facts: &Facts) -> DiffEntry {
    let path = change.path.display().to_string();
    let header = |state: &PlannedFile| match (state.mode, state.owner) {
        (Some(mode), Some((uid, gid))) => format!(
            "{path} (mode {}, owner {})",
            mode_string(mode),
            owner_string(facts, uid, gid)
        ),
        _ => format!("{path} (absent)"),
    };
    let text = |state: &PlannedFile| -> String {
        if change.content_changed() {
            state
                .content
                .as_deref()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .unwrap_or_default()
        } else {
            match (state.mode, state.owner) {
                (Some(mode), Some((uid, gid))) => format!(
                    "mode {}\nowner {}\n",
                    mode_string(mode),
                    owner_string(facts, uid, gid)
                ),
                _ => String::new(),
            }
        }
    };
    DiffEntry {
        before: text(&change.before),
        after: text(&change.after),
        before_header: header(&change.before),
        after_header: header(&change.after),
    }
}

pub fn entries(changes: &[FileChange], facts: &Facts) -> Vec<DiffEntry> {
    changes.iter().map(|c| entry(c, facts)).collect()
}
