//! Applying: every change of a plan written as one run, or none of it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::credentials::Account;
use crate::error::{Error, Result};
use crate::plan::{FileChange, ServiceAction};
use crate::records::{self, FILES, FileRecord, RunDir, RunStatus, StateDir, sha256};
use crate::rootfs::RootFs;

use super::Manifest;
use super::transition::{
    KeptOriginal, disk_state, on_disk, remove_created_dirs, remove_temp_entries, transition,
};

/// What a run did, for the report.
pub struct Applied {
    pub run_id: String,
    pub run_dir: RunDir,
    pub manifest: Manifest,
    /// Temporary entries the run could not remove, with why.
    pub litter: Vec<String>,
}

/// Writes every change of the plan as one run: all of it, or, when a write fails, none of it
/// (the writes before are undone and the error says so). Run with the lock held. The run is
/// left `applying`: services are not touched here, and `commit` records that the whole run,
/// services and health check included, went through.
/// What a run record says of the run beyond its files.
#[derive(Debug, Clone)]
pub struct RunAbout {
    /// The daemon the run fixes (`system` or `rootless:USER`).
    pub daemon: String,
    /// How the planned daemon.json was validated, when the run changes it.
    pub validation: Option<String>,
}

pub fn apply(
    rootfs: &RootFs,
    changes: &[FileChange],
    items_by_path: &dyn Fn(&Path) -> Vec<String>,
    items: Vec<String>,
    codes: &BTreeMap<String, String>,
    services: Vec<ServiceAction>,
    about: RunAbout,
) -> Result<Applied> {
    // The files must still be what the plan was made from (an interactive session can last).
    for change in changes {
        let found = on_disk(rootfs, &change.path)?;
        let mut now = found.state;
        if change.before.content.is_none() && !change.content_changed() {
            // A metadata-only change (chmod of a binary or socket): its content is not ours.
            now.content = None;
        }
        if now != change.before || found.symlink {
            return Err(Error::InvalidFile {
                path: change.path.clone(),
                message: "changed since docker-harden read it; nothing was written, run again"
                    .into(),
            });
        }
    }
    let touched: Vec<(PathBuf, Option<Account>)> = changes
        .iter()
        .map(|c| (c.path.clone(), c.as_user.clone()))
        .collect();
    // Under the lock no other run writes: a temporary entry beside these files is litter of
    // a run that was killed or could not clean up.
    remove_temp_entries(rootfs, &touched)?;
    let state = StateDir::create(rootfs)?;
    let backups = state.create_backups()?;
    let (run_id, run_dir) = records::new_run_dir(&backups)?;
    let mut manifest = match save_originals(&run_dir, changes, items_by_path, codes) {
        Ok(records) => Manifest {
            run_id: run_id.clone(),
            created: records::now().to_string(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            status: RunStatus::Applying,
            daemon: about.daemon,
            codes: codes_of(&items, codes),
            items,
            services,
            files: records,
            created_dirs: Vec::new(),
            rolled_back: None,
            rollback_reason: None,
            drifted_copies: Vec::new(),
            validation: about.validation,
        },
        Err(e) => {
            run_dir.discard(&backups, &run_id);
            return Err(e);
        }
    };
    if let Err(e) = run_dir.save_manifest(&manifest) {
        run_dir.discard(&backups, &run_id);
        return Err(e);
    }

    // Each file's way back, as far as the run got.
    let mut kept: Vec<Option<KeptOriginal>> = Vec::new();
    let mut failure = None;
    for (n, change) in changes.iter().enumerate() {
        let mut created = Vec::new();
        let step = transition(
            rootfs,
            &change.path,
            &change.before,
            &change.after,
            change.as_user.as_ref(),
            true,
            &mut created,
        );
        if !created.is_empty() {
            manifest.files[n].created_dirs = created;
            // A run killed now must still know which directories are its own.
            if let Err(e) = run_dir.save_manifest(&manifest) {
                kept.push(step.ok().flatten());
                failure = Some(e);
                break;
            }
        }
        match step {
            Ok(old) => kept.push(old),
            Err(e) => {
                kept.push(None);
                failure = Some(e);
                break;
            }
        }
    }
    if let Some(cause) = failure {
        let undone = undo(rootfs, changes, &kept, &manifest);
        let _ = remove_temp_entries(rootfs, &touched[..kept.len()]);
        return Err(match undone {
            Ok(()) => {
                manifest.status = RunStatus::RolledBack;
                manifest.rolled_back = Some(records::now().to_string());
                manifest.rollback_reason = Some(format!("undone by itself: {cause}"));
                // Unrecorded, the run stays `applying`, and rollback finds nothing to do.
                let _ = run_dir.save_manifest(&manifest);
                Error::ApplyUndone {
                    cause: cause.to_string(),
                    run: run_id,
                }
            }
            Err(undo_error) => Error::ApplyHalfDone {
                cause: cause.to_string(),
                run: run_id,
                undo: undo_error.to_string(),
            },
        });
    }
    // Every file is written: the replaced originals are no longer needed for an undo (the
    // backups serve rollback). One that cannot be removed is only litter, which the next
    // run writing there (or a rollback) removes; it is named.
    let mut litter = Vec::new();
    for (change, old) in changes.iter().zip(&kept) {
        if let Some(old) = old
            && let Err(e) = old.release(change.as_user.as_ref())
        {
            litter.push(format!("{}: {e}", old.dir.host().join(&old.kept).display()));
        }
    }
    Ok(Applied {
        run_id,
        run_dir,
        manifest,
        litter,
    })
}

/// Records that the whole run went through.
pub fn commit(applied: &mut Applied) -> Result<()> {
    applied.manifest.status = RunStatus::Applied;
    applied.run_dir.save_manifest(&applied.manifest)
}

/// The code of each item in `ids` (an ID without one keeps its place, empty).
fn codes_of(ids: &[String], codes: &BTreeMap<String, String>) -> Vec<String> {
    ids.iter()
        .map(|id| codes.get(id).cloned().unwrap_or_default())
        .collect()
}

/// Saves each original and what the run will write, and makes the records.
fn save_originals(
    run_dir: &RunDir,
    changes: &[FileChange],
    items_by_path: &dyn Fn(&Path) -> Vec<String>,
    codes: &BTreeMap<String, String>,
) -> Result<Vec<FileRecord>> {
    let mut records = Vec::new();
    for (n, change) in changes.iter().enumerate() {
        let backup = match change.before.content.as_deref() {
            Some(bytes) => Some(run_dir.save_copy(FILES, &format!("{n:03}"), bytes)?),
            None => None,
        };
        let written = match (change.content_changed(), change.after.content.as_deref()) {
            (true, Some(bytes)) => {
                Some(run_dir.save_copy(FILES, &format!("{n:03}.written"), bytes)?)
            }
            _ => None,
        };
        let (uid_after, gid_after) = change.after.owner.unwrap_or((0, 0));
        records.push(FileRecord {
            path: change.path.clone(),
            existed: change.before.mode.is_some(),
            mode: change.before.mode,
            uid: change.before.owner.map(|o| o.0),
            gid: change.before.owner.map(|o| o.1),
            sha256_before: change.before.content.as_deref().map(sha256),
            mode_after: change.after.mode.unwrap_or(0o644),
            uid_after,
            gid_after,
            sha256_after: change.after.content.as_deref().map(sha256),
            backup,
            written,
            codes: codes_of(&items_by_path(&change.path), codes),
            items: items_by_path(&change.path),
            as_user: change.as_user.clone(),
            created_dirs: Vec::new(),
        });
    }
    Ok(records)
}

/// Undoes the first `kept.len()` changes, last first: a replaced file is renamed back from
/// its kept link; anything else is moved back to its before state.
fn undo(
    rootfs: &RootFs,
    changes: &[FileChange],
    kept: &[Option<KeptOriginal>],
    manifest: &Manifest,
) -> Result<()> {
    let mut first_error = None;
    for (n, change) in changes.iter().enumerate().take(kept.len()).rev() {
        let as_user = change.as_user.as_ref();
        let result = match &kept[n] {
            Some(old) => old.restore(as_user),
            None => disk_state(rootfs, &change.path).and_then(|now| {
                if now == change.before {
                    return Ok(());
                }
                transition(
                    rootfs,
                    &change.path,
                    &now,
                    &change.before,
                    as_user,
                    false,
                    &mut Vec::new(),
                )
                .map(drop)
            }),
        };
        if let Err(e) = result {
            first_error.get_or_insert(e);
            continue;
        }
        remove_created_dirs(rootfs, &manifest.files[n].created_dirs, as_user);
    }
    match first_error {
        None => Ok(()),
        Some(e) => Err(e),
    }
}
