//! Runs interrupted while applying: found, and closed when they changed nothing.

use std::path::PathBuf;

use crate::credentials::Account;
use crate::error::Result;
use crate::records::{self, RunStatus};
use crate::rootfs::RootFs;

use super::rollback::{Reversal, plan_rollback};
use super::transition::remove_temp_entries;
use super::{Manifest, SavedRun};

/// A run that stopped while applying (killed, or the machine went down) and has not been
/// rolled back: its files may be part written. Run with the lock held, or after
/// `StateDir::locked_by_another` said no run is in progress.
pub fn interrupted_run(rootfs: &RootFs) -> Result<Option<String>> {
    let runs: Vec<SavedRun> = records::list_runs(rootfs)?;
    Ok(runs.into_iter().rev().find_map(|r| {
        r.record
            .ok()
            .filter(|m| m.status == RunStatus::Applying)
            .map(|m| m.run_id)
    }))
}

/// Whether every file of an interrupted run is still as it was before the run: it stopped
/// before it changed anything (or undid itself and could not record it), so there is
/// nothing to recover.
pub fn changed_nothing(rootfs: &RootFs, run_id: &str) -> Result<bool> {
    let (run_dir, manifest): (_, Manifest) = records::find_run(rootfs, Some(run_id))?;
    Ok(plan_rollback(rootfs, &run_dir, &manifest)?
        .iter()
        .all(Reversal::is_restored))
}

/// Records an interrupted run that changed nothing as rolled back. Run with the lock held.
pub fn close_untouched(rootfs: &RootFs, run_id: &str) -> Result<()> {
    let (run_dir, mut manifest): (_, Manifest) = records::find_run(rootfs, Some(run_id))?;
    manifest.status = RunStatus::RolledBack;
    manifest.rolled_back = Some(records::now().to_string());
    manifest.rollback_reason =
        Some("interrupted before it changed any file; closed by the next run".into());
    let touched: Vec<(PathBuf, Option<Account>)> = manifest
        .files
        .iter()
        .map(|f| (f.path.clone(), f.as_user.clone()))
        .collect();
    remove_temp_entries(rootfs, &touched)?;
    run_dir.save_manifest(&manifest)
}
