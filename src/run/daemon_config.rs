//! daemon.json as a run leaves it, from the plan (or the rollback's record), not from the disk:
//! what the health check expects and what the docker action is chosen by.

use serde_json::{Map, Value};

use crate::daemon_json;
use crate::facts::Facts;
use crate::plan::FileChange;
use crate::transaction::Reversal;

/// daemon.json as `changes` (a plan's, or an item's part of it) leave it; with no change to
/// it, as the facts found it.
pub(crate) fn planned_json(facts: &Facts, changes: &[FileChange]) -> Map<String, Value> {
    let path = &facts.daemon.config_file_resolved;
    match changes.iter().find(|c| &c.path == path) {
        Some(change) => daemon_json::settings(change.after.content.as_deref()),
        None => daemon_json::settings(facts.file(path).and_then(|f| f.content.as_deref())),
    }
}

/// daemon.json as the rollback restores it, when the run changed it.
pub(super) fn restored_json(facts: &Facts, reversals: &[Reversal]) -> Option<Map<String, Value>> {
    let r = reversals
        .iter()
        .find(|r| r.record.path == facts.daemon.config_file_resolved)?;
    Some(daemon_json::settings(r.restore.content.as_deref()))
}
