//! Resolves each symbolic target of the playbook to the existing files it names on this host.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{DaemonFacts, Snapshot};
use crate::daemons::Daemon;
use crate::error::Result;
use crate::vocabulary::{Target, Variables};

/// Where packages put Docker's binaries: Debian's docker.io uses /usr/sbin for dockerd and
/// runc, Docker CE /usr/bin, manual installs /usr/local/bin.
pub(crate) const BIN_DIRS: &[&str] = &[
    "/usr/bin",
    "/usr/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/bin",
    "/sbin",
];

/// What the targets name on this host.
pub(crate) struct Resolved {
    /// Existing files per target.
    pub found: BTreeMap<Target, Vec<PathBuf>>,
    /// Why a target names nothing.
    pub notes: BTreeMap<Target, String>,
    /// Where an absent single-file target would be (a fix may create it).
    pub absent: BTreeMap<Target, PathBuf>,
    /// Under --root: paths the daemons create when they start (the image has no /run, and no
    /// data root before dockerd's first start), for the audit watches an image should carry.
    pub at_runtime: BTreeMap<Target, PathBuf>,
}

/// Targets that exist only once a daemon runs, with the binary that creates them.
const RUNTIME: &[(Target, &str)] = &[
    (Target::ContainerdRunDir, "containerd"),
    (Target::ContainerdSock, "containerd"),
    (Target::DataRoot, "dockerd"),
    (Target::DockerSock, "dockerd"),
];

pub(crate) fn resolve(
    snap: &mut Snapshot<'_>,
    instance: &Daemon,
    daemon: &DaemonFacts,
    vars: &Variables,
    live: bool,
) -> Result<Resolved> {
    let mut found = BTreeMap::new();
    let mut notes = BTreeMap::new();
    let mut absent = BTreeMap::new();
    let binaries = [
        (Target::Dockerd, "dockerd"),
        (Target::Containerd, "containerd"),
        (Target::ContainerdShim, "containerd-shim"),
        (Target::ContainerdShimRuncV1, "containerd-shim-runc-v1"),
        (Target::ContainerdShimRuncV2, "containerd-shim-runc-v2"),
        (Target::Runc, "runc"),
    ];
    for (target, name) in binaries.clone() {
        let mut paths = Vec::new();
        for dir in BIN_DIRS {
            if let Some(resolved) = snap.meta(&Path::new(dir).join(name))?
                && !paths.contains(&resolved)
            {
                paths.push(resolved);
            }
        }
        if paths.is_empty() {
            notes.insert(
                target.clone(),
                format!("no {name} binary in {}", BIN_DIRS.join(", ")),
            );
        }
        found.insert(target, paths);
    }

    let mut single = vec![
        (Target::ContainerdRunDir, instance.containerd_run_dir()),
        (Target::DataRoot, daemon.data_root.clone()),
        (Target::ConfigDir, instance.config_dir()),
        (Target::ContainerdSock, instance.containerd_socket()),
        (Target::DaemonJson, daemon.config_file.clone()),
        (Target::DockerSock, daemon.api_socket.clone()),
    ];
    // The files a rootless daemon never reads: its user unit has no environment files, and the
    // containerd it starts does not read the system containerd's configuration.
    let system_only = [
        (Target::DefaultDocker, PathBuf::from("/etc/default/docker")),
        (
            Target::ContainerdConfig,
            PathBuf::from("/etc/containerd/config.toml"),
        ),
        (
            Target::SysconfigDocker,
            PathBuf::from("/etc/sysconfig/docker"),
        ),
    ];
    match instance {
        Daemon::System => single.extend(system_only),
        Daemon::Rootless(_) => {
            for (target, path) in system_only {
                notes.insert(
                    target.clone(),
                    format!("a rootless daemon does not read {}", path.display()),
                );
                found.insert(target, Vec::new());
            }
        }
    }
    for (target, path) in single {
        match snap.meta(&path)? {
            Some(resolved) => {
                found.insert(target, vec![resolved]);
            }
            None => {
                notes.insert(target.clone(), format!("{} does not exist", path.display()));
                absent.insert(target.clone(), snap.rootfs.resolve(&path)?);
                found.insert(target, Vec::new());
            }
        }
    }

    for (target, unit) in [
        (Target::DockerServiceUnit, &daemon.service_unit),
        (Target::DockerSocketUnit, &daemon.socket_unit),
    ] {
        let name = if target == Target::DockerServiceUnit {
            "docker.service"
        } else {
            "docker.socket"
        };
        match unit {
            Some(path) => {
                found.insert(target, vec![path.clone()]);
            }
            None => {
                notes.insert(
                    target.clone(),
                    format!("no {name} unit in the systemd search path"),
                );
                found.insert(target, Vec::new());
            }
        }
    }

    let mut extra = Vec::new();
    for p in &vars.extra_audit_paths {
        match snap.meta(Path::new(p))? {
            Some(resolved) => extra.push(resolved),
            None => {
                notes.insert(Target::ExtraPaths, format!("{p} does not exist"));
            }
        }
    }
    found.insert(Target::ExtraPaths, extra);

    let mut certs = Vec::new();
    let certs_dir = instance.certs_dir();
    collect_certs(snap, &certs_dir, 0, &mut certs)?;
    if certs.is_empty() {
        notes.insert(
            Target::RegistryCerts,
            format!("no registry certificates under {}", certs_dir.display()),
        );
    }
    found.insert(Target::RegistryCerts, certs);

    for (target, key) in [
        (Target::TlsCa, "tlscacert"),
        (Target::TlsCert, "tlscert"),
        (Target::TlsKey, "tlskey"),
    ] {
        let configured = daemon
            .flags_for_key(key)
            .last()
            .map(|f| f.flag.value.clone())
            .or_else(|| {
                daemon
                    .json_value(key)
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
        match configured {
            None => {
                notes.insert(
                    target.clone(),
                    format!("no {key} is configured (TLS not in use)"),
                );
                found.insert(target, Vec::new());
            }
            Some(path) => match snap.meta(Path::new(&path))? {
                Some(resolved) => {
                    found.insert(target, vec![resolved]);
                }
                None => {
                    notes.insert(target.clone(), format!("{key} {path} does not exist"));
                    found.insert(target, Vec::new());
                }
            },
        }
    }
    let mut at_runtime = BTreeMap::new();
    if !live {
        for (target, binary) in RUNTIME {
            let installed = binaries
                .iter()
                .any(|(t, n)| n == binary && !found.get(t).is_none_or(Vec::is_empty));
            if let (true, Some(path)) = (installed, absent.get(target)) {
                at_runtime.insert(target.clone(), path.clone());
            }
        }
    }
    Ok(Resolved {
        found,
        notes,
        absent,
        at_runtime,
    })
}

/// Registry certificates: *.crt files under certs.d, one directory per registry.
fn collect_certs(
    snap: &mut Snapshot<'_>,
    dir: &Path,
    depth: usize,
    out: &mut Vec<PathBuf>,
) -> Result<()> {
    if depth > 4 {
        return Ok(());
    }
    for name in snap.rootfs.list_dir(dir)? {
        let path = dir.join(&name);
        let Some(resolved) = snap.meta(&path)? else {
            continue;
        };
        let is_dir = snap
            .files
            .get(&resolved)
            .and_then(|f| f.meta)
            .map(|m| m.kind == crate::rootfs::FileKind::Dir)
            .unwrap_or(false);
        if is_dir {
            collect_certs(snap, &path, depth + 1, out)?;
        } else if name.ends_with(".crt") && !out.contains(&resolved) {
            out.push(resolved);
        }
    }
    Ok(())
}
