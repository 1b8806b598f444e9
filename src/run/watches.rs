//! The audit watches the kernel is to load after a fix, or drop after a rollback, so its
//! loaded rules match the persistent ones.

use crate::audit_rules::{self, Watch};
use crate::facts::{Facts, LoadedRules};
use crate::kinds::Kind;
use crate::playbook::Playbook;
use crate::records::{self, RunDir};
use crate::transaction::Manifest;

/// Audit watches to load after a fix: for the audit items applied, each persistent watch on
/// their paths that the kernel has not loaded. `facts` are gathered after the files changed.
pub(super) fn watches_to_load(
    playbook: &Playbook,
    facts: &Facts,
    item_ids: &[String],
) -> Vec<Watch> {
    let Some(loaded) = loaded(facts) else {
        return Vec::new();
    };
    let mut out: Vec<Watch> = Vec::new();
    for item in playbook.items.iter().filter(|i| item_ids.contains(&i.id)) {
        let Kind::Audit(spec) = &item.kind else {
            continue;
        };
        for path in facts.target(&spec.target) {
            let path = path.display().to_string();
            if loaded.iter().any(|w| w.covers(&path)) {
                continue;
            }
            if let Some((_, w)) = facts.audit.persistent.iter().find(|(_, w)| w.covers(&path))
                && !out.contains(w)
            {
                out.push(w.clone());
            }
        }
    }
    out
}

/// Audit watches to remove after a rollback: loaded watches on the paths the run's rules files
/// added, which are no longer persistent. `facts` are gathered after the files were restored.
pub(super) fn watches_to_unload(
    facts: &Facts,
    run_dir: &RunDir,
    manifest: &Manifest,
) -> Vec<Watch> {
    let Some(loaded) = loaded(facts) else {
        return Vec::new();
    };
    let text = |bytes: Option<Vec<u8>>| {
        bytes
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    let mut out: Vec<Watch> = Vec::new();
    for record in manifest
        .files
        .iter()
        .filter(|r| r.path.to_string_lossy().ends_with(".rules"))
    {
        let written = text(records::written_copy(run_dir, record));
        let before = text(records::backup_copy(run_dir, record));
        let before_watches = audit_rules::watches(&before);
        for (_, added) in audit_rules::watches(&written) {
            if before_watches.iter().any(|(_, w)| w.covers(&added.path))
                || facts.audit.persistent_source(&added.path).is_some()
            {
                continue;
            }
            for w in loaded.iter().filter(|w| w.covers(&added.path)) {
                if !out.contains(w) {
                    out.push(w.clone());
                }
            }
        }
    }
    out
}

/// The watches the kernel has loaded; `None` when they could not be read (nothing is then
/// loaded or removed).
fn loaded(facts: &Facts) -> Option<&[Watch]> {
    match &facts.audit.loaded {
        LoadedRules::Loaded { watches, .. } => Some(watches),
        _ => None,
    }
}
