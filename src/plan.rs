//! Planned changes. Fixers edit a workspace that starts from the facts snapshot; nothing here
//! touches the disk. The difference between the snapshot and the workspace is the plan that
//! one transaction applies and the same record reverts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::facts::Facts;

/// What must happen to a service after the files are written. The order of the variants is the
/// order they run in: audit rules first, rsyslog before docker so the syslog log driver finds a
/// listener when dockerd starts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceAction {
    LoadAuditRules,
    RestartRsyslog,
    /// systemd re-reads unit files (our ExecStart drop-in); docker must then restart.
    DaemonReload,
    ReloadDocker,
    RestartDocker,
}

impl ServiceAction {
    pub fn describe(self) -> &'static str {
        match self {
            ServiceAction::LoadAuditRules => "load the audit rules into the kernel",
            ServiceAction::RestartRsyslog => "restart rsyslog",
            ServiceAction::DaemonReload => "reload systemd's unit files",
            ServiceAction::ReloadDocker => "reload dockerd (SIGHUP)",
            ServiceAction::RestartDocker => "restart docker",
        }
    }
}

/// Each service acted on once: a restart covers a reload of the same service.
pub fn collapse(actions: &BTreeSet<ServiceAction>) -> Vec<ServiceAction> {
    actions
        .iter()
        .copied()
        .filter(|a| {
            !(*a == ServiceAction::ReloadDocker && actions.contains(&ServiceAction::RestartDocker))
        })
        .collect()
}

/// A file as planned: content (None = absent), mode and owner (None = absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    pub content: Option<Vec<u8>>,
    pub mode: Option<u32>,
    pub owner: Option<(u32, u32)>,
}

/// One file's change between two states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Resolved host path.
    pub path: PathBuf,
    pub before: PlannedFile,
    pub after: PlannedFile,
}

impl FileChange {
    pub fn content_changed(&self) -> bool {
        self.before.content != self.after.content
    }
    pub fn created(&self) -> bool {
        self.before.mode.is_none() && self.after.mode.is_some()
    }
}

#[derive(Debug, Clone)]
pub struct Workspace {
    original: BTreeMap<PathBuf, PlannedFile>,
    current: BTreeMap<PathBuf, PlannedFile>,
}

impl Workspace {
    pub fn new(facts: &Facts) -> Workspace {
        let original: BTreeMap<PathBuf, PlannedFile> = facts
            .files
            .iter()
            .map(|(path, state)| {
                (
                    path.clone(),
                    PlannedFile {
                        content: state.content.clone(),
                        mode: state.meta.map(|m| m.mode),
                        owner: state.meta.map(|m| (m.uid, m.gid)),
                    },
                )
            })
            .collect();
        Workspace {
            current: original.clone(),
            original,
        }
    }

    pub fn get(&self, path: &Path) -> Option<&PlannedFile> {
        self.current.get(path)
    }

    /// Current planned text of a file in the snapshot; `None` when absent.
    pub fn text(&self, path: &Path) -> Option<String> {
        self.current
            .get(path)
            .and_then(|f| f.content.as_ref())
            .map(|c| String::from_utf8_lossy(c).into_owned())
    }

    /// Writes a file; a new file gets `create_mode` and root:root.
    pub fn write(&mut self, path: &Path, text: String, create_mode: u32) {
        self.write_owned(path, text, create_mode, None);
    }

    /// Writes a file; a new file gets `create_mode` and `owner` (root:root when `None`): a
    /// rootless daemon's daemon.json must stay its user's.
    pub fn write_owned(
        &mut self,
        path: &Path,
        text: String,
        create_mode: u32,
        owner: Option<(u32, u32)>,
    ) {
        let entry = self
            .current
            .entry(path.to_path_buf())
            .or_insert(PlannedFile {
                content: None,
                mode: None,
                owner: None,
            });
        if entry.mode.is_none() {
            entry.mode = Some(create_mode);
            entry.owner = Some(owner.unwrap_or((0, 0)));
        }
        entry.content = Some(text.into_bytes());
    }

    pub fn set_mode(&mut self, path: &Path, mode: u32) {
        if let Some(f) = self.current.get_mut(path) {
            f.mode = Some(mode);
        }
    }

    pub fn set_owner(&mut self, path: &Path, uid: u32, gid: u32) {
        if let Some(f) = self.current.get_mut(path) {
            f.owner = Some((uid, gid));
        }
    }

    pub fn state(&self) -> BTreeMap<PathBuf, PlannedFile> {
        self.current.clone()
    }

    /// Changes from the snapshot to now.
    pub fn changes(&self) -> Vec<FileChange> {
        changes_between(&self.original, &self.current)
    }
}

pub fn changes_between(
    before: &BTreeMap<PathBuf, PlannedFile>,
    after: &BTreeMap<PathBuf, PlannedFile>,
) -> Vec<FileChange> {
    after
        .iter()
        .filter_map(|(path, a)| {
            let b = before.get(path).cloned().unwrap_or(PlannedFile {
                content: None,
                mode: None,
                owner: None,
            });
            (b != *a).then(|| FileChange {
                path: path.clone(),
                before: b,
                after: a.clone(),
            })
        })
        .collect()
}

/// One item's part of the plan.
#[derive(Debug, Clone)]
pub struct ItemPlan {
    pub id: String,
    pub changes: Vec<FileChange>,
    pub actions: BTreeSet<ServiceAction>,
    /// Why the item cannot be fixed automatically, when it cannot.
    pub blocked: Option<String>,
}

impl ItemPlan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.actions.is_empty()
    }
}

/// The whole plan: per-item parts (for display and selection) and the combined changes.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub items: Vec<ItemPlan>,
    pub changes: Vec<FileChange>,
    pub actions: BTreeSet<ServiceAction>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.actions.is_empty()
    }
}
