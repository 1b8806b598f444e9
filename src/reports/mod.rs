//! Machine-readable reports for CI systems: JUnit (one test case per item) and SARIF 2.1.0
//! (one rule per item) for code-scanning views. Text and JSON live in `render`.

pub(crate) mod junit;
pub(crate) mod sarif;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::safe_write;

/// Puts a rendered report at `path` (`check --output`) the way the tool writes the host's files:
/// a temporary file beside it gets the whole report, is flushed to disk and renamed over
/// `path`. A full disk or a crash leaves the previous report whole, never truncated, and every
/// error names `path`.
///
/// An existing symlink at `path` is replaced, not written through. The tool runs as root, and
/// `--output /tmp/report.json` is a common call: writing through would let whoever can plant a
/// link in a shared directory choose which file root overwrites (/etc/shadow). The temporary
/// file is created exclusively under a random name, so it cannot be planted either.
///
/// A report that replaces a regular file keeps its mode, so a report kept private stays so,
/// and, run as root, its owner (as overwriting it in place did); a new one is the caller's
/// with the mode the umask leaves of 0666, as a file the shell's `>` creates.
pub(crate) fn save(path: &Path, content: &[u8]) -> Result<()> {
    // A bare file name's parent is the empty path, which names no directory to sync.
    let target = match path.parent() {
        Some(dir) if dir.as_os_str().is_empty() => Path::new(".").join(path),
        _ => PathBuf::from(path),
    };
    let uid = nix::unistd::geteuid().as_raw();
    let gid = nix::unistd::getegid().as_raw();
    let (mode, uid, gid) = match std::fs::symlink_metadata(&target) {
        Ok(meta) if meta.is_file() => {
            let (owner, group) = if uid == 0 {
                (meta.uid(), meta.gid())
            } else {
                (uid, gid)
            };
            (meta.mode() & 0o777, owner, group)
        }
        _ => (0o666 & !umask(), uid, gid),
    };
    safe_write::write_atomic(&target, content, mode, uid, gid).map_err(|e| match e {
        // Name the report as the operator gave it.
        Error::Write { source, .. } => Error::Write {
            path: path.to_path_buf(),
            source,
        },
        other => other,
    })
}

/// This process's umask, read rather than set and restored, which would race with any thread
/// creating a file meanwhile. Without /proc, the usual 022.
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}
