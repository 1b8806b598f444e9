//! Every path the tool reads or writes goes through a root prefix, so the same code serves the
//! live host (`/`) and a mounted image or test fixture (`--root DIR`).
//!
//! Paths inside the tool are *host paths*: absolute paths as the host (or the booted image) sees
//! them, e.g. `/etc/docker/daemon.json`. Only this module turns them into paths on the disk.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

use crate::confined::Dir;
use crate::error::{Error, Result};

/// Symlink chains longer than this are a loop (the kernel's own limit is 40).
const MAX_SYMLINKS: usize = 40;

#[derive(Debug, Clone)]
pub struct RootFs {
    root: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    File,
    Dir,
    Socket,
    Other,
}

/// The metadata the tool judges and restores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub kind: FileKind,
    /// Permission bits including setuid, setgid and sticky (`st_mode & 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i128,
}

impl Meta {
    pub(crate) fn from_std(m: &fs::Metadata) -> Meta {
        let ft = m.file_type();
        let kind = if ft.is_file() {
            FileKind::File
        } else if ft.is_dir() {
            FileKind::Dir
        } else if ft.is_socket() {
            FileKind::Socket
        } else {
            FileKind::Other
        };
        Meta {
            kind,
            mode: m.mode() & 0o7777,
            uid: m.uid(),
            gid: m.gid(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        }
    }
}

impl RootFs {
    pub fn new(root: &Path) -> Result<RootFs> {
        let canonical = fs::canonicalize(root).map_err(|source| Error::Read {
            path: root.to_path_buf(),
            source,
        })?;
        if !canonical.is_dir() {
            return Err(Error::Usage(format!(
                "--root {}: not a directory",
                root.display()
            )));
        }
        Ok(RootFs { root: canonical })
    }

    pub fn host() -> RootFs {
        RootFs {
            root: PathBuf::from("/"),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn is_host_root(&self) -> bool {
        self.root == Path::new("/")
    }

    /// The on-disk path of a host path, without resolving symlinks.
    pub(crate) fn real(&self, host_path: &Path) -> PathBuf {
        let relative = host_path.strip_prefix("/").unwrap_or(host_path);
        self.root.join(relative)
    }

    /// Resolves every symlink in `host_path` the way the booted host would, and returns the host
    /// path of the final target. Absolute link targets are taken inside the root (that is where
    /// they point once the image boots); a relative target that climbs above the root is refused.
    /// Components after the first missing one are kept as written.
    pub fn resolve(&self, host_path: &Path) -> Result<PathBuf> {
        let mut pending: Vec<OsString> = components_reversed(host_path);
        let mut resolved = PathBuf::from("/");
        let mut followed = 0usize;
        let mut last_link: Option<(PathBuf, PathBuf)> = None;
        while let Some(part) = pending.pop() {
            if part == ".." {
                if resolved == Path::new("/") {
                    if let (false, Some((link, target))) = (self.is_host_root(), &last_link) {
                        return Err(Error::SymlinkEscape {
                            path: link.clone(),
                            target: target.clone(),
                            root: self.root.clone(),
                        });
                    }
                } else {
                    resolved.pop();
                }
                continue;
            }
            let candidate = resolved.join(&part);
            match fs::symlink_metadata(self.real(&candidate)) {
                Ok(m) if m.file_type().is_symlink() => {
                    followed += 1;
                    if followed > MAX_SYMLINKS {
                        return Err(Error::InvalidFile {
                            path: host_path.to_path_buf(),
                            message: "too many levels of symbolic links".into(),
                        });
                    }
                    let target =
                        fs::read_link(self.real(&candidate)).map_err(|source| Error::Read {
                            path: candidate.clone(),
                            source,
                        })?;
                    if target.is_absolute() {
                        resolved = PathBuf::from("/");
                    }
                    pending.extend(components_reversed(&target));
                    last_link = Some((candidate, target));
                }
                Ok(_) => resolved = candidate,
                Err(e)
                    if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::NotADirectory =>
                {
                    resolved = candidate;
                    while let Some(rest) = pending.pop() {
                        if rest == ".." {
                            resolved.pop();
                        } else {
                            resolved.push(rest);
                        }
                    }
                    return Ok(resolved);
                }
                Err(source) => {
                    return Err(Error::Read {
                        path: candidate,
                        source,
                    });
                }
            }
        }
        Ok(resolved)
    }

    /// The directory `host_dir` (a resolved host path), opened without following symlinks;
    /// `None` when it does not exist.
    pub(crate) fn open_dir(&self, host_dir: &Path) -> Result<Option<Dir>> {
        Dir::open(&self.root, host_dir)
    }

    /// The directory of a resolved host path and the path's last component; `None` for the
    /// root itself or when the directory does not exist.
    fn parent_of<'p>(&self, resolved: &'p Path) -> Result<Option<(Dir, &'p OsStr)>> {
        let (Some(parent), Some(name)) = (resolved.parent(), resolved.file_name()) else {
            return Ok(None);
        };
        Ok(self.open_dir(parent)?.map(|dir| (dir, name)))
    }

    /// Metadata of the resolved target; `None` when it does not exist.
    pub(crate) fn metadata(&self, host_path: &Path) -> Result<Option<Meta>> {
        let resolved = self.resolve(host_path)?;
        match self.parent_of(&resolved)? {
            Some((dir, name)) => dir.stat(name),
            // The root itself.
            None if resolved == Path::new("/") => fs::symlink_metadata(&self.root)
                .map(|m| Some(Meta::from_std(&m)))
                .map_err(|source| Error::Read {
                    path: host_path.to_path_buf(),
                    source,
                }),
            None => Ok(None),
        }
    }

    /// Contents of a regular file; `None` when it does not exist. Anything but a regular file
    /// of at most `input::MAX_FILE_BYTES` is an error naming the file.
    pub(crate) fn read(&self, host_path: &Path) -> Result<Option<Vec<u8>>> {
        let resolved = self.resolve(host_path)?;
        match self.parent_of(&resolved)? {
            Some((dir, name)) => dir.read(name),
            None => Ok(None),
        }
    }

    /// Like `read`, for text: invalid UTF-8 is an error naming the line.
    pub(crate) fn read_text(&self, host_path: &Path) -> Result<Option<String>> {
        match self.read(host_path)? {
            None => Ok(None),
            Some(bytes) => text_from_bytes(host_path, bytes).map(Some),
        }
    }

    /// Names in a directory, sorted; empty when the directory does not exist.
    pub(crate) fn list_dir(&self, host_path: &Path) -> Result<Vec<String>> {
        let resolved = self.resolve(host_path)?;
        let Some(dir) = self.open_dir(&resolved)? else {
            return Ok(Vec::new());
        };
        Ok(dir
            .names()?
            .into_iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect())
    }
}

/// Decodes file text; invalid UTF-8 is reported with its line number.
pub(crate) fn text_from_bytes(path: &Path, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..valid]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        Error::InvalidFile {
            path: path.to_path_buf(),
            message: format!("line {line}: not valid UTF-8 text"),
        }
    })
}

fn components_reversed(path: &Path) -> Vec<OsString> {
    let mut parts: Vec<OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    parts.reverse();
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn root() -> (tempfile::TempDir, RootFs) {
        let dir = tempfile::tempdir().unwrap();
        let fs = RootFs::new(dir.path()).unwrap();
        (dir, fs)
    }

    #[test]
    fn absolute_links_stay_inside_the_root() {
        let (dir, rootfs) = root();
        fs::create_dir_all(dir.path().join("usr/sbin")).unwrap();
        fs::create_dir_all(dir.path().join("usr/bin")).unwrap();
        fs::write(dir.path().join("usr/sbin/runc"), b"x").unwrap();
        symlink("/usr/sbin/runc", dir.path().join("usr/bin/runc")).unwrap();
        assert_eq!(
            rootfs.resolve(Path::new("/usr/bin/runc")).unwrap(),
            PathBuf::from("/usr/sbin/runc")
        );
    }

    #[test]
    fn merged_usr_and_relative_links() {
        let (dir, rootfs) = root();
        fs::create_dir_all(dir.path().join("usr/bin")).unwrap();
        symlink("usr/bin", dir.path().join("bin")).unwrap();
        fs::write(dir.path().join("usr/bin/containerd"), b"x").unwrap();
        assert_eq!(
            rootfs.resolve(Path::new("/bin/containerd")).unwrap(),
            PathBuf::from("/usr/bin/containerd")
        );
    }

    #[test]
    fn relative_link_above_the_root_is_refused() {
        let (dir, rootfs) = root();
        fs::create_dir_all(dir.path().join("etc/docker")).unwrap();
        symlink(
            "../../../../../../../tmp/daemon.json",
            dir.path().join("etc/docker/daemon.json"),
        )
        .unwrap();
        let err = rootfs
            .resolve(Path::new("/etc/docker/daemon.json"))
            .unwrap_err();
        assert!(matches!(err, Error::SymlinkEscape { .. }), "{err}");
    }

    #[test]
    fn missing_components_are_kept() {
        let (_dir, rootfs) = root();
        assert_eq!(
            rootfs
                .resolve(Path::new("/etc/docker/daemon.json"))
                .unwrap(),
            PathBuf::from("/etc/docker/daemon.json")
        );
        assert_eq!(
            rootfs.read(Path::new("/etc/docker/daemon.json")).unwrap(),
            None
        );
    }

    #[test]
    fn link_loops_are_errors() {
        let (dir, rootfs) = root();
        symlink("b", dir.path().join("a")).unwrap();
        symlink("a", dir.path().join("b")).unwrap();
        assert!(rootfs.resolve(Path::new("/a")).is_err());
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let err = text_from_bytes(Path::new("/x"), b"ok\nok\n\xff\n".to_vec()).unwrap_err();
        assert_eq!(err.to_string(), "/x: line 3: not valid UTF-8 text");
    }
}
