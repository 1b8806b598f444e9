//! One snapshot of the host, gathered once per run: the files the items judge or edit, dockerd's
//! effective configuration, the loaded audit rules and the Docker API's answer. Checks and fixers
//! read only this snapshot; they never touch the disk.

mod audit;
#[cfg(test)]
pub(crate) mod builder;
mod daemon;
mod host;
pub mod listeners;
mod processes;
mod rsyslog;
mod serving;
mod targets;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use audit::{AuditFacts, LoadedRules, OWN_RULES_FILE, RuleStop};
pub use daemon::{DaemonFacts, FlagSource, RunningDaemon, SourcedFlag};
pub use host::HostFacts;
pub use rsyslog::{RSYSLOG_DROPIN, RsyslogFacts, WrittenByRun};

use crate::accounts::Accounts;
use crate::containers::ContainerFilter;
use crate::daemons::Daemon;
use crate::engine::{Engine, WorkloadRequest};
use crate::engine_release::{EngineVersion, FoundVersion, VersionSource};
use crate::error::Result;
use crate::rootfs::{Meta, RootFs};
use crate::runner::Runner;
use crate::vocabulary::paths::{SUBGID, SUBUID};
use crate::vocabulary::{Target, Variables};
use crate::workloads::Workloads;

/// Where the facts come from. `live` is `None` under `--root`: then no process is inspected,
/// no command runs and the Docker API is not consulted.
pub struct Sources<'a> {
    pub rootfs: RootFs,
    pub live: Option<LiveSources<'a>>,
}

pub struct LiveSources<'a> {
    pub runner: &'a dyn Runner,
    pub engine: &'a dyn Engine,
    /// Which containers to inspect; `None` when no selected item judges containers, images,
    /// networks or secrets (then the API is asked only for `/info`).
    pub containers: Option<ContainerFilter>,
}

/// A file (or directory, or socket) as it was when the facts were gathered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileState {
    /// Contents of a regular file the tool may edit; `None` for absent files and non-files.
    pub content: Option<Vec<u8>>,
    pub meta: Option<Meta>,
}

#[derive(Debug)]
pub struct Facts {
    pub rootfs: RootFs,
    /// The daemon these facts are about: the system's, or one user's rootless daemon.
    pub instance: Daemon,
    pub live: bool,
    /// Keyed by resolved host path.
    pub files: BTreeMap<PathBuf, FileState>,
    pub accounts: Accounts,
    pub daemon: DaemonFacts,
    pub audit: AuditFacts,
    pub rsyslog: RsyslogFacts,
    /// Existing files each target names, resolved.
    pub targets: BTreeMap<Target, Vec<PathBuf>>,
    /// Why a target names nothing (e.g. "no TLS certificate is configured").
    pub target_notes: BTreeMap<Target, String>,
    /// Where a single-file target that does not exist would be (resolved).
    pub absent_targets: BTreeMap<Target, PathBuf>,
    /// Under --root: absent paths a daemon creates when it starts (/run/containerd, the data
    /// root), which the image's audit rules should watch.
    pub runtime_targets: BTreeMap<Target, PathBuf>,
    pub host: HostFacts,
    /// /etc/subuid and /etc/subgid (resolved), for userns-remap.
    pub userns_files: (PathBuf, PathBuf),
    /// Containers (those section 5 judges, filtered), images, networks and secrets; `None`
    /// under --root or when no selected item needs them; `Err` says why the API could not
    /// list them.
    pub workloads: Option<std::result::Result<Workloads, String>>,
}

impl Facts {
    pub fn gather(
        sources: &Sources<'_>,
        variables: &Variables,
        instance: &Daemon,
    ) -> Result<Facts> {
        let rootfs = sources.rootfs.clone();
        let mut snap = Snapshot {
            rootfs: &rootfs,
            files: BTreeMap::new(),
        };
        let accounts = Accounts::read(&rootfs)?;
        let daemon = daemon::gather(&mut snap, instance, sources.live.as_ref())?;
        let audit = audit::gather(&mut snap, sources.live.as_ref())?;
        let rsyslog = rsyslog::gather(&mut snap, sources.live.is_some())?;
        let resolved = targets::resolve(
            &mut snap,
            instance,
            &daemon,
            variables,
            sources.live.is_some(),
        )?;
        let host = host::gather(
            &mut snap,
            sources.live.is_some(),
            daemon.running.as_ref().map(|r| r.pid),
        )?;
        let userns_files = (snap.file(Path::new(SUBUID))?, snap.file(Path::new(SUBGID))?);
        let files = snap.files;
        let workloads = sources.live.as_ref().and_then(|live| {
            let filter = live.containers.as_ref()?;
            let socket = instance.api_address(&daemon.api_socket);
            let request = WorkloadRequest {
                all_containers: filter.all,
                swarm_manager: daemon
                    .engine_info()
                    .is_some_and(|i| i.swarm.enabled() && i.swarm.manager),
            };
            Some(
                live.engine
                    .workloads(&socket, &request)
                    .and_then(|mut w| {
                        w.containers.retain(|c| filter.keeps(c));
                        add_processes(&rootfs, live.engine, &socket, &mut w.containers)?;
                        Ok(w)
                    })
                    .map_err(|e| e.to_string()),
            )
        });
        Ok(Facts {
            instance: instance.clone(),
            workloads,
            host,
            userns_files,
            rootfs,
            live: sources.live.is_some(),
            files,
            accounts,
            daemon,
            audit,
            rsyslog,
            targets: resolved.found,
            target_notes: resolved.notes,
            absent_targets: resolved.absent,
            runtime_targets: resolved.at_runtime,
        })
    }

    /// Just enough to print owner names (for rollback, which judges nothing).
    pub fn names_only(rootfs: &RootFs) -> Result<Facts> {
        Ok(Facts::nothing_gathered(
            rootfs.clone(),
            Accounts::read(rootfs)?,
        ))
    }

    /// Facts of the system daemon with nothing gathered but the accounts given.
    pub(crate) fn nothing_gathered(rootfs: RootFs, accounts: Accounts) -> Facts {
        Facts {
            instance: Daemon::System,
            rootfs,
            live: false,
            files: BTreeMap::new(),
            accounts,
            daemon: DaemonFacts::empty(),
            audit: AuditFacts::empty(),
            rsyslog: RsyslogFacts::empty(),
            targets: BTreeMap::new(),
            target_notes: BTreeMap::new(),
            absent_targets: BTreeMap::new(),
            runtime_targets: BTreeMap::new(),
            host: HostFacts::default(),
            userns_files: (PathBuf::from(SUBUID), PathBuf::from(SUBGID)),
            workloads: None,
        }
    }

    /// The engine the next start of dockerd runs: the installed binary in its own words (live
    /// host), else the installed package, else the running daemon's API.
    pub fn engine_version(&self) -> Option<FoundVersion> {
        if let Some(found) = &self.daemon.installed_version {
            return Some(found.clone());
        }
        if let Some((package, text)) = &self.host.docker_package
            && let Some(version) = EngineVersion::parse(text)
        {
            return Some(FoundVersion {
                version,
                text: text.clone(),
                source: VersionSource::Package(package.clone()),
            });
        }
        let info = self.daemon.engine_info()?;
        Some(FoundVersion {
            version: EngineVersion::parse(&info.server_version)?,
            text: info.server_version.clone(),
            source: VersionSource::Api,
        })
    }

    pub fn file(&self, resolved: &Path) -> Option<&FileState> {
        self.files.get(resolved)
    }

    pub fn text(&self, resolved: &Path) -> Option<String> {
        self.files
            .get(resolved)
            .and_then(|f| f.content.as_ref())
            .map(|c| String::from_utf8_lossy(c).into_owned())
    }

    pub fn target(&self, target: &Target) -> &[PathBuf] {
        self.targets.get(target).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Each running container's processes, from the host's /proc in one pass, or from dockerd for
/// a container whose processes /proc does not show (dockerd in another PID namespace).
fn add_processes(
    rootfs: &RootFs,
    engine: &dyn Engine,
    socket: &str,
    containers: &mut [crate::containers::ContainerFacts],
) -> std::result::Result<(), crate::error::EngineError> {
    let running: std::collections::BTreeSet<String> = containers
        .iter()
        .filter(|c| c.running)
        .map(|c| c.id.clone())
        .collect();
    let mut found = processes::by_container(rootfs, &running);
    for c in containers.iter_mut().filter(|c| c.running) {
        match found.remove(&c.id) {
            Some(list) => c.processes = list,
            None => match engine.processes(socket, &c.id)? {
                Some(list) => c.processes = list,
                None => c.running = false,
            },
        }
    }
    Ok(())
}

/// Records every file read while gathering, so the workspace starts from exactly what the
/// checks saw.
pub(crate) struct Snapshot<'r> {
    pub rootfs: &'r RootFs,
    pub files: BTreeMap<PathBuf, FileState>,
}

impl Snapshot<'_> {
    /// Reads a regular file (content and metadata); returns its resolved path.
    pub fn file(&mut self, host_path: &Path) -> Result<PathBuf> {
        let resolved = self.rootfs.resolve(host_path)?;
        let content_missing = self.files.get(&resolved).is_some_and(|f| {
            f.content.is_none()
                && f.meta
                    .is_some_and(|m| m.kind == crate::rootfs::FileKind::File)
        });
        if !self.files.contains_key(&resolved) || content_missing {
            let meta = self.rootfs.metadata(&resolved)?;
            // Anything but a regular file is refused by name, without being opened.
            let content = match meta {
                Some(_) => self.rootfs.read(&resolved)?,
                None => None,
            };
            self.files
                .insert(resolved.clone(), FileState { content, meta });
        }
        Ok(resolved)
    }

    /// Text of a regular file; invalid UTF-8 is an error naming the line.
    pub fn text(&mut self, host_path: &Path) -> Result<(PathBuf, Option<String>)> {
        let resolved = self.file(host_path)?;
        let text = match self.files.get(&resolved).and_then(|f| f.content.clone()) {
            Some(bytes) => Some(crate::rootfs::text_from_bytes(host_path, bytes)?),
            None => None,
        };
        Ok((resolved, text))
    }

    /// Metadata only (directories, sockets, binaries); returns the resolved path when it exists.
    pub fn meta(&mut self, host_path: &Path) -> Result<Option<PathBuf>> {
        let resolved = self.rootfs.resolve(host_path)?;
        let meta = match self.files.get(&resolved) {
            Some(state) => state.meta,
            None => {
                let meta = self.rootfs.metadata(&resolved)?;
                self.files.insert(
                    resolved.clone(),
                    FileState {
                        content: None,
                        meta,
                    },
                );
                meta
            }
        };
        Ok(meta.map(|_| resolved))
    }
}
