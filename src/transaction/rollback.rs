//! Reverting a run from its record: each file's way back planned, then restored.

use std::path::PathBuf;

use crate::credentials::Account;
use crate::error::{Error, Result};
use crate::plan::PlannedFile;
use crate::records::{self, DRIFTED, DriftedCopy, FileRecord, RunDir, RunStatus, sha256};
use crate::rootfs::{FileKind, RootFs};

use super::Manifest;
use super::transition::{on_disk, remove_created_dirs, remove_temp_entries, transition};

/// One file's way back: what is there now and what will be restored.
pub struct Reversal {
    pub record: FileRecord,
    pub now: PlannedFile,
    pub restore: PlannedFile,
    /// Why the file is neither as the run left it nor as it was before, if it is not.
    pub drift: Option<String>,
    /// What of the file's before state cannot be restored, and why.
    pub note: Option<String>,
}

impl Reversal {
    /// Nothing to do: the file is already as it was before the run.
    pub(crate) fn is_restored(&self) -> bool {
        self.now == self.restore
            || (self.record.metadata_only()
                && (self.now.mode, self.now.owner) == (self.restore.mode, self.restore.owner))
    }
}

/// Whether `now` is the state described by (checksum, mode, owner).
fn matches(
    now: &PlannedFile,
    (sha, mode, owner): (Option<&str>, Option<u32>, Option<(u32, u32)>),
    metadata_only: bool,
) -> bool {
    if now.mode.is_none() || mode.is_none() {
        return now.mode.is_none() && mode.is_none();
    }
    let content_same = metadata_only || now.content.as_deref().map(sha256).as_deref() == sha;
    content_same && now.mode == mode && now.owner == owner
}

/// How the file differs from what the run left.
fn describe_drift(record: &FileRecord, now: &PlannedFile) -> String {
    let mut drift = Vec::new();
    let Some(mode) = now.mode else {
        return "file was removed".into();
    };
    if !record.metadata_only() && now.content.as_deref().map(sha256) != record.sha256_after {
        drift.push("content changed".to_string());
    }
    if mode != record.mode_after {
        drift.push(format!(
            "mode is {mode:04o}, the run set {:04o}",
            record.mode_after
        ));
    }
    if let Some(owner) = now.owner
        && owner != (record.uid_after, record.gid_after)
    {
        drift.push(format!(
            "owner is {}:{}, the run set {}:{}",
            owner.0, owner.1, record.uid_after, record.gid_after
        ));
    }
    drift.join("; ")
}

/// Each file of the run with its way back. Nothing is written. A file at its after state or
/// still at its before state (a run that stopped before it got there) is not drift; anything
/// else is. A path that now goes through a symlink, or holds something other than a regular
/// file where content must be restored, is refused for every file: rollback writes nothing it
/// could not finish.
pub fn plan_rollback(
    rootfs: &RootFs,
    run_dir: &RunDir,
    manifest: &Manifest,
) -> Result<Vec<Reversal>> {
    let mut out = Vec::new();
    for record in &manifest.files {
        let found = on_disk(rootfs, &record.path)?;
        let now = found.state;
        let restore_content = match &record.backup {
            Some(name) => Some(run_dir.read(name)?.ok_or_else(|| Error::Rollback {
                run: manifest.run_id.clone(),
                reason: format!(
                    "the saved copy of {} ({}/{name}) is missing",
                    record.path.display(),
                    run_dir.host().display()
                ),
            })?),
            None => None,
        };
        if let (Some(bytes), Some(want)) = (&restore_content, &record.sha256_before)
            && sha256(bytes) != *want
        {
            return Err(Error::Rollback {
                run: manifest.run_id.clone(),
                reason: format!(
                    "the saved copy of {} is damaged (checksum mismatch)",
                    record.path.display()
                ),
            });
        }
        let mut restore = PlannedFile {
            content: restore_content,
            mode: record.mode,
            owner: record.uid.zip(record.gid),
        };
        let mut note = None;
        if let (Some(user), Some(owner)) = (&record.as_user, restore.owner)
            && owner != (user.uid, user.gid)
        {
            // Restored as the user, who cannot give the file back to its old owner; and root
            // gives nothing in a user's directory away.
            restore.owner = Some((user.uid, user.gid));
            note = Some(format!(
                "stays owned by {user}: it was {}:{} before the run, and docker-harden changes {}'s files only as {}",
                owner.0, owner.1, user.name, user.name
            ));
        }
        if found.symlink {
            return Err(Error::SymlinkRefused {
                path: record.path.clone(),
                expected: "file",
                why: "rollback restores files in place and never writes through a symlink; put the file back (or remove the symlink), then roll back again",
            });
        }
        if let Some(kind) = found.kind
            && kind != FileKind::File
            && restore.content.is_some()
        {
            return Err(Error::Rollback {
                run: manifest.run_id.clone(),
                reason: format!(
                    "{} is no longer a regular file; move it away, then roll back again",
                    record.path.display()
                ),
            });
        }
        let metadata_only = record.metadata_only();
        let at_after = matches(&now, record.after(), metadata_only);
        let at_before = matches(&now, record.before(), metadata_only);
        let drift = (!at_after && !at_before).then(|| describe_drift(record, &now));
        out.push(Reversal {
            record: record.clone(),
            now,
            restore,
            drift,
            note,
        });
    }
    Ok(out)
}

/// Restores every file of the run. Files an operator changed after the run (drifted, which
/// only `--force` gets here) are first copied into the run directory, so nothing is lost;
/// the copies are returned. Leftover temporary entries of an interrupted run are removed. A
/// failure stops the rollback with the run still recorded as before: every file is then at
/// its before or after state, and rollback can be run again.
pub fn apply_rollback(
    rootfs: &RootFs,
    run_dir: &RunDir,
    manifest: &mut Manifest,
    reversals: &[Reversal],
) -> Result<Vec<DriftedCopy>> {
    let mut copies = Vec::new();
    for (n, r) in reversals.iter().enumerate() {
        if let (Some(_), Some(bytes)) = (&r.drift, &r.now.content) {
            let copy = run_dir.save_copy(DRIFTED, &format!("{n:03}"), bytes)?;
            copies.push(DriftedCopy {
                path: r.record.path.clone(),
                copy,
            });
        }
    }
    if !copies.is_empty() {
        manifest.drifted_copies.extend(copies.iter().cloned());
        run_dir.save_manifest(manifest)?;
    }
    for r in reversals.iter().rev() {
        if r.is_restored() {
            continue;
        }
        // A metadata-only record has no content to restore: only the mode and owner go back.
        transition(
            rootfs,
            &r.record.path,
            &r.now,
            &r.restore,
            r.record.as_user.as_ref(),
            false,
            &mut Vec::new(),
        )?;
    }
    for r in reversals.iter().rev() {
        remove_created_dirs(rootfs, &r.record.created_dirs, r.record.as_user.as_ref());
    }
    remove_created_dirs(rootfs, &manifest.created_dirs, None);
    let touched: Vec<(PathBuf, Option<Account>)> = reversals
        .iter()
        .map(|r| (r.record.path.clone(), r.record.as_user.clone()))
        .collect();
    remove_temp_entries(rootfs, &touched)?;
    manifest.rolled_back = Some(records::now().to_string());
    manifest.status = RunStatus::RolledBack;
    run_dir.save_manifest(manifest)?;
    Ok(copies)
}
