//! Directories opened without following symlinks, and the file operations docker-harden does
//! through them. A `Dir` is reached from the root one component at a time with `O_NOFOLLOW`,
//! and every operation names an entry of that directory (`openat`, `renameat`, `fchownat`...),
//! so a symlink planted in any component of a path, before or during a run, is refused instead
//! of followed out of the root. Paths are resolved first, inside the root, by
//! `RootFs::resolve` (where absolute symlinks lead inside the root, as on the booted host); the
//! resolved path has no symlink left, and these handles keep it that way.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, openat, renameat};
use nix::sys::stat::{FileStat, Mode, SFlag, fstat, fstatat, mkdirat};
use nix::unistd::{Gid, Uid, UnlinkatFlags, fchownat, fsync, linkat, unlinkat};

use crate::error::{Error, Result};
use crate::input;
use crate::rootfs::{FileKind, Meta};

/// Prefix of every temporary entry docker-harden makes beside a file it writes. A run killed
/// mid-write can leave one; recovery removes them.
pub(crate) const TEMP_PREFIX: &str = ".docker-harden-";

/// A directory, opened by walking its path from the root without following any symlink.
#[derive(Debug)]
pub(crate) struct Dir {
    fd: OwnedFd,
    /// The directory's host path, for messages.
    host: PathBuf,
}

/// Why a path was refused: the text of `Error::SymlinkRefused`.
const NO_FOLLOW: &str = "the path was resolved inside the root, and a symlink there now could lead anywhere; put the real directory or file back, then run again";

fn errno_io(e: Errno) -> std::io::Error {
    std::io::Error::from_raw_os_error(e as i32)
}

fn write_error(path: &Path, e: Errno) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        source: errno_io(e),
    }
}

fn read_error(path: &Path, e: Errno) -> Error {
    Error::Read {
        path: path.to_path_buf(),
        source: errno_io(e),
    }
}

fn kind_of(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())
}

fn meta_of(st: &FileStat) -> Meta {
    let kind = match kind_of(st) {
        SFlag::S_IFREG => FileKind::File,
        SFlag::S_IFDIR => FileKind::Dir,
        SFlag::S_IFSOCK => FileKind::Socket,
        _ => FileKind::Other,
    };
    Meta {
        kind,
        mode: st.st_mode & 0o7777,
        uid: st.st_uid,
        gid: st.st_gid,
        mtime_ns: i128::from(st.st_mtime) * 1_000_000_000 + i128::from(st.st_mtime_nsec),
    }
}

fn kind_words(st: &FileStat) -> &'static str {
    match kind_of(st) {
        SFlag::S_IFREG => "a regular file",
        SFlag::S_IFDIR => "a directory",
        SFlag::S_IFIFO => "a FIFO",
        SFlag::S_IFCHR => "a character device",
        SFlag::S_IFBLK => "a block device",
        SFlag::S_IFSOCK => "a socket",
        SFlag::S_IFLNK => "a symlink",
        _ => "not a regular file",
    }
}

/// The error for an entry that must be a regular file and is not: a symlink is refused as a
/// symlink, anything else by what it is.
fn not_a_file(host: PathBuf, st: &FileStat) -> Error {
    match kind_of(st) {
        SFlag::S_IFLNK => Error::SymlinkRefused {
            path: host,
            expected: "file",
            why: NO_FOLLOW,
        },
        _ => Error::NotRegularFile {
            path: host,
            found: kind_words(st),
        },
    }
}

/// A fresh name for a temporary entry beside `name`.
fn temp_name(role: &str) -> OsString {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    OsString::from(format!(
        "{TEMP_PREFIX}{role}-{}-{n}-{nanos:08x}",
        std::process::id()
    ))
}

/// How `Dir::walk` treats missing directories.
enum Missing<'a> {
    /// The walk ends: the directory does not exist.
    Absent,
    /// Each missing directory is made with this mode; the host paths made are recorded.
    Create(u32, &'a mut Vec<PathBuf>),
}

impl Dir {
    /// Opens `host_dir` under `root` (an absolute, canonical directory); `None` when a
    /// component is missing or is not a directory. A symlink in any component is an error.
    pub(crate) fn open(root: &Path, host_dir: &Path) -> Result<Option<Dir>> {
        Dir::walk(root, host_dir, Missing::Absent)
    }

    /// Opens `host_dir` under `root`, making the directories that are missing (with `mode`,
    /// owned by whoever makes them) and recording each one made in `created`.
    pub(crate) fn create(
        root: &Path,
        host_dir: &Path,
        mode: u32,
        created: &mut Vec<PathBuf>,
    ) -> Result<Dir> {
        Dir::walk(root, host_dir, Missing::Create(mode, created))?.ok_or_else(|| Error::Write {
            path: host_dir.to_path_buf(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        })
    }

    /// A directory named by an ordinary path, following symlinks as any program would (the
    /// directory of an `--output` file the operator named).
    pub(crate) fn open_following(dir: &Path) -> Result<Dir> {
        let fd = nix::fcntl::open(
            dir,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| write_error(dir, e))?;
        Ok(Dir {
            fd,
            host: dir.to_path_buf(),
        })
    }

    fn walk(root: &Path, host_dir: &Path, mut missing: Missing<'_>) -> Result<Option<Dir>> {
        let mut fd = nix::fcntl::open(
            root,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| read_error(root, e))?;
        let mut at = PathBuf::from("/");
        for component in host_dir.components() {
            let name = match component {
                Component::RootDir | Component::CurDir | Component::Prefix(_) => continue,
                Component::ParentDir => {
                    return Err(Error::InvalidFile {
                        path: host_dir.to_path_buf(),
                        message: "a path with `..` is not a resolved path".into(),
                    });
                }
                Component::Normal(name) => name,
            };
            at.push(name);
            let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            let next = match openat(&fd, name, flags, Mode::empty()) {
                Ok(next) => next,
                Err(Errno::ENOENT) => match &mut missing {
                    Missing::Absent => return Ok(None),
                    Missing::Create(mode, created) => {
                        match mkdirat(&fd, name, Mode::from_bits_truncate(0o700)) {
                            Ok(()) => {
                                let made = openat(
                                    &fd,
                                    name,
                                    OFlag::O_RDONLY
                                        | OFlag::O_DIRECTORY
                                        | OFlag::O_NOFOLLOW
                                        | OFlag::O_CLOEXEC,
                                    Mode::empty(),
                                )
                                .map_err(|e| write_error(&at, e))?;
                                // Exactly the mode asked for, whatever the umask.
                                chmod_fd(&made, *mode).map_err(|e| write_error(&at, e))?;
                                created.push(at.clone());
                                fsync_dir_of(&fd).map_err(|e| write_error(&at, e))?;
                                made
                            }
                            Err(Errno::EEXIST) => openat(&fd, name, flags, Mode::empty())
                                .map_err(|e| Dir::refusal(&fd, name, &at, e))?,
                            Err(e) => return Err(write_error(&at, e)),
                        }
                    }
                },
                Err(e) => {
                    let refused = Dir::refusal(&fd, name, &at, e);
                    if matches!(missing, Missing::Absent)
                        && matches!(&refused, Error::Read { source, .. } if source.raw_os_error() == Some(Errno::ENOTDIR as i32))
                    {
                        // A file where a directory would be: nothing lives below it.
                        return Ok(None);
                    }
                    return Err(refused);
                }
            };
            fd = next;
        }
        // An O_PATH handle cannot be read or synced: open the directory itself.
        let dir = openat(
            &fd,
            ".",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| read_error(&at, e))?;
        Ok(Some(Dir { fd: dir, host: at }))
    }

    /// The error for a component that could not be opened as a directory: a symlink is
    /// refused by name; anything else is what the kernel said.
    fn refusal(parent: &OwnedFd, name: &OsStr, at: &Path, e: Errno) -> Error {
        match fstatat(parent, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) if kind_of(&st) == SFlag::S_IFLNK => Error::SymlinkRefused {
                path: at.to_path_buf(),
                expected: "directory",
                why: NO_FOLLOW,
            },
            Ok(st) if kind_of(&st) != SFlag::S_IFDIR => Error::Read {
                path: at.to_path_buf(),
                source: errno_io(Errno::ENOTDIR),
            },
            _ => read_error(at, e),
        }
    }

    pub(crate) fn host(&self) -> &Path {
        &self.host
    }

    fn host_of(&self, name: &OsStr) -> PathBuf {
        self.host.join(name)
    }

    /// The directory's own metadata.
    pub(crate) fn own_meta(&self) -> Result<Meta> {
        fstat(&self.fd)
            .map(|st| meta_of(&st))
            .map_err(|e| read_error(&self.host, e))
    }

    /// The entry's metadata, not following a symlink; `None` when it does not exist.
    pub(crate) fn stat(&self, name: &OsStr) -> Result<Option<Meta>> {
        Ok(self.lstat(name)?.map(|st| meta_of(&st)))
    }

    fn lstat(&self, name: &OsStr) -> Result<Option<FileStat>> {
        match fstatat(&self.fd, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(st)),
            Err(Errno::ENOENT) => Ok(None),
            Err(e) => Err(read_error(&self.host_of(name), e)),
        }
    }

    /// Whether the entry is a symlink (which no operation here follows).
    pub(crate) fn is_symlink(&self, name: &OsStr) -> Result<bool> {
        Ok(self
            .lstat(name)?
            .is_some_and(|st| kind_of(&st) == SFlag::S_IFLNK))
    }

    /// Contents of a regular file, bounded; `None` when it does not exist. A symlink, a FIFO
    /// or a device is refused without being opened for reading.
    pub(crate) fn read(&self, name: &OsStr) -> Result<Option<Vec<u8>>> {
        let host = self.host_of(name);
        let Some(st) = self.lstat(name)? else {
            return Ok(None);
        };
        if kind_of(&st) != SFlag::S_IFREG {
            return Err(not_a_file(host, &st));
        }
        let fd = match self.reopen(name, &st) {
            Ok(fd) => fd,
            Err(Error::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        input::read_bounded(File::from(fd), &host).map(Some)
    }

    /// Opens the entry read-only (a file or a directory), never through a symlink and without
    /// blocking, and checks it is the inode `st` described: an entry swapped in between is
    /// refused.
    fn reopen(&self, name: &OsStr, st: &FileStat) -> Result<OwnedFd> {
        let host = self.host_of(name);
        let fd = openat(
            &self.fd,
            name,
            OFlag::O_RDONLY
                | OFlag::O_NOFOLLOW
                | OFlag::O_NONBLOCK
                | OFlag::O_NOCTTY
                | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| read_error(&host, e))?;
        let opened = fstat(&fd).map_err(|e| read_error(&host, e))?;
        if (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino) {
            return Err(Error::InvalidFile {
                path: host,
                message: "changed while docker-harden worked on it; run again".into(),
            });
        }
        Ok(fd)
    }

    /// Names in the directory, sorted.
    pub(crate) fn names(&self) -> Result<Vec<OsString>> {
        let fd = openat(
            &self.fd,
            ".",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| read_error(&self.host, e))?;
        let mut dir = nix::dir::Dir::from_fd(fd).map_err(|e| read_error(&self.host, e))?;
        let mut names = Vec::new();
        for entry in dir.iter() {
            let entry = entry.map_err(|e| read_error(&self.host, e))?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                names.push(OsStr::from_bytes(name).to_os_string());
            }
        }
        names.sort();
        Ok(names)
    }

    /// Opens a subdirectory without following a symlink; `None` when it does not exist.
    pub(crate) fn subdir(&self, name: &OsStr) -> Result<Option<Dir>> {
        let host = self.host_of(name);
        match openat(
            &self.fd,
            name,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => Ok(Some(Dir { fd, host })),
            Err(Errno::ENOENT) => Ok(None),
            Err(e) => Err(Dir::refusal(&self.fd, name, &host, e)),
        }
    }

    /// Makes a subdirectory with exactly `mode` (it must not exist yet).
    pub(crate) fn make_subdir(&self, name: &OsStr, mode: u32) -> Result<Dir> {
        let host = self.host_of(name);
        mkdirat(&self.fd, name, Mode::from_bits_truncate(0o700))
            .map_err(|e| write_error(&host, e))?;
        let dir = self
            .subdir(name)?
            .ok_or_else(|| write_error(&host, Errno::ENOENT))?;
        chmod_fd(&dir.fd, mode).map_err(|e| write_error(&host, e))?;
        self.sync()?;
        Ok(dir)
    }

    /// Opens (creating it with mode 0600 when missing) a regular file for reading and writing,
    /// never through a symlink and never a FIFO or device: the lock file.
    pub(crate) fn open_regular_rw(&self, name: &OsStr) -> Result<File> {
        self.open_regular(name, true)
    }

    /// Opens an existing regular file for reading only (a lock probed on a read-only root),
    /// never through a symlink and never a FIFO or device.
    pub(crate) fn open_regular_ro(&self, name: &OsStr) -> Result<File> {
        self.open_regular(name, false)
    }

    fn open_regular(&self, name: &OsStr, write: bool) -> Result<File> {
        let host = self.host_of(name);
        if let Some(st) = self.lstat(name)?
            && kind_of(&st) != SFlag::S_IFREG
        {
            return Err(not_a_file(host, &st));
        }
        let access = match write {
            true => OFlag::O_RDWR | OFlag::O_CREAT,
            false => OFlag::O_RDONLY,
        };
        let fd = openat(
            &self.fd,
            name,
            access | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|e| write_error(&host, e))?;
        let st = fstat(&fd).map_err(|e| write_error(&host, e))?;
        if kind_of(&st) != SFlag::S_IFREG {
            return Err(not_a_file(host, &st));
        }
        Ok(File::from(fd))
    }

    /// Replaces (or creates) the entry `name` with a regular file of `content`, `mode` and
    /// `owner`, crash-safely: a temporary file in this directory gets everything and is
    /// flushed, then renamed over the entry, then the directory is flushed. With `keep_old`,
    /// the replaced file stays linked under a temporary name, returned, so the change can be
    /// undone by a rename alone (no space needed on a full disk). An existing entry that is a
    /// symlink or not a regular file is refused.
    pub(crate) fn write_atomic(
        &self,
        name: &OsStr,
        content: &[u8],
        mode: u32,
        owner: (u32, u32),
        keep_old: bool,
    ) -> Result<Option<OsString>> {
        self.write_new_file(name, content, mode, owner, keep_old, false)
    }

    /// Like `write_atomic`, for a file the operator named (a report): a symlink at `name` is
    /// replaced by the file, not followed.
    pub(crate) fn replace_with_file(
        &self,
        name: &OsStr,
        content: &[u8],
        mode: u32,
        owner: (u32, u32),
    ) -> Result<()> {
        self.write_new_file(name, content, mode, owner, false, true)
            .map(drop)
    }

    fn write_new_file(
        &self,
        name: &OsStr,
        content: &[u8],
        mode: u32,
        owner: (u32, u32),
        keep_old: bool,
        replace_link: bool,
    ) -> Result<Option<OsString>> {
        let host = self.host_of(name);
        let existing = self.lstat(name)?;
        if let Some(st) = &existing
            && kind_of(st) != SFlag::S_IFREG
            && !(replace_link && kind_of(st) == SFlag::S_IFLNK)
        {
            return Err(not_a_file(host, st));
        }
        let tmp = temp_name("new");
        let fd = openat(
            &self.fd,
            tmp.as_os_str(),
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|e| write_error(&host, e))?;
        let filled = (|| -> std::result::Result<(), Errno> {
            let mut file = File::from(fd);
            file.write_all(content)
                .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(nix::libc::EIO)))?;
            // chown first: changing the owner clears setuid and setgid bits the mode may carry.
            nix::unistd::fchown(
                &file,
                Some(Uid::from_raw(owner.0)),
                Some(Gid::from_raw(owner.1)),
            )?;
            chmod_fd(&file, mode)?;
            fsync(&file)
        })();
        let undo_tmp = || {
            let _ = unlinkat(&self.fd, tmp.as_os_str(), UnlinkatFlags::NoRemoveDir);
        };
        if let Err(e) = filled {
            undo_tmp();
            return Err(write_error(&host, e));
        }
        let mut kept = None;
        if keep_old && existing.is_some() {
            let keep = temp_name("old");
            match linkat(&self.fd, name, &self.fd, keep.as_os_str(), AtFlags::empty()) {
                Ok(()) => kept = Some(keep),
                // A filesystem without hard links: the change is undone from the backup copy.
                Err(Errno::EPERM | Errno::EOPNOTSUPP | Errno::EMLINK | Errno::EXDEV) => {}
                Err(e) => {
                    undo_tmp();
                    return Err(write_error(&host, e));
                }
            }
        }
        if let Err(e) = renameat(&self.fd, tmp.as_os_str(), &self.fd, name) {
            undo_tmp();
            if let Some(keep) = &kept {
                let _ = unlinkat(&self.fd, keep.as_os_str(), UnlinkatFlags::NoRemoveDir);
            }
            return Err(write_error(&host, e));
        }
        self.sync()?;
        Ok(kept)
    }

    /// Sets mode and owner of the entry in place, never through a symlink. The entry is first
    /// opened as a path (`O_PATH`, which opens no device and no FIFO), and the inode checked
    /// is the inode changed: a file or directory is reopened for the change and must be the
    /// same inode; a socket, which cannot be opened, is changed through the path handle.
    pub(crate) fn set_meta(&self, name: &OsStr, mode: u32, owner: (u32, u32)) -> Result<()> {
        let host = self.host_of(name);
        let failed = |e| write_error(&host, e);
        let handle = openat(
            &self.fd,
            name,
            OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(failed)?;
        let st = fstat(&handle).map_err(failed)?;
        let (uid, gid) = (Some(Uid::from_raw(owner.0)), Some(Gid::from_raw(owner.1)));
        match kind_of(&st) {
            SFlag::S_IFLNK => return Err(not_a_file(host, &st)),
            SFlag::S_IFREG | SFlag::S_IFDIR => {
                let fd = self.reopen(name, &st)?;
                // chown first: changing the owner clears setuid and setgid bits.
                nix::unistd::fchown(&fd, uid, gid).map_err(failed)?;
                chmod_fd(&fd, mode).map_err(failed)?;
            }
            _ => {
                fchownat(&handle, "", uid, gid, AtFlags::AT_EMPTY_PATH).map_err(failed)?;
                chmod_path_handle(&handle, mode).map_err(failed)?;
            }
        }
        self.sync()
    }

    /// Removes a non-directory entry (a symlink itself, never what it points to); a missing
    /// entry is no error.
    pub(crate) fn remove(&self, name: &OsStr) -> Result<()> {
        match unlinkat(&self.fd, name, UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => self.sync(),
            Err(e) => Err(write_error(&self.host_of(name), e)),
        }
    }

    /// Removes an empty subdirectory; `false` when it is not empty or not there.
    pub(crate) fn remove_empty_dir(&self, name: &OsStr) -> Result<bool> {
        match unlinkat(&self.fd, name, UnlinkatFlags::RemoveDir) {
            Ok(()) => self.sync().map(|()| true),
            Err(Errno::ENOENT | Errno::ENOTEMPTY | Errno::EEXIST | Errno::ENOTDIR) => Ok(false),
            Err(e) => Err(write_error(&self.host_of(name), e)),
        }
    }

    /// Renames an entry within this directory (undoing a write by its kept original).
    pub(crate) fn rename(&self, from: &OsStr, to: &OsStr) -> Result<()> {
        renameat(&self.fd, from, &self.fd, to).map_err(|e| write_error(&self.host_of(to), e))?;
        self.sync()
    }

    /// Leftover temporary entries of a killed run.
    pub(crate) fn temp_names(&self) -> Result<Vec<OsString>> {
        Ok(self
            .names()?
            .into_iter()
            .filter(|n| n.as_bytes().starts_with(TEMP_PREFIX.as_bytes()))
            .collect())
    }

    /// Flushes the directory itself, so entries made, renamed or removed survive a crash.
    pub(crate) fn sync(&self) -> Result<()> {
        fsync(&self.fd).map_err(|e| write_error(&self.host, e))
    }
}

fn chmod_fd(fd: &impl AsFd, mode: u32) -> std::result::Result<(), Errno> {
    nix::sys::stat::fchmod(fd.as_fd(), Mode::from_bits_truncate(mode & 0o7777))
}

/// chmod of what an `O_PATH` handle names (a socket, which cannot be opened): through its
/// /proc/self/fd entry, which names that very inode, as glibc's fchmodat does for
/// AT_SYMLINK_NOFOLLOW.
fn chmod_path_handle(fd: &OwnedFd, mode: u32) -> std::result::Result<(), Errno> {
    let proc_path = format!("/proc/self/fd/{}", fd.as_raw_fd());
    nix::sys::stat::fchmodat(
        nix::fcntl::AT_FDCWD,
        proc_path.as_str(),
        Mode::from_bits_truncate(mode & 0o7777),
        nix::sys::stat::FchmodatFlags::FollowSymlink,
    )
}

fn fsync_dir_of(fd: &OwnedFd) -> std::result::Result<(), Errno> {
    let dir = openat(
        fd,
        ".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    fsync(&dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};

    fn root() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn walks_real_directories_and_refuses_a_symlinked_one() {
        let r = root();
        let outside = tempfile::tempdir().unwrap();
        fs::create_dir_all(r.path().join("etc/docker")).unwrap();
        symlink(outside.path(), r.path().join("etc/evil")).unwrap();
        let dir = Dir::open(r.path(), Path::new("/etc/docker"))
            .unwrap()
            .unwrap();
        assert_eq!(dir.host(), Path::new("/etc/docker"));
        let err = Dir::open(r.path(), Path::new("/etc/evil")).unwrap_err();
        assert!(
            matches!(&err, Error::SymlinkRefused { path, .. } if path == Path::new("/etc/evil")),
            "{err}"
        );
        let mut created = Vec::new();
        let err =
            Dir::create(r.path(), Path::new("/etc/evil/sub"), 0o755, &mut created).unwrap_err();
        assert!(matches!(err, Error::SymlinkRefused { .. }), "{err}");
        assert!(created.is_empty());
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
        assert!(
            Dir::open(r.path(), Path::new("/etc/none"))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn creates_missing_directories_with_the_mode_asked() {
        let r = root();
        let mut created = Vec::new();
        let dir = Dir::create(r.path(), Path::new("/etc/docker/x"), 0o755, &mut created).unwrap();
        assert_eq!(
            created,
            vec![
                PathBuf::from("/etc"),
                PathBuf::from("/etc/docker"),
                PathBuf::from("/etc/docker/x")
            ]
        );
        dir.write_atomic(OsStr::new("f"), b"hi", 0o640, (0, 0), false)
            .unwrap();
        let m = fs::metadata(r.path().join("etc/docker/x")).unwrap();
        assert_eq!(m.mode() & 0o7777, 0o755);
        assert_eq!(fs::read(r.path().join("etc/docker/x/f")).unwrap(), b"hi");
    }

    #[test]
    fn write_replaces_and_keeps_the_old_inode_for_undo() {
        let r = root();
        fs::write(r.path().join("f"), b"old").unwrap();
        let uid = nix::unistd::geteuid().as_raw();
        let gid = nix::unistd::getegid().as_raw();
        let dir = Dir::open(r.path(), Path::new("/")).unwrap().unwrap();
        let kept = dir
            .write_atomic(OsStr::new("f"), b"new", 0o600, (uid, gid), true)
            .unwrap()
            .unwrap();
        assert_eq!(fs::read(r.path().join("f")).unwrap(), b"new");
        assert_eq!(
            fs::metadata(r.path().join("f")).unwrap().mode() & 0o7777,
            0o600
        );
        assert_eq!(dir.temp_names().unwrap(), vec![kept.clone()]);
        dir.rename(&kept, OsStr::new("f")).unwrap();
        assert_eq!(fs::read(r.path().join("f")).unwrap(), b"old");
        assert!(dir.temp_names().unwrap().is_empty());
    }

    #[test]
    fn never_writes_or_chmods_through_a_symlink() {
        let r = root();
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("secret");
        fs::write(&target, b"keep").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
        symlink(&target, r.path().join("daemon.json")).unwrap();
        let dir = Dir::open(r.path(), Path::new("/")).unwrap().unwrap();
        let name = OsStr::new("daemon.json");
        assert!(matches!(
            dir.write_atomic(name, b"x", 0o644, (0, 0), false),
            Err(Error::SymlinkRefused { .. })
        ));
        assert!(matches!(
            dir.set_meta(name, 0o777, (0, 0)),
            Err(Error::SymlinkRefused { .. })
        ));
        assert!(matches!(dir.read(name), Err(Error::SymlinkRefused { .. })));
        dir.remove(name).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"keep");
        assert_eq!(fs::metadata(&target).unwrap().mode() & 0o7777, 0o600);
        assert!(dir.temp_names().unwrap().is_empty());
    }

    #[test]
    fn set_meta_changes_a_socket_in_place() {
        let r = root();
        let path = r.path().join("docker.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let dir = Dir::open(r.path(), Path::new("/")).unwrap().unwrap();
        let uid = nix::unistd::geteuid().as_raw();
        let gid = nix::unistd::getegid().as_raw();
        dir.set_meta(OsStr::new("docker.sock"), 0o660, (uid, gid))
            .unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o7777, 0o660);
    }

    #[test]
    fn reads_only_regular_files() {
        let r = root();
        nix::unistd::mkfifo(&r.path().join("fifo"), Mode::from_bits_truncate(0o600)).unwrap();
        let dir = Dir::open(r.path(), Path::new("/")).unwrap().unwrap();
        let err = dir.read(OsStr::new("fifo")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/fifo: expected a regular file, found a FIFO"
        );
        assert!(matches!(
            dir.open_regular_rw(OsStr::new("fifo")),
            Err(Error::NotRegularFile { .. })
        ));
        assert_eq!(dir.read(OsStr::new("none")).unwrap(), None);
    }
}
