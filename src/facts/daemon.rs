//! dockerd's effective configuration: daemon.json at the --config-file in use, flags from the
//! unit's ExecStart (with drop-ins and environment files) or the init defaults file, and, on
//! the live host, the running process and the Docker API.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{LiveSources, Snapshot, serving};
use crate::daemon_flags::{self, UnitFile};
use crate::daemon_json;
use crate::daemons::Daemon;
use crate::engine::EngineInfo;
use crate::engine_release::{EngineVersion, FoundVersion, VersionSource};
use crate::error::{Error, Result};
use crate::vocabulary::paths::{
    DEFAULT_CONFIG_FILE, DEFAULT_DATA_ROOT, DEFAULT_DOCKER_FILE, DEFAULT_SOCKET,
    SYSCONFIG_DOCKER_FILE,
};

/// Where a flag was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagSource {
    /// The unit's ExecStart (after drop-ins), in this file.
    Unit(PathBuf),
    /// An init defaults file read by a SysV script (no systemd unit).
    InitDefaults(PathBuf, String),
    /// The running dockerd's command line.
    Running(u32),
}

impl std::fmt::Display for FlagSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FlagSource::Unit(p) => write!(f, "ExecStart in {}", p.display()),
            FlagSource::InitDefaults(p, var) => write!(f, "{var} in {}", p.display()),
            FlagSource::Running(pid) => write!(f, "the running dockerd (pid {pid})"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedFlag {
    pub flag: daemon_flags::Flag,
    pub source: FlagSource,
}

#[derive(Debug, Clone)]
pub struct RunningDaemon {
    pub pid: u32,
    pub flags: Vec<SourcedFlag>,
    /// Process start, nanoseconds since the epoch (to tell whether daemon.json changed since):
    /// the end of the clock tick the kernel recorded it in, so a file written in the same tick
    /// just before the start does not look newer.
    pub started_ns: Option<i128>,
}

#[derive(Debug, Clone)]
pub struct DaemonFacts {
    /// Whether a dockerd binary exists under the root.
    pub installed: bool,
    pub service_unit: Option<PathBuf>,
    /// docker.service's drop-ins, in the order systemd applies them (resolved paths).
    pub service_dropins: Vec<PathBuf>,
    /// Environment files the unit reads that exist (their variables reach ExecStart).
    pub env_files: Vec<PathBuf>,
    pub socket_unit: Option<PathBuf>,
    /// Flags dockerd gets at its next start.
    pub configured_flags: Vec<SourcedFlag>,
    /// The dockerd serving the socket the engine is asked at (live runs only).
    pub running: Option<RunningDaemon>,
    /// Why `running` is empty on the live host: nothing at that socket, or who serves it
    /// instead (a dockerd that is not this daemon's is never judged as it).
    pub not_running: Option<String>,
    /// The --config-file in use (host path as configured) and its resolved path.
    pub config_file: PathBuf,
    pub config_file_resolved: PathBuf,
    /// Parsed daemon.json; `None` when the file does not exist.
    pub json: Option<Map<String, Value>>,
    pub json_mtime_ns: Option<i128>,
    pub data_root: PathBuf,
    pub api_socket: PathBuf,
    /// The Docker API's answer: `None` under --root, `Some(Err)` when it could not be asked.
    pub engine: Option<std::result::Result<EngineInfo, String>>,
    /// The version of the dockerd binary the next start runs (the unit's, else the first
    /// found) by its `--version` (live host only): the dockerd that starts after a restart is
    /// this one, whatever runs now. See [`Facts::engine_version`].
    pub installed_version: Option<FoundVersion>,
}

impl DaemonFacts {
    pub(crate) fn empty() -> DaemonFacts {
        DaemonFacts {
            installed: false,
            service_unit: None,
            service_dropins: Vec::new(),
            env_files: Vec::new(),
            socket_unit: None,
            configured_flags: Vec::new(),
            running: None,
            not_running: None,
            config_file: PathBuf::from(DEFAULT_CONFIG_FILE),
            config_file_resolved: PathBuf::from(DEFAULT_CONFIG_FILE),
            json: None,
            json_mtime_ns: None,
            data_root: PathBuf::from(DEFAULT_DATA_ROOT),
            api_socket: PathBuf::from(DEFAULT_SOCKET),
            engine: None,
            installed_version: None,
        }
    }

    /// Flags that set daemon.json `key`: those the unit (or init defaults) will pass at the
    /// next start, else those the running dockerd was started with (a hand-started daemon, or
    /// a unit edited but not reloaded). Either way, writing the key to daemon.json as well
    /// would stop dockerd.
    pub(crate) fn flags_for_key(&self, key: &str) -> Vec<&SourcedFlag> {
        let configured = flags_for(&self.configured_flags, key);
        if configured.is_empty() {
            return self.running_flags_for_key(key);
        }
        configured
    }

    /// Flags the running dockerd was started with that set `key`.
    pub(crate) fn running_flags_for_key(&self, key: &str) -> Vec<&SourcedFlag> {
        self.running
            .as_ref()
            .map(|r| flags_for(&r.flags, key))
            .unwrap_or_default()
    }

    pub(crate) fn json_value(&self, key: &str) -> Option<&Value> {
        self.json.as_ref().and_then(|m| m.get(key))
    }

    /// A daemon.json value that dockerd cannot have picked up yet: the file changed after the
    /// running dockerd started.
    pub(crate) fn json_newer_than_daemon(&self) -> bool {
        match (&self.running, self.json_mtime_ns) {
            (
                Some(RunningDaemon {
                    started_ns: Some(start),
                    ..
                }),
                Some(mtime),
            ) => mtime > *start,
            _ => false,
        }
    }

    pub fn engine_info(&self) -> Option<&EngineInfo> {
        self.engine.as_ref().and_then(|e| e.as_ref().ok())
    }
}

fn flags_for<'a>(flags: &'a [SourcedFlag], key: &str) -> Vec<&'a SourcedFlag> {
    flags
        .iter()
        .filter(|f| daemon_flags::json_key(&f.flag.name) == Some(key))
        .collect()
}

/// Finds a unit file and its drop-ins the way systemd does: the first directory in the search
/// path that has the unit wins; drop-ins from every directory are applied in file-name order,
/// a name in a higher-priority directory hiding the same name below it.
pub(crate) fn find_unit(
    snap: &mut Snapshot<'_>,
    unit_dirs: &[PathBuf],
    name: &str,
) -> Result<Option<(UnitFile, Vec<UnitFile>)>> {
    let mut main = None;
    for dir in unit_dirs {
        let path = dir.join(name);
        if let (resolved, Some(text)) = snap.text(&path)? {
            // A unit linked to /dev/null is masked; resolved is then /dev/null.
            if resolved != Path::new("/dev/null") {
                main = Some(UnitFile {
                    path: resolved.display().to_string(),
                    text,
                });
            }
            break;
        }
    }
    let Some(main) = main else { return Ok(None) };
    let mut dropin_names: std::collections::BTreeMap<String, PathBuf> = Default::default();
    for dir in unit_dirs {
        let dropin_dir = dir.join(format!("{name}.d"));
        for file in snap.rootfs.list_dir(&dropin_dir)? {
            if file.ends_with(".conf") && !dropin_names.contains_key(&file) {
                dropin_names.insert(file.clone(), dropin_dir.join(&file));
            }
        }
    }
    let mut dropins = Vec::new();
    for path in dropin_names.values() {
        if let (resolved, Some(text)) = snap.text(path)? {
            dropins.push(UnitFile {
                path: resolved.display().to_string(),
                text,
            });
        }
    }
    Ok(Some((main, dropins)))
}

fn find_binary(snap: &mut Snapshot<'_>, name: &str) -> Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = Vec::new();
    for dir in super::targets::BIN_DIRS {
        if let Some(resolved) = snap.meta(&PathBuf::from(dir).join(name))?
            && !found.contains(&resolved)
        {
            found.push(resolved);
        }
    }
    Ok(found)
}

pub(crate) fn gather(
    snap: &mut Snapshot<'_>,
    daemon: &Daemon,
    live: Option<&LiveSources<'_>>,
) -> Result<DaemonFacts> {
    let binaries = find_binary(snap, "dockerd")?;
    let installed = !binaries.is_empty();
    let unit_dirs = daemon.unit_dirs();
    let service = find_unit(snap, &unit_dirs, "docker.service")?;
    // A rootless setup has no socket unit: its dockerd makes its own socket.
    let socket_unit = match daemon {
        Daemon::System => {
            find_unit(snap, &unit_dirs, "docker.socket")?.map(|(u, _)| PathBuf::from(u.path))
        }
        Daemon::Rootless(_) => None,
    };

    let mut configured_flags = Vec::new();
    let mut env_file_paths = Vec::new();
    let mut unit_binary = None;
    match &service {
        Some((main, dropins)) => {
            let mut env_files = HashMap::new();
            for (path, _optional) in daemon_flags::environment_files(main, dropins) {
                if let (resolved, Some(text)) = snap.text(Path::new(&path))? {
                    env_files.insert(path, text);
                    env_file_paths.push(resolved);
                }
            }
            if let Some(exec) = daemon_flags::effective_exec_start(main, dropins, &env_files) {
                unit_binary = exec
                    .argv
                    .first()
                    .filter(|p| p.starts_with('/'))
                    .map(PathBuf::from);
                let args: Vec<String> = exec.argv.iter().skip(1).cloned().collect();
                let source = FlagSource::Unit(PathBuf::from(&exec.path));
                configured_flags.extend(
                    daemon_flags::parse_dockerd_args(&args)
                        .flags
                        .into_iter()
                        .map(|flag| SourcedFlag {
                            flag,
                            source: source.clone(),
                        }),
                );
            }
        }
        // A user unit is all a rootless daemon has; the init defaults files are the system's.
        None if daemon.rootless().is_some() => {}
        None => {
            // Without a systemd unit, the SysV scripts pass these variables to dockerd.
            for (file, var) in [
                (DEFAULT_DOCKER_FILE, "DOCKER_OPTS"),
                (SYSCONFIG_DOCKER_FILE, "OPTIONS"),
            ] {
                if let (_, Some(text)) = snap.text(Path::new(file))? {
                    let vars = daemon_flags::parse_env_file(&text);
                    if let Some((_, value)) = vars.iter().rev().find(|(k, _)| k == var) {
                        let source = FlagSource::InitDefaults(PathBuf::from(file), var.to_string());
                        let words = daemon_flags::split_words(value);
                        configured_flags.extend(
                            daemon_flags::parse_dockerd_args(&words)
                                .flags
                                .into_iter()
                                .map(|flag| SourcedFlag {
                                    flag,
                                    source: source.clone(),
                                }),
                        );
                    }
                }
            }
        }
    }
    // The default and sysconfig files are watched and permission-checked whether used or not.
    snap.text(Path::new(DEFAULT_DOCKER_FILE))?;
    snap.text(Path::new(SYSCONFIG_DOCKER_FILE))?;

    // The running dockerd is the one serving the socket the engine is asked at: the one the
    // configuration names, unless the user chose another (-H, DOCKER_HOST, a context), which
    // the engine then connects to instead. A remote engine serves no socket here; the local
    // daemon is then still the configured one.
    let (running, not_running) = match live {
        Some(live) => {
            let configured = configured_socket(snap, daemon, &configured_flags);
            let socket = live
                .engine
                .local_socket(&daemon.api_address(&configured))
                .unwrap_or(configured);
            match serving::dockerd_serving(snap.rootfs, daemon, &socket)? {
                serving::Served::By(process) => match running_dockerd(snap, process.pid) {
                    Some(running) => (Some(running), None),
                    None => (
                        None,
                        Some(format!(
                            "the dockerd serving {} (pid {}) exited while it was read",
                            socket.display(),
                            process.pid
                        )),
                    ),
                },
                serving::Served::Nobody(why) => (None, Some(why)),
            }
        }
        None => (None, None),
    };

    // The flags in effect decide which file dockerd reads: the running process if there is
    // one, else what the unit will pass.
    let effective_flags: &[SourcedFlag] = running
        .as_ref()
        .map(|r| r.flags.as_slice())
        .unwrap_or(&configured_flags);
    let flag_value = |name: &str| last_flag(effective_flags, name);
    let config_file = flag_value("config-file")
        .map(PathBuf::from)
        .unwrap_or_else(|| daemon.default_config_file());
    let (config_file_resolved, json_text) = snap.text(&config_file)?;
    let json = match &json_text {
        None => None,
        Some(text) => Some(daemon_json::parse(text).map_err(|e| Error::InvalidJson {
            path: config_file.clone(),
            line: e.line,
            column: e.column,
            message: e.message,
        })?),
    };
    let json_mtime_ns = snap
        .files
        .get(&config_file_resolved)
        .and_then(|f| f.meta)
        .map(|m| m.mtime_ns);

    let json_string = |key: &str| {
        json.as_ref()
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let data_root = flag_value("data-root")
        .or_else(|| flag_value("graph"))
        .or_else(|| json_string("data-root"))
        .or_else(|| json_string("graph"))
        .map(PathBuf::from)
        .unwrap_or_else(|| daemon.default_data_root());
    let api_socket = api_socket(effective_flags, json.as_ref(), daemon);

    let engine = live.map(|l| {
        l.engine
            .info(&daemon.api_address(&api_socket))
            .map_err(|e| e.to_string())
    });

    // The unit may start dockerd through a wrapper (dockerd-rootless.sh): only a binary named
    // dockerd is taken from it, and only from the system's unit: a rootless user writes their
    // own unit, and docker-harden never runs as root a binary a user chose.
    let dockerd_binary = match (unit_binary, daemon) {
        (Some(p), Daemon::System) if p.file_name().is_some_and(|n| n == "dockerd") => {
            snap.meta(&p)?.or_else(|| binaries.first().cloned())
        }
        _ => binaries.first().cloned(),
    };
    let trusted = dockerd_binary
        .as_deref()
        .filter(|b| only_root_can_change(snap.rootfs, b));
    let installed_version = installed_version(live, trusted);

    Ok(DaemonFacts {
        installed,
        installed_version,
        service_dropins: service
            .as_ref()
            .map(|(_, d)| d.iter().map(|u| PathBuf::from(&u.path)).collect())
            .unwrap_or_default(),
        env_files: env_file_paths,
        service_unit: service.map(|(u, _)| PathBuf::from(u.path)),
        socket_unit,
        configured_flags,
        running,
        not_running,
        config_file,
        config_file_resolved,
        json,
        json_mtime_ns,
        data_root,
        api_socket,
        engine,
    })
}

/// Whether only root can change `path` (resolved) and the directories above it: owned by root,
/// writable by no group or other. docker-harden runs dockerd (`--version`, `--validate`) as
/// root only then.
pub(crate) fn only_root_can_change(rootfs: &crate::rootfs::RootFs, path: &Path) -> bool {
    let safe = |p: &Path, kind: crate::rootfs::FileKind| {
        rootfs
            .metadata(p)
            .ok()
            .flatten()
            .is_some_and(|m| m.kind == kind && m.uid == 0 && m.mode & 0o022 == 0)
    };
    safe(path, crate::rootfs::FileKind::File)
        && path
            .ancestors()
            .skip(1)
            .all(|dir| safe(dir, crate::rootfs::FileKind::Dir))
}

/// The installed dockerd's version in its own words, on the live host (no binary of an image
/// under --root is run).
fn installed_version(
    live: Option<&LiveSources<'_>>,
    binary: Option<&Path>,
) -> Option<FoundVersion> {
    let (live, binary) = (live?, binary?);
    let out = live
        .runner
        .run(&binary.to_string_lossy(), &["--version"])
        .ok()
        .filter(|out| out.success)?;
    let version = EngineVersion::parse(&out.stdout)?;
    // "Docker version 26.1.5+dfsg1, build 411e817": the version as stated.
    let text = out
        .stdout
        .trim()
        .trim_start_matches("Docker version")
        .trim()
        .split(',')
        .next()
        .unwrap_or_default()
        .to_string();
    Some(FoundVersion {
        version,
        text,
        source: VersionSource::Binary(binary.to_path_buf()),
    })
}

fn last_flag(flags: &[SourcedFlag], name: &str) -> Option<String> {
    flags
        .iter()
        .rev()
        .find(|f| f.flag.name == name)
        .map(|f| f.flag.value.clone())
}

/// The Unix socket dockerd listens on by these flags and daemon.json: the first `unix://`
/// address of its `-H` flags, then of `hosts`; else the daemon's default (also for `fd://`,
/// where systemd's docker.socket listens there).
fn api_socket(
    flags: &[SourcedFlag],
    json: Option<&Map<String, Value>>,
    daemon: &Daemon,
) -> PathBuf {
    let json_hosts = json
        .and_then(|m| m.get("hosts"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    flags
        .iter()
        .filter(|f| f.flag.name == "host")
        .map(|f| f.flag.value.as_str())
        .chain(json_hosts)
        .find_map(|h| h.strip_prefix("unix://"))
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| daemon.default_socket())
}

/// The socket the configuration (the unit's flags, the daemon.json they name) has dockerd
/// listen on, before any running dockerd is known. daemon.json is only glanced at here: a
/// broken file is reported where the file in effect is read.
fn configured_socket(snap: &Snapshot<'_>, daemon: &Daemon, flags: &[SourcedFlag]) -> PathBuf {
    let config_file = last_flag(flags, "config-file")
        .map(PathBuf::from)
        .unwrap_or_else(|| daemon.default_config_file());
    let json = snap
        .rootfs
        .read_text(&config_file)
        .ok()
        .flatten()
        .and_then(|text| daemon_json::parse(&text).ok());
    api_socket(flags, json.as_ref(), daemon)
}

/// The command line and start time of the dockerd at `pid`; `None` when it exited meanwhile.
fn running_dockerd(snap: &Snapshot<'_>, pid: u32) -> Option<RunningDaemon> {
    let rootfs = snap.rootfs;
    let cmdline = Path::new("/proc").join(pid.to_string()).join("cmdline");
    let raw = std::fs::read(rootfs.real(&cmdline)).ok()?;
    let args = daemon_flags::cmdline_args(&raw);
    let flags = daemon_flags::parse_dockerd_args(&args)
        .flags
        .into_iter()
        .map(|flag| SourcedFlag {
            flag,
            source: FlagSource::Running(pid),
        })
        .collect();
    Some(RunningDaemon {
        pid,
        flags,
        started_ns: process_start_ns(rootfs, pid),
    })
}

/// Start time of a process: boot time (`btime` in /proc/stat) plus field 22 of /proc/PID/stat,
/// which counts whole clock ticks (10 ms at USER_HZ 100): the process started somewhere in that
/// tick, so its end is the latest the start can have been.
fn process_start_ns(rootfs: &crate::rootfs::RootFs, pid: u32) -> Option<i128> {
    let stat =
        std::fs::read_to_string(rootfs.real(Path::new(&format!("/proc/{pid}/stat")))).ok()?;
    // The command name (field 2) may hold spaces and parentheses; fields resume after the last ')'.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let start_ticks: i128 = after_comm.split_whitespace().nth(19)?.parse().ok()?;
    let boot = std::fs::read_to_string(rootfs.real(Path::new("/proc/stat"))).ok()?;
    let btime: i128 = boot
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    let btime_ns = precise_boot_ns(btime * 1_000_000_000);
    let ticks_per_sec: i128 = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .map(i128::from)
        .filter(|t| *t > 0)
        .unwrap_or(100);
    Some(btime_ns + (start_ticks + 1) * 1_000_000_000 / ticks_per_sec)
}

/// `btime` is whole seconds, so a file written a fraction of a second before dockerd started
/// could look newer than the process. The clocks give the boot time to the nanosecond; use it
/// when it agrees with `btime` (it will not for a process table that is not this machine's).
fn precise_boot_ns(btime_ns: i128) -> i128 {
    use nix::time::{ClockId, clock_gettime};
    let ns = |t: nix::sys::time::TimeSpec| {
        i128::from(t.tv_sec()) * 1_000_000_000 + i128::from(t.tv_nsec())
    };
    match (
        clock_gettime(ClockId::CLOCK_REALTIME),
        clock_gettime(ClockId::CLOCK_BOOTTIME),
    ) {
        (Ok(real), Ok(boot)) => {
            let precise = ns(real) - ns(boot);
            if (precise - btime_ns).abs() < 2_000_000_000 {
                precise
            } else {
                btime_ns
            }
        }
        _ => btime_ns,
    }
}
