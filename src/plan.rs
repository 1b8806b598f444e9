//! Planned changes. Fixers edit a workspace that starts from the facts snapshot; nothing here
//! touches the disk. The difference between the snapshot and the workspace is the plan that
//! one transaction applies and the same record reverts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::credentials::Account;
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
    pub(crate) fn describe(self) -> &'static str {
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
pub(crate) fn collapse(actions: &BTreeSet<ServiceAction>) -> Vec<ServiceAction> {
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
    /// The user whose privileges the change is made with (a rootless daemon's files); `None`
    /// for root.
    pub as_user: Option<Account>,
}

impl FileChange {
    pub(crate) fn content_changed(&self) -> bool {
        self.before.content != self.after.content
    }
    pub(crate) fn created(&self) -> bool {
        self.before.mode.is_none() && self.after.mode.is_some()
    }
}

#[derive(Debug, Clone)]
pub struct Workspace {
    original: BTreeMap<PathBuf, PlannedFile>,
    current: BTreeMap<PathBuf, PlannedFile>,
    /// The rootless daemon's user, when the facts are about one: its files are theirs.
    daemon_user: Option<Account>,
    /// The files changed as the daemon's user rather than as root.
    users_files: BTreeSet<PathBuf>,
}

impl Workspace {
    pub(crate) fn new(facts: &Facts) -> Workspace {
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
            daemon_user: facts.instance.rootless().map(|u| Account {
                name: u.name.clone(),
                uid: u.uid,
                gid: u.gid,
            }),
            users_files: BTreeSet::new(),
        }
    }

    pub(crate) fn get(&self, path: &Path) -> Option<&PlannedFile> {
        self.current.get(path)
    }

    /// Current planned text of a file in the snapshot; `None` when absent.
    pub(crate) fn text(&self, path: &Path) -> Option<String> {
        self.current
            .get(path)
            .and_then(|f| f.content.as_ref())
            .map(|c| String::from_utf8_lossy(c).into_owned())
    }

    /// Writes a system file (audit rules, rsyslog's configuration, /etc/default/docker): a
    /// new one gets `create_mode` and root:root, and root writes it.
    pub(crate) fn write(&mut self, path: &Path, text: String, create_mode: u32) {
        self.put(path, text, create_mode, (0, 0));
    }

    /// Writes a file of the daemon's own (its daemon.json, its unit drop-in). A rootless
    /// daemon's belongs to its user, who must be able to read and write it, and is written
    /// with the user's privileges; the system daemon's is root's.
    pub(crate) fn write_daemon_file(&mut self, path: &Path, text: String, create_mode: u32) {
        let owner = match &self.daemon_user {
            Some(user) => (user.uid, user.gid),
            None => (0, 0),
        };
        self.put(path, text, create_mode, owner);
        self.mark_daemons(path);
    }

    fn put(&mut self, path: &Path, text: String, create_mode: u32, owner: (u32, u32)) {
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
            entry.owner = Some(owner);
        }
        entry.content = Some(text.into_bytes());
    }

    /// The mode of one of the daemon's files (as its user, for a rootless daemon).
    pub(crate) fn set_mode(&mut self, path: &Path, mode: u32) {
        if let Some(f) = self.current.get_mut(path) {
            f.mode = Some(mode);
            self.mark_daemons(path);
        }
    }

    /// The owner of one of the daemon's files (as its user, for a rootless daemon: only a
    /// file of theirs can be given to them).
    pub(crate) fn set_owner(&mut self, path: &Path, uid: u32, gid: u32) {
        if let Some(f) = self.current.get_mut(path) {
            f.owner = Some((uid, gid));
            self.mark_daemons(path);
        }
    }

    fn mark_daemons(&mut self, path: &Path) {
        if self.daemon_user.is_some() {
            self.users_files.insert(path.to_path_buf());
        }
    }

    pub(crate) fn state(&self) -> BTreeMap<PathBuf, PlannedFile> {
        self.current.clone()
    }

    /// Changes from the snapshot to now.
    pub(crate) fn changes(&self) -> Vec<FileChange> {
        self.changes_since(&self.original)
    }

    /// Changes from `before` (an earlier `state()`) to now, each with who makes it.
    pub(crate) fn changes_since(&self, before: &BTreeMap<PathBuf, PlannedFile>) -> Vec<FileChange> {
        let mut changes = changes_between(before, &self.current);
        for change in &mut changes {
            if self.users_files.contains(&change.path) {
                change.as_user = self.daemon_user.clone();
            }
        }
        changes
    }
}

/// The changes from one state to another, all made as root (see `Workspace::changes_since`).
pub(crate) fn changes_between(
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
                as_user: None,
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
    pub(crate) fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.actions.is_empty()
    }
}

/// The whole plan: per-item parts (for display and selection) and the combined changes.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub items: Vec<ItemPlan>,
    pub changes: Vec<FileChange>,
    pub actions: BTreeSet<ServiceAction>,
    /// How pre-flight judged the planned daemon.json (recorded with the run); `None` when the
    /// plan does not change it or pre-flight was skipped.
    pub validation: Option<String>,
}

impl Plan {
    pub(crate) fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.actions.is_empty()
    }
}
