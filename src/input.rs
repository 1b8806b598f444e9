//! Reading input files: only regular files, and only up to a bound. Everything docker-harden
//! reads is configuration or its own records, so a FIFO (which blocks the read), a device
//! (`/dev/zero` never ends) or a file of many megabytes is a mistake or an attack, and is
//! refused with the file's name before any of it is held in memory.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use crate::error::{Error, Result};

/// The largest file docker-harden reads. The biggest legitimate inputs (dpkg's status file
/// on a host with thousands of packages, an /etc/passwd with tens of thousands of accounts)
/// stay well below it.
pub(crate) const MAX_FILE_BYTES: u64 = 16 << 20;

/// What a file is, in words, when it is not a regular file.
pub(crate) fn kind_name(file_type: std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_symlink() {
        "a symlink"
    } else {
        "a regular file"
    }
}

/// Reads an opened file whole; `shown` names it in errors. The size is checked first and the
/// read itself is bounded too, since a file can grow while it is read.
pub(crate) fn read_bounded(file: File, shown: &Path) -> Result<Vec<u8>> {
    let read_error = |source| Error::Read {
        path: shown.to_path_buf(),
        source,
    };
    let meta = file.metadata().map_err(read_error)?;
    if !meta.file_type().is_file() {
        return Err(Error::NotRegularFile {
            path: shown.to_path_buf(),
            found: kind_name(meta.file_type()),
        });
    }
    let too_large = |size| Error::FileTooLarge {
        path: shown.to_path_buf(),
        size,
        limit: MAX_FILE_BYTES,
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Reads a file the operator named (a playbook, the client's configuration), following
/// symlinks as any program would; `None` when it does not exist. Opening never blocks: a FIFO
/// is opened non-blocking and then refused, and a device is refused before it is opened.
pub(crate) fn read_file(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.file_type().is_file() => {
            return Err(Error::NotRegularFile {
                path: path.to_path_buf(),
                found: kind_name(meta.file_type()),
            });
        }
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(path)
        .map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
    read_bounded(file, path).map(Some)
}

/// Like `read_file`, for text: a missing file is an error too, and invalid UTF-8 names its line.
pub(crate) fn read_text_file(path: &Path) -> Result<String> {
    let bytes = read_file(path)?.ok_or_else(|| Error::Read {
        path: path.to_path_buf(),
        source: std::io::Error::from(ErrorKind::NotFound),
    })?;
    crate::rootfs::text_from_bytes(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("playbook.yml");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let err = read_file(&fifo).unwrap_err();
        assert!(err.to_string().contains("a FIFO"), "{err}");
        assert!(err.to_string().contains("playbook.yml"), "{err}");
    }

    #[test]
    fn a_device_is_refused() {
        let err = read_file(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/dev/zero: expected a regular file, found a character device"
        );
    }

    #[test]
    fn an_oversize_file_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("daemon.json");
        let f = File::create(&big).unwrap();
        f.set_len(MAX_FILE_BYTES + 1).unwrap();
        let err = read_file(&big).unwrap_err();
        assert!(
            matches!(err, Error::FileTooLarge { ref path, .. } if *path == big),
            "{err}"
        );
    }

    #[test]
    fn missing_is_none_and_small_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_file(&dir.path().join("none")).unwrap(), None);
        std::fs::write(dir.path().join("f"), b"abc").unwrap();
        assert_eq!(
            read_file(&dir.path().join("f")).unwrap(),
            Some(b"abc".to_vec())
        );
    }
}
