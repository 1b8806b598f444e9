//! rsyslog's configuration: the main file and the files it includes.

use std::path::{Path, PathBuf};

use super::Snapshot;
use crate::error::Result;
use crate::rsyslog::{self, ConfFile};

pub const RSYSLOG_CONF: &str = "/etc/rsyslog.conf";
/// The drop-in docker-harden writes when rsyslog.conf includes /etc/rsyslog.d.
pub const RSYSLOG_DROPIN: &str = "/etc/rsyslog.d/60-docker-harden.conf";

#[derive(Debug, Clone)]
pub struct RsyslogFacts {
    pub installed: bool,
    /// The main file first, then the included files that exist, in include order.
    pub files: Vec<ConfFile>,
    /// Resolved path of the drop-in docker-harden writes.
    pub dropin: PathBuf,
}

pub(crate) fn gather(snap: &mut Snapshot<'_>) -> Result<RsyslogFacts> {
    let (main_path, main) = snap.text(Path::new(RSYSLOG_CONF))?;
    let Some(main) = main else {
        return Ok(RsyslogFacts {
            installed: false,
            files: Vec::new(),
            dropin: PathBuf::from(RSYSLOG_DROPIN),
        });
    };
    let mut files = vec![ConfFile {
        path: main_path.display().to_string(),
        text: main.clone(),
    }];
    for pattern in rsyslog::include_patterns(&main) {
        for path in expand_glob(snap, &pattern)? {
            if let (resolved, Some(text)) = snap.text(&path)? {
                files.push(ConfFile {
                    path: resolved.display().to_string(),
                    text,
                });
            }
        }
    }
    // The drop-in we may create must be in the snapshot even when it does not exist yet.
    let dropin = snap.file(Path::new(RSYSLOG_DROPIN))?;
    Ok(RsyslogFacts {
        installed: true,
        files,
        dropin,
    })
}

/// Expands a `*` in the last component (the only form rsyslog's shipped configs use).
fn expand_glob(snap: &mut Snapshot<'_>, pattern: &str) -> Result<Vec<PathBuf>> {
    let path = Path::new(pattern);
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(Vec::new());
    };
    let name = name.to_string_lossy();
    if !name.contains('*') {
        return Ok(vec![path.to_path_buf()]);
    }
    let (prefix, suffix) = name.split_once('*').unwrap_or((&name, ""));
    Ok(snap
        .rootfs
        .list_dir(dir)?
        .into_iter()
        .filter(|n| {
            n.starts_with(prefix) && n.ends_with(suffix) && n.len() >= prefix.len() + suffix.len()
        })
        .map(|n| dir.join(n))
        .collect())
}
