//! Crash-safe writes of a file the operator named (a report's `--output`): a temporary file in
//! the same directory gets the content, mode and owner, is flushed to disk and renamed over
//! the target, then the directory is flushed. A crash at any point leaves either the old file
//! or the new one, never a mix. The host's files are written through `confined::Dir`, which
//! this uses too, with the directory found as any program finds it.

use std::path::Path;

use crate::confined::Dir;
use crate::error::{Error, Result};

/// Replaces `path` with `content`. An existing symlink at `path` is replaced, never written
/// through: as root, writing through a link planted in a shared directory would let its
/// owner choose which file root overwrites.
pub(crate) fn write_atomic(
    path: &Path,
    content: &[u8],
    mode: u32,
    uid: u32,
    gid: u32,
) -> Result<()> {
    let (dir, name) = match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => (
            if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            },
            name,
        ),
        _ => {
            return Err(Error::InvalidFile {
                path: path.to_path_buf(),
                message: "not a file path".into(),
            });
        }
    };
    Dir::open_following(dir)?
        .replace_with_file(name, content, mode, (uid, gid))
        .map_err(|e| match e {
            // Name the file the operator gave, not the directory's handle.
            Error::Write { source, .. } => Error::Write {
                path: path.to_path_buf(),
                source,
            },
            other => other,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn replaces_content_and_sets_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, b"old").unwrap();
        let uid = nix::unistd::geteuid().as_raw();
        let gid = nix::unistd::getegid().as_raw();
        write_atomic(&path, b"new", 0o640, uid, gid).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o7777, 0o640);
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_missing_directory_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none/report.json");
        let err = write_atomic(&path, b"x", 0o644, 0, 0).unwrap_err();
        assert!(err.to_string().contains("none"), "{err}");
    }
}
