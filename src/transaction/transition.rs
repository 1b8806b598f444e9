//! Moving a file between two states: the one routine for applying, undoing and rolling back.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use crate::confined::Dir;
use crate::credentials::{self, Account};
use crate::error::{Error, Result};
use crate::plan::PlannedFile;
use crate::records::NEW_DIR_MODE;
use crate::rootfs::{FileKind, RootFs};

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

/// What is at a path on disk, looked at once, without following a symlink in any component.
pub(super) struct OnDisk {
    /// In the plan's terms; a symlink or other non-file has no content.
    pub(super) state: PlannedFile,
    /// What the entry is, when there is one (a symlink is `Other`).
    pub(super) kind: Option<FileKind>,
    pub(super) symlink: bool,
}

pub(super) fn on_disk(rootfs: &RootFs, path: &Path) -> Result<OnDisk> {
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
pub(super) struct KeptOriginal {
    pub(super) dir: Dir,
    pub(super) name: OsString,
    pub(super) kept: OsString,
}

impl KeptOriginal {
    pub(super) fn restore(&self, as_user: Option<&Account>) -> Result<()> {
        credentials::run_as(as_user, || self.dir.rename(&self.kept, &self.name))
    }

    pub(super) fn release(&self, as_user: Option<&Account>) -> Result<()> {
        credentials::run_as(as_user, || self.dir.remove(&self.kept))
    }
}

/// Moves the file at `path` from `now` (what is on disk) to `to`, as whoever `as_user` says.
/// Missing parent directories are made and recorded in `created`. With `keep_old`, a replaced
/// file stays linked under a temporary name (returned) so the move can be undone by a rename.
pub(super) fn transition(
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
pub(super) fn remove_created_dirs(rootfs: &RootFs, dirs: &[PathBuf], as_user: Option<&Account>) {
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
pub(super) fn remove_temp_entries(
    rootfs: &RootFs,
    files: &[(PathBuf, Option<Account>)],
) -> Result<()> {
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
