//! rsyslog's configuration: the main file and the files it includes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::Snapshot;
use crate::error::Result;
use crate::records::{self, RunStatus};
use crate::rootfs::RootFs;
use crate::rsyslog::{self, ConfFile};

pub(crate) const RSYSLOG_CONF: &str = "/etc/rsyslog.conf";
/// The drop-in docker-harden writes when rsyslog.conf includes /etc/rsyslog.d.
pub const RSYSLOG_DROPIN: &str = "/etc/rsyslog.d/60-docker-harden.conf";

#[derive(Debug, Clone)]
pub struct RsyslogFacts {
    pub installed: bool,
    /// The main file first, then the included files that exist, in include order.
    pub files: Vec<ConfFile>,
    /// Resolved path of the drop-in docker-harden writes.
    pub dropin: PathBuf,
    /// TCP sockets listening in this host's own network namespace (/proc/net), where rsyslogd
    /// listens, on the live host; `None` under --root.
    pub listeners: Option<Vec<SocketAddr>>,
    /// What earlier docker-harden runs, not rolled back, wrote to rsyslog's files: the proof
    /// that an input was started by docker-harden rather than configured by the operator.
    pub written: Vec<WrittenByRun>,
}

/// One rsyslog file as a saved run found it and as it left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenByRun {
    pub run_id: String,
    /// Resolved path, as in `files`.
    pub path: String,
    /// None when the run created the file.
    pub before: Option<String>,
    pub after: String,
}

impl RsyslogFacts {
    pub(crate) fn empty() -> RsyslogFacts {
        RsyslogFacts {
            installed: false,
            files: Vec::new(),
            dropin: PathBuf::from(RSYSLOG_DROPIN),
            listeners: None,
            written: Vec::new(),
        }
    }
}

pub(crate) fn gather(snap: &mut Snapshot<'_>, live: bool) -> Result<RsyslogFacts> {
    let (main_path, main) = snap.text(Path::new(RSYSLOG_CONF))?;
    let Some(main) = main else {
        return Ok(RsyslogFacts::empty());
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
    let mut paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    paths.push(dropin.display().to_string());
    let written = written_by_runs(snap.rootfs, &paths, &files);
    Ok(RsyslogFacts {
        installed: true,
        files,
        dropin,
        listeners: live.then(|| super::listeners::read(snap.rootfs, "/proc/net")),
        written,
    })
}

/// The rsyslog files (`paths`) each saved run, not rolled back, changed: as it found them and
/// as it wrote them. A run's copy of what it wrote is its record; for a run that kept none,
/// the file as it is now stands in when its checksum is still the one the run left. Runs that
/// cannot be read prove nothing and are skipped: an input they may have started counts as the
/// operator's, which docker-harden reports and does not rewrite.
fn written_by_runs(rootfs: &RootFs, paths: &[String], now: &[ConfFile]) -> Vec<WrittenByRun> {
    let Ok(runs) = records::list_runs::<serde::de::IgnoredAny>(rootfs) else {
        return Vec::new();
    };
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    let mut out = Vec::new();
    for run in runs {
        let Ok(manifest) = run.record else { continue };
        if manifest.status == RunStatus::RolledBack {
            continue;
        }
        let records: Vec<_> = manifest
            .files
            .iter()
            .filter(|r| paths.contains(&r.path.display().to_string()))
            .collect();
        if records.is_empty() {
            continue;
        }
        let Ok((run_dir, _)) =
            records::find_run::<serde::de::IgnoredAny>(rootfs, Some(&run.run_id))
        else {
            continue;
        };
        for record in records {
            let path = record.path.display().to_string();
            let after = records::written_copy(&run_dir, record)
                .map(text)
                .or_else(|| {
                    now.iter()
                        .find(|f| f.path == path)
                        .filter(|f| {
                            record.sha256_after.as_deref()
                                == Some(records::sha256(f.text.as_bytes()).as_str())
                        })
                        .map(|f| f.text.clone())
                });
            let before = records::backup_copy(&run_dir, record).map(text);
            // A file that existed but whose original is lost cannot tell what the run added.
            let (Some(after), false) = (after, record.existed && before.is_none()) else {
                continue;
            };
            out.push(WrittenByRun {
                run_id: manifest.run_id.clone(),
                path,
                before,
                after,
            });
        }
    }
    out
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
