//! Applying a plan as one recorded transaction, and reverting it from the same record.
//!
//! docker-harden keeps its state in /var/lib/docker-harden inside the root: a lock, and under
//! backups/RUN-ID each run's manifest, the originals of the files it changed and copies of
//! what it wrote. /var/lib is resolved inside the root like any path; docker-harden's own
//! directories below it must be real directories, private to docker-harden (a symlink or a
//! directory others can write is refused), and every file there is opened without following
//! symlinks.
//!
//! A run takes the lock, checks that every file is still as planned, saves the originals and
//! its manifest (status `applying`), then moves each file from its before state to its after
//! state through `confined::Dir` (no symlink followed in any component). When a write fails,
//! the run undoes the writes before it, by renaming each replaced file back (it was kept
//! linked, so the undo needs no space on a full disk), and says so. A run killed part way
//! stays `applying`: `rollback` completes it, since a file at its before or its after state is
//! not drift, and `fix` refuses to stack a new run on it.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::confined::Dir;
use crate::credentials::{self, Account};
use crate::error::{Error, Result};
use crate::plan::{FileChange, PlannedFile, ServiceAction};
use crate::rootfs::{FileKind, RootFs};

pub const STATE_DIR: &str = "/var/lib/docker-harden";
pub const BACKUPS_DIR: &str = "/var/lib/docker-harden/backups";
/// Resolved inside the root like any path (an image may keep /var elsewhere).
const STATE_PARENT: &str = "/var/lib";
const STATE_NAME: &str = "docker-harden";
const BACKUPS_NAME: &str = "backups";
const LOCK_NAME: &str = "lock";
const MANIFEST: &str = "manifest.json";
const FILES: &str = "files";
/// Where `rollback --force` keeps what an operator changed after the run.
const DRIFTED: &str = "drifted";
const PRIVATE_MODE: u32 = 0o700;
/// Directories a run makes for the files it creates (/etc/docker in a bare root).
const NEW_DIR_MODE: u32 = 0o755;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// Writing started and the run has not finished: a crash leaves this, and `rollback`
    /// completes it from the record.
    Applying,
    Applied,
    RolledBack,
}

impl RunStatus {
    pub fn label(self) -> &'static str {
        match self {
            RunStatus::Applying => "applying",
            RunStatus::Applied => "applied",
            RunStatus::RolledBack => "rolled-back",
        }
    }
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
    /// The codes of `items`, in their order: the same whatever `--benchmark` printed (runs
    /// recorded before codes existed have none).
    #[serde(default)]
    pub codes: Vec<String>,
    /// The user whose privileges the file is changed with, both ways (a rootless daemon's
    /// files); `None` for root.
    #[serde(default)]
    pub as_user: Option<Account>,
    /// Directories the run made for this file (removed again on rollback when empty).
    #[serde(default)]
    pub created_dirs: Vec<PathBuf>,
}

impl FileRecord {
    /// The file as it was before the run (its content by checksum only).
    fn before(&self) -> (Option<&str>, Option<u32>, Option<(u32, u32)>) {
        (
            self.sha256_before.as_deref(),
            self.mode,
            self.uid.zip(self.gid),
        )
    }

    /// The file as the run left it.
    fn after(&self) -> (Option<&str>, Option<u32>, Option<(u32, u32)>) {
        (
            self.sha256_after.as_deref(),
            Some(self.mode_after),
            Some((self.uid_after, self.gid_after)),
        )
    }

    /// A change of mode or owner alone: the content is not the run's, and is not compared.
    fn metadata_only(&self) -> bool {
        self.existed && self.sha256_before.is_none() && self.sha256_after.is_none()
    }
}

/// A copy `rollback --force` kept of a file an operator changed after the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftedCopy {
    pub path: PathBuf,
    /// Relative to the run directory.
    pub copy: String,
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
    /// The codes of `items`, in their order (runs recorded before codes existed have none).
    #[serde(default)]
    pub codes: Vec<String>,
    pub services: Vec<ServiceAction>,
    pub files: Vec<FileRecord>,
    /// Directories made by runs recorded before each file kept its own list.
    #[serde(default)]
    pub created_dirs: Vec<PathBuf>,
    #[serde(default)]
    pub rolled_back: Option<String>,
    /// Why the run was rolled back, when docker-harden did it by itself.
    #[serde(default)]
    pub rollback_reason: Option<String>,
    /// What `rollback --force` kept of files changed after the run.
    #[serde(default)]
    pub drifted_copies: Vec<DriftedCopy>,
}

/// Runs recorded before rootless support fixed the system daemon.
fn system_daemon() -> String {
    "system".into()
}

pub fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

/// The directory and last component of a host path.
fn split(path: &Path) -> Result<(&Path, &OsStr)> {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => Ok((parent, name)),
        _ => Err(Error::InvalidFile {
            path: path.to_path_buf(),
            message: "not a file path".into(),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// docker-harden's own directories.

/// docker-harden's state directory in the root, checked private.
pub struct StateDir {
    dir: Dir,
}

impl StateDir {
    /// The state directory; `None` when there is none yet (nothing was ever applied).
    pub fn open(rootfs: &RootFs) -> Result<Option<StateDir>> {
        let parent = rootfs.resolve(Path::new(STATE_PARENT))?;
        let Some(parent) = rootfs.open_dir(&parent)? else {
            return Ok(None);
        };
        match parent.subdir(OsStr::new(STATE_NAME))? {
            Some(dir) => {
                check_private(&dir)?;
                Ok(Some(StateDir { dir }))
            }
            None => Ok(None),
        }
    }

    /// The state directory, made (with /var/lib in a bare root) when missing.
    pub fn create(rootfs: &RootFs) -> Result<StateDir> {
        if let Some(state) = StateDir::open(rootfs)? {
            return Ok(state);
        }
        let parent = rootfs.resolve(Path::new(STATE_PARENT))?;
        let parent = Dir::create(rootfs.root(), &parent, NEW_DIR_MODE, &mut Vec::new())?;
        let dir = match parent.make_subdir(OsStr::new(STATE_NAME), PRIVATE_MODE) {
            Ok(dir) => dir,
            // Made by a run that raced this one for the lock.
            Err(_) => parent
                .subdir(OsStr::new(STATE_NAME))?
                .ok_or_else(|| Error::Write {
                    path: parent.host().join(STATE_NAME),
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                })?,
        };
        check_private(&dir)?;
        Ok(StateDir { dir })
    }

    /// The host path of the state directory (/var/lib/docker-harden unless /var/lib is a
    /// symlink inside the root).
    pub fn host(&self) -> &Path {
        self.dir.host()
    }

    fn backups(&self) -> Result<Option<Dir>> {
        let dir = self.dir.subdir(OsStr::new(BACKUPS_NAME))?;
        if let Some(dir) = &dir {
            check_private(dir)?;
        }
        Ok(dir)
    }

    fn create_backups(&self) -> Result<Dir> {
        match self.backups()? {
            Some(dir) => Ok(dir),
            None => self.dir.make_subdir(OsStr::new(BACKUPS_NAME), PRIVATE_MODE),
        }
    }

    /// Takes the lock that one writing run holds for its whole length.
    pub fn lock(&self) -> Result<Lock> {
        let path = self.dir.host().join(LOCK_NAME);
        let file = self.dir.open_regular_rw(OsStr::new(LOCK_NAME))?;
        match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
            Ok(mut lock) => {
                let _ = lock.set_len(0);
                let _ = writeln!(*lock, "{}", std::process::id());
                Ok(Lock { _lock: lock })
            }
            Err((_, _)) => Err(Error::Locked {
                path,
                holder: self.lock_holder(),
            }),
        }
    }

    fn lock_holder(&self) -> String {
        self.dir
            .read(OsStr::new(LOCK_NAME))
            .ok()
            .flatten()
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .map(|pid| format!(" by pid {pid}"))
            .unwrap_or_default()
    }

    /// Whether another process holds the lock now (a run in progress), found without
    /// writing anything: a shared lock on the existing lock file is refused while it is held.
    pub fn locked_by_another(&self) -> Result<Option<Error>> {
        if !self
            .dir
            .stat(OsStr::new(LOCK_NAME))?
            .is_some_and(|m| m.kind == FileKind::File)
        {
            return Ok(None);
        }
        let file = self.dir.open_regular_ro(OsStr::new(LOCK_NAME))?;
        match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockSharedNonblock) {
            Ok(_) => Ok(None),
            Err(_) => Ok(Some(Error::Locked {
                path: self.dir.host().join(LOCK_NAME),
                holder: self.lock_holder(),
            })),
        }
    }
}

/// docker-harden's directories hold the originals of /etc's files and decide what rollback
/// writes: a directory someone else owns or can write is not ours to trust.
fn check_private(dir: &Dir) -> Result<()> {
    let meta = dir.own_meta()?;
    let euid = nix::unistd::geteuid().as_raw();
    if meta.uid != euid || meta.mode & 0o022 != 0 {
        return Err(Error::InvalidFile {
            path: dir.host().to_path_buf(),
            message: format!(
                "docker-harden's own directory is owned by uid {} with mode {:04o}; it must be owned by uid {euid} and writable by no one else (it holds the backups rollback restores): remove it or fix its owner and mode",
                meta.uid, meta.mode
            ),
        });
    }
    Ok(())
}

/// Held for the whole of a writing run.
pub struct Lock {
    _lock: nix::fcntl::Flock<File>,
}

/// Takes the writing lock, making the state directory when needed.
pub fn lock(rootfs: &RootFs) -> Result<Lock> {
    StateDir::create(rootfs)?.lock()
}

// ---------------------------------------------------------------------------------------------
// Run directories.

/// One saved run's directory.
pub struct RunDir {
    dir: Dir,
}

impl RunDir {
    /// Its host path, for messages.
    pub fn host(&self) -> &Path {
        self.dir.host()
    }

    /// A file of the run, by its name relative to the run directory (`files/000`).
    pub fn read(&self, relative: &str) -> Result<Option<Vec<u8>>> {
        let (sub, name) = match relative.split_once('/') {
            Some((sub, name)) => (Some(sub), name),
            None => (None, relative),
        };
        match sub {
            None => self.dir.read(OsStr::new(name)),
            Some(sub) => match self.dir.subdir(OsStr::new(sub))? {
                Some(dir) => dir.read(OsStr::new(name)),
                None => Ok(None),
            },
        }
    }

    fn save_manifest(&self, manifest: &Manifest) -> Result<()> {
        let text = serde_json::to_string_pretty(manifest).expect("manifest serialises");
        self.dir
            .write_atomic(
                OsStr::new(MANIFEST),
                text.as_bytes(),
                0o600,
                own_ids(),
                false,
            )
            .map(drop)
    }

    /// Saves bytes privately under `sub/NAME`; returns the name relative to the run directory.
    fn save_copy(&self, sub: &str, name: &str, bytes: &[u8]) -> Result<String> {
        let dir = match self.dir.subdir(OsStr::new(sub))? {
            Some(dir) => dir,
            None => self.dir.make_subdir(OsStr::new(sub), PRIVATE_MODE)?,
        };
        dir.write_atomic(OsStr::new(name), bytes, 0o600, own_ids(), false)?;
        Ok(format!("{sub}/{name}"))
    }

    /// Removes a run that never wrote a file of the host (its saving failed), so no record
    /// of a run that did not happen is left.
    fn discard(self, backups: &Dir, run_id: &str) {
        for sub in [FILES, DRIFTED] {
            if let Ok(Some(dir)) = self.dir.subdir(OsStr::new(sub)) {
                for name in dir.names().unwrap_or_default() {
                    let _ = dir.remove(&name);
                }
                let _ = self.dir.remove_empty_dir(OsStr::new(sub));
            }
        }
        for name in self.dir.names().unwrap_or_default() {
            let _ = self.dir.remove(&name);
        }
        let _ = backups.remove_empty_dir(OsStr::new(run_id));
    }
}

fn own_ids() -> (u32, u32) {
    (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    )
}

/// A saved run: its record, or why the record cannot be read.
pub struct SavedRun {
    pub run_id: String,
    pub record: std::result::Result<Manifest, String>,
}

/// Run IDs are UTC timestamps with a counter for runs in the same second: their order.
fn run_order(run_id: &str) -> (String, u64) {
    match run_id.split_once('-') {
        Some((stamp, n)) => (stamp.to_string(), n.parse().unwrap_or(u64::MAX)),
        None => (run_id.to_string(), 0),
    }
}

/// Every saved run, oldest first. A run whose manifest is missing or damaged is listed with
/// the reason; it does not hide the others.
pub fn list_runs(rootfs: &RootFs) -> Result<Vec<SavedRun>> {
    let Some(state) = StateDir::open(rootfs)? else {
        return Ok(Vec::new());
    };
    let Some(backups) = state.backups()? else {
        return Ok(Vec::new());
    };
    let mut runs = Vec::new();
    for name in backups.names()? {
        let run_id = name.to_string_lossy().into_owned();
        if run_id.starts_with('.') {
            continue;
        }
        let record = read_manifest(&backups, &name, &run_id);
        runs.push(SavedRun { run_id, record });
    }
    runs.sort_by_key(|r| run_order(&r.run_id));
    Ok(runs)
}

fn read_manifest(
    backups: &Dir,
    name: &OsStr,
    run_id: &str,
) -> std::result::Result<Manifest, String> {
    let dir = backups
        .subdir(name)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "not a directory".to_string())?;
    let bytes = dir
        .read(OsStr::new(MANIFEST))
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!("no {MANIFEST} (a run stopped before it changed any file leaves this)")
        })?;
    let manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|e| format!("{MANIFEST} is damaged: {e}"))?;
    if manifest.run_id != run_id {
        return Err(format!(
            "{MANIFEST} names run {}, not the directory's own",
            manifest.run_id
        ));
    }
    Ok(manifest)
}

/// The run to revert: the named one, or the latest readable one not rolled back yet.
pub fn find_run(rootfs: &RootFs, run_id: Option<&str>) -> Result<(RunDir, Manifest)> {
    let runs = list_runs(rootfs)?;
    let chosen = match run_id {
        Some(id) => runs.into_iter().find(|r| r.run_id == id).ok_or_else(|| {
            Error::Usage(format!(
                "no saved run {id} (see `docker-harden rollback --list`)"
            ))
        })?,
        None => runs
            .into_iter()
            .rev()
            .find(|r| {
                r.record
                    .as_ref()
                    .is_ok_and(|m| m.status != RunStatus::RolledBack)
            })
            .ok_or_else(|| Error::Usage("no saved run to roll back".into()))?,
    };
    let manifest = chosen.record.map_err(|reason| Error::Rollback {
        run: chosen.run_id.clone(),
        reason,
    })?;
    Ok((open_run(rootfs, &chosen.run_id)?, manifest))
}

fn open_run(rootfs: &RootFs, run_id: &str) -> Result<RunDir> {
    let missing = || Error::Usage(format!("no saved run {run_id}"));
    let state = StateDir::open(rootfs)?.ok_or_else(missing)?;
    let backups = state.backups()?.ok_or_else(missing)?;
    let dir = backups.subdir(OsStr::new(run_id))?.ok_or_else(missing)?;
    Ok(RunDir { dir })
}

/// A run that stopped while applying (killed, or the machine went down) and has not been
/// rolled back: its files may be part written. Run with the lock held, or after
/// `StateDir::locked_by_another` said no run is in progress.
pub fn interrupted_run(rootfs: &RootFs) -> Result<Option<String>> {
    Ok(list_runs(rootfs)?.into_iter().rev().find_map(|r| {
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
    let (run_dir, manifest) = find_run(rootfs, Some(run_id))?;
    Ok(plan_rollback(rootfs, &run_dir, &manifest)?
        .iter()
        .all(Reversal::is_restored))
}

/// Records an interrupted run that changed nothing as rolled back. Run with the lock held.
pub fn close_untouched(rootfs: &RootFs, run_id: &str) -> Result<()> {
    let (run_dir, mut manifest) = find_run(rootfs, Some(run_id))?;
    manifest.status = RunStatus::RolledBack;
    manifest.rolled_back = Some(now().to_string());
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

// ---------------------------------------------------------------------------------------------
// Moving a file between two states: the one routine for applying, undoing and rolling back.

/// What is at a path on disk, looked at once, without following a symlink in any component.
struct OnDisk {
    /// In the plan's terms; a symlink or other non-file has no content.
    state: PlannedFile,
    /// What the entry is, when there is one (a symlink is `Other`).
    kind: Option<FileKind>,
    symlink: bool,
}

fn on_disk(rootfs: &RootFs, path: &Path) -> Result<OnDisk> {
    let absent = OnDisk {
        state: PlannedFile {
            content: None,
            mode: None,
            owner: None,
        },
        kind: None,
        symlink: false,
    };
    let (parent, name) = split(path)?;
    let Some(dir) = rootfs.open_dir(parent)? else {
        return Ok(absent);
    };
    let Some(meta) = dir.stat(name)? else {
        return Ok(absent);
    };
    let content = match meta.kind {
        FileKind::File => dir.read(name)?,
        _ => None,
    };
    Ok(OnDisk {
        state: PlannedFile {
            content,
            mode: Some(meta.mode),
            owner: Some((meta.uid, meta.gid)),
        },
        kind: Some(meta.kind),
        symlink: meta.kind == FileKind::Other && dir.is_symlink(name)?,
    })
}

/// The state of a file on disk, in the plan's terms, read without following a symlink in any
/// component. A symlink or other non-file at the path has no content.
pub fn disk_state(rootfs: &RootFs, path: &Path) -> Result<PlannedFile> {
    on_disk(rootfs, path).map(|d| d.state)
}

/// A replaced file, still linked under a temporary name beside its successor: the write is
/// undone by renaming it back, which needs no space on a full disk.
struct KeptOriginal {
    dir: Dir,
    name: OsString,
    kept: OsString,
}

impl KeptOriginal {
    fn restore(&self, as_user: Option<&Account>) -> Result<()> {
        credentials::run_as(as_user, || self.dir.rename(&self.kept, &self.name))
    }

    fn release(&self, as_user: Option<&Account>) -> Result<()> {
        credentials::run_as(as_user, || self.dir.remove(&self.kept))
    }
}

/// Moves the file at `path` from `now` (what is on disk) to `to`, as whoever `as_user` says.
/// Missing parent directories are made and recorded in `created`. With `keep_old`, a replaced
/// file stays linked under a temporary name (returned) so the move can be undone by a rename.
fn transition(
    rootfs: &RootFs,
    path: &Path,
    now: &PlannedFile,
    to: &PlannedFile,
    as_user: Option<&Account>,
    keep_old: bool,
    created: &mut Vec<PathBuf>,
) -> Result<Option<KeptOriginal>> {
    let (parent, name) = split(path)?;
    credentials::run_as(as_user, || {
        let owner = to.owner.unwrap_or((0, 0));
        match (&to.content, to.mode) {
            (_, None) => {
                if now.mode.is_some()
                    && let Some(dir) = rootfs.open_dir(parent)?
                {
                    dir.remove(name)?;
                }
                Ok(None)
            }
            (Some(bytes), Some(mode)) if now.content.as_ref() != Some(bytes) => {
                let dir = Dir::create(rootfs.root(), parent, NEW_DIR_MODE, created)?;
                Ok(dir
                    .write_atomic(name, bytes, mode, owner, keep_old)?
                    .map(|kept| KeptOriginal {
                        dir,
                        name: name.to_os_string(),
                        kept,
                    }))
            }
            (_, Some(mode)) => {
                let dir = rootfs.open_dir(parent)?.ok_or_else(|| Error::Write {
                    path: path.to_path_buf(),
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                })?;
                dir.set_meta(name, mode, owner)?;
                Ok(None)
            }
        }
    })
}

/// Removes, deepest first, the directories made for a file, where they are still empty.
fn remove_created_dirs(rootfs: &RootFs, dirs: &[PathBuf], as_user: Option<&Account>) {
    for dir in dirs.iter().rev() {
        let _ = credentials::run_as(as_user, || {
            let (parent, name) = split(dir)?;
            if let Some(parent) = rootfs.open_dir(parent)? {
                parent.remove_empty_dir(name)?;
            }
            Ok(())
        });
    }
}

/// Removes the temporary entries a killed or failed write left beside the files of a run.
fn remove_temp_entries(rootfs: &RootFs, files: &[(PathBuf, Option<Account>)]) -> Result<()> {
    let mut seen: Vec<&Path> = Vec::new();
    for (path, as_user) in files {
        let Some(parent) = path.parent() else {
            continue;
        };
        if seen.contains(&parent) {
            continue;
        }
        seen.push(parent);
        credentials::run_as(as_user.as_ref(), || {
            if let Some(dir) = rootfs.open_dir(parent)? {
                for name in dir.temp_names()? {
                    dir.remove(&name)?;
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Applying.

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
pub fn apply(
    rootfs: &RootFs,
    changes: &[FileChange],
    items_by_path: &dyn Fn(&Path) -> Vec<String>,
    items: Vec<String>,
    codes: &BTreeMap<String, String>,
    services: Vec<ServiceAction>,
    daemon: String,
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
    let (run_id, run_dir) = new_run_dir(&backups)?;
    let mut manifest = match save_originals(&run_dir, changes, items_by_path, codes) {
        Ok(records) => Manifest {
            run_id: run_id.clone(),
            created: now().to_string(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            status: RunStatus::Applying,
            daemon,
            codes: codes_of(&items, codes),
            items,
            services,
            files: records,
            created_dirs: Vec::new(),
            rolled_back: None,
            rollback_reason: None,
            drifted_copies: Vec::new(),
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
                manifest.rolled_back = Some(now().to_string());
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

/// A run directory with a fresh ID.
fn new_run_dir(backups: &Dir) -> Result<(String, RunDir)> {
    let stamp = now().strftime("%Y%m%dT%H%M%SZ").to_string();
    for n in 0..1000 {
        let id = if n == 0 {
            stamp.clone()
        } else {
            format!("{stamp}-{n}")
        };
        if backups.stat(OsStr::new(&id))?.is_some() {
            continue;
        }
        match backups.make_subdir(OsStr::new(&id), PRIVATE_MODE) {
            Ok(dir) => return Ok((id, RunDir { dir })),
            Err(Error::Write { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                continue;
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::Usage("cannot find a free run ID".into()))
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

// ---------------------------------------------------------------------------------------------
// Rollback.

/// What the run wrote to a file, when a copy was kept.
pub fn written_copy(run_dir: &RunDir, record: &FileRecord) -> Option<Vec<u8>> {
    record
        .written
        .as_ref()
        .and_then(|name| run_dir.read(name).ok().flatten())
}

/// The original the run saved of a file, when it had content.
pub fn backup_copy(run_dir: &RunDir, record: &FileRecord) -> Option<Vec<u8>> {
    record
        .backup
        .as_ref()
        .and_then(|name| run_dir.read(name).ok().flatten())
}

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
    pub fn is_restored(&self) -> bool {
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
    manifest.rolled_back = Some(now().to_string());
    manifest.status = RunStatus::RolledBack;
    run_dir.save_manifest(manifest)?;
    Ok(copies)
}
