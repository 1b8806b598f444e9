//! The module's result: the one JSON object Ansible reads from stdout.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::assess::Finding;
use crate::kinds::Status;
use crate::render::Counts;

use super::diff::DiffEntry;

/// One item, before and after the task.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ItemResult {
    pub(crate) id: String,
    pub(crate) legacy_id: Option<String>,
    pub(crate) title: String,
    /// After the task (in check mode: as it is now, the fix not being made).
    pub(crate) status: Status,
    pub(crate) status_before: Status,
    /// The task changed it (in check mode: would change it).
    pub(crate) changed: bool,
    pub(crate) fixable: bool,
    pub(crate) evidence: Vec<String>,
    pub(crate) remediation: Option<String>,
}

/// The counts of the statuses in `results` terms, over every selected item.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(crate) struct Summary {
    pub(crate) items: usize,
    #[serde(flatten)]
    pub(crate) counts: Counts,
    pub(crate) changed: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct ModuleResult {
    pub(crate) changed: bool,
    pub(crate) failed: bool,
    pub(crate) msg: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) results: Vec<ItemResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) summary: Option<Summary>,
    /// The fix run written (state fixed) or undone (state rolled_back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) run_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) diff: Option<Vec<DiffEntry>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) warnings: Vec<String>,
    /// What the CLI would have printed: the run, the services, the files restored.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) log: Vec<String>,
}

impl ModuleResult {
    pub(crate) fn failure(msg: String) -> ModuleResult {
        ModuleResult {
            failed: true,
            msg,
            ..ModuleResult::default()
        }
    }
}

/// Pairs each item's finding before the task with the one after (`after` is `before` when
/// nothing was written), marks the `changed` ones, and keeps the PASS-only items out unless
/// `include_passing`. The summary counts every item.
pub(crate) fn items(
    before: &[Finding],
    after: &[Finding],
    changed: &BTreeSet<String>,
    include_passing: bool,
) -> (Vec<ItemResult>, Summary) {
    let mut results = Vec::new();
    for b in before {
        let a = after.iter().find(|a| a.id == b.id).unwrap_or(b);
        let item_changed = changed.contains(&b.id);
        if !include_passing && !item_changed && b.status == Status::Pass && a.status == Status::Pass
        {
            continue;
        }
        results.push(ItemResult {
            id: a.id.clone(),
            legacy_id: a.legacy_id.clone(),
            title: a.title.clone(),
            status: a.status,
            status_before: b.status,
            changed: item_changed,
            fixable: a.fixable,
            evidence: a.evidence.clone(),
            remediation: a.remediation.clone(),
        });
    }
    let summary = Summary {
        items: after.len(),
        counts: Counts::of(after),
        changed: changed.len(),
    };
    (results, summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(id: &str, status: Status) -> Finding {
        Finding {
            daemon: "system".into(),
            id: id.into(),
            code: format!("custom-{id}"),
            legacy_id: None,
            title: format!("item {id}"),
            status,
            evidence: vec![format!("evidence of {id}")],
            remediation: None,
            fixable: true,
            pending_restart: false,
        }
    }

    #[test]
    fn passing_items_only_when_asked_or_changed() {
        let before = [
            finding("1", Status::Pass),
            finding("2", Status::Warn),
            finding("3", Status::Warn),
            finding("4", Status::Info),
        ];
        let after = [
            finding("1", Status::Pass),
            finding("2", Status::Pass),
            finding("3", Status::Warn),
            finding("4", Status::Info),
        ];
        let changed: BTreeSet<String> = ["2".to_string()].into();
        let (results, summary) = items(&before, &after, &changed, false);
        let ids: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["2", "3", "4"]);
        assert_eq!(results[0].status_before, Status::Warn);
        assert_eq!(results[0].status, Status::Pass);
        assert!(results[0].changed && !results[1].changed);
        assert_eq!(
            (summary.items, summary.counts.pass, summary.counts.warn),
            (4, 2, 1)
        );
        assert_eq!(summary.changed, 1);
        let (all, _) = items(&before, &after, &changed, true);
        assert_eq!(all.len(), 4);
    }

    #[test]
    fn failure_serialises_with_ansible_keys() {
        let v = serde_json::to_value(ModuleResult::failure("boom".into())).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"changed": false, "failed": true, "msg": "boom"})
        );
    }
}
