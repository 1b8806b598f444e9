//! Applying a plan as one recorded transaction, and reverting it from the same record.
//!
//! Before the first write the run takes a lock, checks that every file is still as planned,
//! and saves each original with a manifest under /var/lib/docker-harden/backups/RUN-ID (inside
//! the root). Rollback restores every file of a run byte for byte with its mode and owner, and
//! refuses (unless forced) when a file changed after the run.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::plan::{FileChange, PlannedFile, ServiceAction};
use crate::rootfs::{Meta, RootFs};
use crate::safe_write;

pub const STATE_DIR: &str = "/var/lib/docker-harden";
pub const BACKUPS_DIR: &str = "/var/lib/docker-harden/backups";
const LOCK_FILE: &str = "/var/lib/docker-harden/lock";
const MANIFEST: &str = "manifest.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// Writing started; a crash leaves this, and rollback still works from the record.
    Applying,
    Applied,
    RolledBack,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub path: PathBuf,
    pub existed: bool,
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub sha256_before: Option<String>,
    pub mode_after: u32,
    pub uid_after: u32,
    pub gid_after: u32,
    pub sha256_after: Option<String>,
    /// The saved original, relative to the run directory.
    pub backup: Option<String>,
    /// A copy of what the run wrote, to show how a file drifted since.
    #[serde(default)]
    pub written: Option<String>,
    pub items: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub run_id: String,
    pub created: String,
    pub tool_version: String,
    pub status: RunStatus,
    /// The daemon the run fixed (`system` or `rootless:USER`): rollback restarts that one.
    #[serde(default = "system_daemon")]
    pub daemon: String,
    pub items: Vec<String>,
    pub services: Vec<ServiceAction>,
    pub files: Vec<FileRecord>,
    /// Directories this run created (removed again on rollback when empty).
    pub created_dirs: Vec<PathBuf>,
    #[serde(default)]
    pub rolled_back: Option<String>,
    /// Why the run was rolled back, when docker-harden did it by itself.
    #[serde(default)]
    pub rollback_reason: Option<String>,
}

/// Held for the whole of a writing run.
pub struct Lock {
    _lock: nix::fcntl::Flock<File>,
}

/// Runs recorded before rootless support fixed the system daemon.
fn system_daemon() -> String {
    "system".into()
}

pub fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn ensure_private_dir(rootfs: &RootFs, host: &str) -> Result<PathBuf> {
    let real = rootfs.real(Path::new(host));
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&real)
        .map_err(|source| Error::Write {
            path: PathBuf::from(host),
            source,
        })?;
    Ok(real)
}

pub fn lock(rootfs: &RootFs) -> Result<Lock> {
    ensure_private_dir(rootfs, STATE_DIR)?;
    let path = rootfs.real(Path::new(LOCK_FILE));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|source| Error::Write {
            path: PathBuf::from(LOCK_FILE),
            source,
        })?;
    match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
        Ok(mut lock) => {
            let _ = lock.set_len(0);
            let _ = writeln!(*lock, "{}", std::process::id());
            Ok(Lock { _lock: lock })
        }
        Err((_, _)) => {
            let holder = fs::read_to_string(&path)
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .map(|pid| format!(" by pid {pid}"))
                .unwrap_or_default();
            Err(Error::Locked {
                path: PathBuf::from(LOCK_FILE),
                holder,
            })
        }
    }
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

fn new_run_dir(rootfs: &RootFs) -> Result<(String, PathBuf)> {
    ensure_private_dir(rootfs, BACKUPS_DIR)?;
    let stamp = now().strftime("%Y%m%dT%H%M%SZ").to_string();
    for n in 0..1000 {
        let id = if n == 0 {
            stamp.clone()
        } else {
            format!("{stamp}-{n}")
        };
        let host = format!("{BACKUPS_DIR}/{id}");
        let real = rootfs.real(Path::new(&host));
        match fs::DirBuilder::new().mode(0o700).create(&real) {
            Ok(()) => return Ok((id, real)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => {
                return Err(Error::Write {
                    path: PathBuf::from(host),
                    source,
                });
            }
        }
    }
    Err(Error::Usage("cannot find a free run ID".into()))
}

fn save_manifest(run_dir: &Path, manifest: &Manifest) -> Result<()> {
    let path = run_dir.join(MANIFEST);
    let text = serde_json::to_string_pretty(manifest).expect("manifest serialises");
    safe_write::write_atomic(&path, text.as_bytes(), 0o600, 0, 0)
        .or_else(|_| {
            // Not root (tests as a user): keep the file ours.
            let uid = nix::unistd::geteuid().as_raw();
            let gid = nix::unistd::getegid().as_raw();
            safe_write::write_atomic(&path, text.as_bytes(), 0o600, uid, gid)
        })
        .map_err(|source| Error::Write { path, source })
}

/// The current state of a file on disk, in the plan's terms.
fn disk_state(rootfs: &RootFs, path: &Path) -> Result<PlannedFile> {
    let real = rootfs.real(path);
    match fs::symlink_metadata(&real) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(PlannedFile {
            content: None,
            mode: None,
            owner: None,
        }),
        Err(source) => Err(Error::Read {
            path: path.to_path_buf(),
            source,
        }),
        Ok(m) => {
            let meta = Meta::from_std(&m);
            let content = if m.is_file() {
                Some(fs::read(&real).map_err(|source| Error::Read {
                    path: path.to_path_buf(),
                    source,
                })?)
            } else {
                None
            };
            Ok(PlannedFile {
                content,
                mode: Some(meta.mode),
                owner: Some((meta.uid, meta.gid)),
            })
        }
    }
}

/// What a finished run did, for the report.
pub struct Applied {
    pub run_id: String,
    pub run_dir: PathBuf,
    pub manifest: Manifest,
}

/// Writes every change of the plan. Services are not touched here; see `finish`.
pub fn apply(
    rootfs: &RootFs,
    changes: &[FileChange],
    items_by_path: &dyn Fn(&Path) -> Vec<String>,
    items: Vec<String>,
    services: Vec<ServiceAction>,
    daemon: String,
) -> Result<Applied> {
    // The files must still be what the plan was made from (an interactive session can last).
    for change in changes {
        let mut now = disk_state(rootfs, &change.path)?;
        if change.before.content.is_none() && !change.content_changed() {
            // A metadata-only change (chmod of a binary or socket): its content is not ours.
            now.content = None;
        }
        if now != change.before {
            return Err(Error::InvalidFile {
                path: change.path.clone(),
                message: "changed since docker-harden read it; nothing was written, run again"
                    .into(),
            });
        }
    }
    let (run_id, run_dir) = new_run_dir(rootfs)?;
    let files_dir = run_dir.join("files");
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&files_dir)
        .map_err(|source| Error::Write {
            path: files_dir.clone(),
            source,
        })?;

    let mut records = Vec::new();
    for (n, change) in changes.iter().enumerate() {
        let backup = save_copy(
            &run_dir,
            &format!("files/{n:03}"),
            change.before.content.as_deref(),
        )?;
        let written = match change.content_changed() {
            true => save_copy(
                &run_dir,
                &format!("files/{n:03}.written"),
                change.after.content.as_deref(),
            )?,
            false => None,
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
            items: items_by_path(&change.path),
        });
    }
    safe_write::sync_dir(&files_dir).map_err(|source| Error::Write {
        path: files_dir.clone(),
        source,
    })?;
    let mut manifest = Manifest {
        run_id: run_id.clone(),
        created: now().to_string(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        status: RunStatus::Applying,
        daemon,
        items,
        services,
        files: records,
        created_dirs: Vec::new(),
        rolled_back: None,
        rollback_reason: None,
    };
    save_manifest(&run_dir, &manifest)?;

    for change in changes {
        let real = rootfs.real(&change.path);
        if let Some(parent) = change.path.parent() {
            create_parents(rootfs, parent, &mut manifest.created_dirs)?;
        }
        if !manifest.created_dirs.is_empty() {
            save_manifest(&run_dir, &manifest)?;
        }
        let mode = change.after.mode.unwrap_or(0o644);
        let (uid, gid) = change.after.owner.unwrap_or((0, 0));
        let result = match &change.after.content {
            Some(bytes) if change.content_changed() => {
                safe_write::write_atomic(&real, bytes, mode, uid, gid)
            }
            _ => safe_write::set_meta(&real, mode, uid, gid),
        };
        result.map_err(|source| Error::Write {
            path: change.path.clone(),
            source,
        })?;
    }
    manifest.status = RunStatus::Applied;
    save_manifest(&run_dir, &manifest)?;
    Ok(Applied {
        run_id,
        run_dir,
        manifest,
    })
}

/// Saves bytes privately in the run directory; returns the relative name.
fn save_copy(run_dir: &Path, name: &str, bytes: Option<&[u8]>) -> Result<Option<String>> {
    let Some(bytes) = bytes else { return Ok(None) };
    let path = run_dir.join(name);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
    f.set_permissions(fs::Permissions::from_mode(0o600))
        .and_then(|_| f.write_all(bytes))
        .and_then(|_| f.sync_all())
        .map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
    Ok(Some(name.to_string()))
}

/// What the run wrote to a file, when a copy was kept.
pub fn written_copy(run_dir: &Path, record: &FileRecord) -> Option<Vec<u8>> {
    record
        .written
        .as_ref()
        .and_then(|name| fs::read(run_dir.join(name)).ok())
}

/// Creates the missing directories above a file. Each new directory belongs to whoever owns
/// its parent: under /etc that is root, under a rootless user's ~/.config the user, whose
/// daemon must be able to read its own configuration directory.
fn create_parents(rootfs: &RootFs, dir: &Path, created: &mut Vec<PathBuf>) -> Result<()> {
    if rootfs.real(dir).exists() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_parents(rootfs, parent, created)?;
    }
    let failed = |source| Error::Write {
        path: dir.to_path_buf(),
        source,
    };
    let real = rootfs.real(dir);
    fs::DirBuilder::new()
        .mode(0o755)
        .create(&real)
        .map_err(failed)?;
    if let Some(parent) = real.parent() {
        let owner = fs::metadata(parent).map_err(failed)?;
        std::os::unix::fs::chown(&real, Some(owner.uid()), Some(owner.gid())).map_err(failed)?;
    }
    created.push(dir.to_path_buf());
    Ok(())
}

/// Records how the services went.
pub fn mark(run_dir: &Path, manifest: &mut Manifest, status: RunStatus) -> Result<()> {
    manifest.status = status;
    save_manifest(run_dir, manifest)
}

// ---------------------------------------------------------------------------------------------
// Saved runs and rollback.

pub fn list_runs(rootfs: &RootFs) -> Result<Vec<Manifest>> {
    let mut runs = Vec::new();
    for name in rootfs.list_dir(Path::new(BACKUPS_DIR))? {
        let path = rootfs
            .real(Path::new(BACKUPS_DIR))
            .join(&name)
            .join(MANIFEST);
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| Error::InvalidFile {
            path: PathBuf::from(format!("{BACKUPS_DIR}/{name}/{MANIFEST}")),
            message: e.to_string(),
        })?;
        runs.push(manifest);
    }
    runs.sort_by(|a, b| a.created.cmp(&b.created).then(a.run_id.cmp(&b.run_id)));
    Ok(runs)
}

/// The run to revert: the named one, or the latest that has not been rolled back.
pub fn find_run(rootfs: &RootFs, run_id: Option<&str>) -> Result<(PathBuf, Manifest)> {
    let runs = list_runs(rootfs)?;
    let manifest = match run_id {
        Some(id) => runs.into_iter().find(|m| m.run_id == id).ok_or_else(|| {
            Error::Usage(format!(
                "no saved run {id} (see `docker-harden rollback --list`)"
            ))
        })?,
        None => runs
            .into_iter()
            .rev()
            .find(|m| m.status != RunStatus::RolledBack)
            .ok_or_else(|| Error::Usage("no saved run to roll back".into()))?,
    };
    let dir = rootfs.real(Path::new(BACKUPS_DIR)).join(&manifest.run_id);
    Ok((dir, manifest))
}

/// One file's way back: what is there now and what will be restored.
pub struct Reversal {
    pub record: FileRecord,
    pub now: PlannedFile,
    pub restore: PlannedFile,
    /// Why the file no longer matches what the run wrote, if it does not.
    pub drift: Option<String>,
}

pub fn plan_rollback(
    rootfs: &RootFs,
    run_dir: &Path,
    manifest: &Manifest,
) -> Result<Vec<Reversal>> {
    let mut out = Vec::new();
    for record in &manifest.files {
        let now = disk_state(rootfs, &record.path)?;
        let restore_content = match &record.backup {
            Some(name) => Some(fs::read(run_dir.join(name)).map_err(|source| Error::Read {
                path: run_dir.join(name),
                source,
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
        let restore = PlannedFile {
            content: restore_content,
            mode: record.mode,
            owner: record.uid.zip(record.gid),
        };
        let mut drift = Vec::new();
        let metadata_only =
            record.sha256_before.is_none() && record.sha256_after.is_none() && record.existed;
        if !metadata_only && now.content.as_deref().map(sha256) != record.sha256_after {
            drift.push("content changed".to_string());
        }
        if now.mode != Some(record.mode_after) && now.mode.is_some() {
            drift.push(format!(
                "mode is {:04o}, the run set {:04o}",
                now.mode.unwrap_or(0),
                record.mode_after
            ));
        }
        if now.mode.is_none() {
            drift.push("file was removed".into());
        }
        if let Some(owner) = now.owner
            && owner != (record.uid_after, record.gid_after)
        {
            drift.push(format!(
                "owner is {}:{}, the run set {}:{}",
                owner.0, owner.1, record.uid_after, record.gid_after
            ));
        }
        out.push(Reversal {
            record: record.clone(),
            now,
            restore,
            drift: (!drift.is_empty()).then(|| drift.join("; ")),
        });
    }
    Ok(out)
}

pub fn apply_rollback(
    rootfs: &RootFs,
    run_dir: &Path,
    manifest: &mut Manifest,
    reversals: &[Reversal],
) -> Result<()> {
    for r in reversals {
        let real = rootfs.real(&r.record.path);
        let result = match (&r.restore.content, r.restore.mode, r.restore.owner) {
            (Some(bytes), Some(mode), Some((uid, gid))) => {
                if r.now.content.as_deref() == Some(bytes.as_slice()) {
                    safe_write::set_meta(&real, mode, uid, gid)
                } else {
                    safe_write::write_atomic(&real, bytes, mode, uid, gid)
                }
            }
            (None, Some(mode), Some((uid, gid))) => safe_write::set_meta(&real, mode, uid, gid),
            (_, None, _) => match fs::symlink_metadata(&real) {
                Ok(_) => safe_write::remove(&real),
                Err(_) => Ok(()),
            },
            _ => Ok(()),
        };
        result.map_err(|source| Error::Write {
            path: r.record.path.clone(),
            source,
        })?;
    }
    for dir in manifest.created_dirs.iter().rev() {
        // Only if empty: something else may have been put there since.
        let _ = fs::remove_dir(rootfs.real(dir));
    }
    manifest.rolled_back = Some(now().to_string());
    mark(run_dir, manifest, RunStatus::RolledBack)
}
