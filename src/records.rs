//! The run records on disk: docker-harden's state directory, the lock one writing run holds,
//! and each run's directory with its manifest, the originals of the files it changed and
//! copies of what it wrote.
//!
//! docker-harden keeps its state in /var/lib/docker-harden inside the root: a lock, and under
//! backups/RUN-ID each run's manifest, the originals of the files it changed and copies of
//! what it wrote. /var/lib is resolved inside the root like any path; docker-harden's own
//! directories below it must be real directories, private to docker-harden (a symlink or a
//! directory others can write is refused), and every file there is opened without following
//! symlinks.
//!
//! The records know nothing of plans: a manifest's service actions are a type parameter, so
//! this base layer stays below the plan that defines them.

use std::ffi::OsStr;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::confined::Dir;
use crate::credentials::Account;
use crate::error::{Error, Result};
use crate::rootfs::{FileKind, RootFs};

pub(crate) const BACKUPS_DIR: &str = "/var/lib/docker-harden/backups";
/// Resolved inside the root like any path (an image may keep /var elsewhere).
const STATE_PARENT: &str = "/var/lib";
const STATE_NAME: &str = "docker-harden";
const BACKUPS_NAME: &str = "backups";
const LOCK_NAME: &str = "lock";
const MANIFEST: &str = "manifest.json";
pub(crate) const FILES: &str = "files";
/// Where `rollback --force` keeps what an operator changed after the run.
pub(crate) const DRIFTED: &str = "drifted";
const PRIVATE_MODE: u32 = 0o700;
/// Directories a run makes for the files it creates (/etc/docker in a bare root).
pub(crate) const NEW_DIR_MODE: u32 = 0o755;

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
    pub(crate) fn label(self) -> &'static str {
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
    pub(crate) fn before(&self) -> (Option<&str>, Option<u32>, Option<(u32, u32)>) {
        (
            self.sha256_before.as_deref(),
            self.mode,
            self.uid.zip(self.gid),
        )
    }

    /// The file as the run left it.
    pub(crate) fn after(&self) -> (Option<&str>, Option<u32>, Option<(u32, u32)>) {
        (
            self.sha256_after.as_deref(),
            Some(self.mode_after),
            Some((self.uid_after, self.gid_after)),
        )
    }

    /// A change of mode or owner alone: the content is not the run's, and is not compared.
    pub(crate) fn metadata_only(&self) -> bool {
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

/// A run's record. `S` is a service action as the plan names it (serialised by name); the
/// records only keep them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest<S> {
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
    pub services: Vec<S>,
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
    /// How the daemon.json the run wrote was validated before it was written (`dockerd
    /// --validate`, or the known keys of the engine's release); `None` when the run did not
    /// change daemon.json, and for runs recorded before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<String>,
}

/// Runs recorded before rootless support fixed the system daemon.
fn system_daemon() -> String {
    "system".into()
}

pub fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The clock runs are stamped with.
pub(crate) fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}
// ---------------------------------------------------------------------------------------------
// docker-harden's own directories.

/// docker-harden's state directory in the root, checked private.
pub(crate) struct StateDir {
    dir: Dir,
}

impl StateDir {
    /// The state directory; `None` when there is none yet (nothing was ever applied).
    pub(crate) fn open(rootfs: &RootFs) -> Result<Option<StateDir>> {
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
    pub(crate) fn create(rootfs: &RootFs) -> Result<StateDir> {
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

    fn backups(&self) -> Result<Option<Dir>> {
        let dir = self.dir.subdir(OsStr::new(BACKUPS_NAME))?;
        if let Some(dir) = &dir {
            check_private(dir)?;
        }
        Ok(dir)
    }

    pub(crate) fn create_backups(&self) -> Result<Dir> {
        match self.backups()? {
            Some(dir) => Ok(dir),
            None => self.dir.make_subdir(OsStr::new(BACKUPS_NAME), PRIVATE_MODE),
        }
    }

    /// Takes the lock that one writing run holds for its whole length.
    pub(crate) fn lock(&self) -> Result<Lock> {
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
    pub(crate) fn locked_by_another(&self) -> Result<Option<Error>> {
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
pub(crate) struct Lock {
    _lock: nix::fcntl::Flock<File>,
}

/// Takes the writing lock, making the state directory when needed.
pub(crate) fn lock(rootfs: &RootFs) -> Result<Lock> {
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
    pub(crate) fn host(&self) -> &Path {
        self.dir.host()
    }

    /// A file of the run, by its name relative to the run directory (`files/000`).
    pub(crate) fn read(&self, relative: &str) -> Result<Option<Vec<u8>>> {
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

    pub(crate) fn save_manifest<S: Serialize>(&self, manifest: &Manifest<S>) -> Result<()> {
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
    pub(crate) fn save_copy(&self, sub: &str, name: &str, bytes: &[u8]) -> Result<String> {
        let dir = match self.dir.subdir(OsStr::new(sub))? {
            Some(dir) => dir,
            None => self.dir.make_subdir(OsStr::new(sub), PRIVATE_MODE)?,
        };
        dir.write_atomic(OsStr::new(name), bytes, 0o600, own_ids(), false)?;
        Ok(format!("{sub}/{name}"))
    }

    /// Removes a run that never wrote a file of the host (its saving failed), so no record
    /// of a run that did not happen is left.
    pub(crate) fn discard(self, backups: &Dir, run_id: &str) {
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
pub(crate) struct SavedRun<S> {
    pub run_id: String,
    pub record: Result<Manifest<S>>,
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
pub(crate) fn list_runs<S: DeserializeOwned>(rootfs: &RootFs) -> Result<Vec<SavedRun<S>>> {
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

fn read_manifest<S: DeserializeOwned>(
    backups: &Dir,
    name: &OsStr,
    run_id: &str,
) -> Result<Manifest<S>> {
    let dir = backups.subdir(name)?.ok_or(Error::RunNotADirectory)?;
    let bytes = dir
        .read(OsStr::new(MANIFEST))?
        .ok_or(Error::ManifestMissing)?;
    let manifest: Manifest<S> = serde_json::from_slice(&bytes).map_err(Error::ManifestDamaged)?;
    if manifest.run_id != run_id {
        return Err(Error::ManifestOfAnotherRun {
            named: manifest.run_id,
        });
    }
    Ok(manifest)
}

/// The run to revert: the named one, or the latest readable one not rolled back yet.
pub(crate) fn find_run<S: DeserializeOwned>(
    rootfs: &RootFs,
    run_id: Option<&str>,
) -> Result<(RunDir, Manifest<S>)> {
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
        reason: reason.to_string(),
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

/// A run directory with a fresh ID.
pub(crate) fn new_run_dir(backups: &Dir) -> Result<(String, RunDir)> {
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

/// What the run wrote to a file, when a copy was kept.
pub(crate) fn written_copy(run_dir: &RunDir, record: &FileRecord) -> Option<Vec<u8>> {
    record
        .written
        .as_ref()
        .and_then(|name| run_dir.read(name).ok().flatten())
}

/// The original the run saved of a file, when it had content.
pub(crate) fn backup_copy(run_dir: &RunDir, record: &FileRecord) -> Option<Vec<u8>> {
    record
        .backup
        .as_ref()
        .and_then(|name| run_dir.read(name).ok().flatten())
}
