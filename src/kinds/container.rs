//! Container runtime items (CIS section 5): each rule looks at every container the Docker API
//! listed (running ones, or all with --all-containers, after --include/--exclude) and names the
//! ones that break it, one evidence line each (`name (short id): the setting`), then says what
//! to change in `docker run` or a compose file. Report only: a container is changed by
//! re-creating it, which only its owner can do.

use super::{ItemKind, LoadContext};
use crate::error::Result;
use serde::Deserialize;
use serde_json::Value;

use super::daemon_setting::configured;
use super::{Status, Verdict};
use crate::containers::{ContainerFacts, ProcessFacts};
use crate::daemon_flags;
use crate::engine_release::EngineVersion;
use crate::facts::Facts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// 4.1
    User,
    /// 5.2
    Apparmor,
    /// 5.3
    Selinux,
    /// 5.4
    Capabilities,
    /// 5.5
    Privileged,
    /// 5.6
    SensitiveMounts,
    /// 5.7
    Sshd,
    /// 5.8
    PrivilegedPorts,
    /// 5.9
    PublishedPorts,
    /// 5.10
    HostNetwork,
    /// 5.11
    Memory,
    /// 5.12
    Cpu,
    /// 5.13
    ReadOnlyRootfs,
    /// 5.14
    AllInterfaces,
    /// 5.15
    RestartRetries,
    /// 5.16
    HostPid,
    /// 5.17
    HostIpc,
    /// 5.18
    HostDevices,
    /// 5.19
    Ulimits,
    /// 5.20
    SharedPropagation,
    /// 5.21
    HostUts,
    /// 5.22
    Seccomp,
    /// 5.25
    CgroupParent,
    /// 5.26
    NoNewPrivileges,
    /// 5.27
    Healthcheck,
    /// 5.29
    PidsLimit,
    /// 5.30
    DefaultBridge,
    /// 5.31
    HostUserns,
    /// 5.32
    DockerSock,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerSpec {
    pub rule: Rule,
}

/// Host directories a container must not get write access to.
const SENSITIVE: [&str; 8] = [
    "/", "/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr",
];

/// Highest privileged port.
const PRIVILEGED_PORT_MAX: u32 = 1023;

/// On-failure restarts allowed.
const MAX_RETRIES: i64 = 5;

/// What a compliant container set looks like, what to change, and whether an offender is a
/// WARN (or only worth an INFO).
struct Wording {
    pass: &'static str,
    fix: &'static str,
    status: Status,
}

fn wording(rule: Rule) -> Wording {
    let warn = |pass, fix| Wording {
        pass,
        fix,
        status: Status::Warn,
    };
    let info = |pass, fix| Wording {
        pass,
        fix,
        status: Status::Info,
    };
    match rule {
        Rule::User => warn(
            "every one runs as a user other than root",
            "add a user to the image and a `USER` instruction to its Dockerfile, or run with `--user UID:GID` (compose: user)",
        ),
        Rule::DefaultBridge => info(
            "none is attached to the default bridge",
            "create a network for each application (`docker network create NAME`) and attach with `--network NAME` (compose puts services on their own network by default); containers on the default bridge can reach each other",
        ),
        Rule::Apparmor => warn(
            "every one runs under an AppArmor profile",
            "drop `--security-opt apparmor=unconfined` (compose: security_opt) so docker-default applies, or name your own profile with `--security-opt apparmor=PROFILE`",
        ),
        Rule::Selinux => warn(
            "every one has SELinux options",
            "give each container an SELinux label with `--security-opt label=type:TYPE` or `label=level:LEVEL` (compose: security_opt)",
        ),
        Rule::Capabilities => warn(
            "none adds capabilities",
            "remove `--cap-add` (compose: cap_add) unless the application needs it; better, `--cap-drop ALL` and add back only what it uses",
        ),
        Rule::Privileged => warn(
            "none is privileged",
            "re-create without `--privileged` (compose: privileged: true); grant single capabilities or devices instead",
        ),
        Rule::SensitiveMounts => warn(
            "none mounts a sensitive host directory writable",
            "remove the bind mount, or mount it read-only (`-v SRC:DST:ro`, compose: `SRC:DST:ro` or read_only: true)",
        ),
        Rule::Sshd => warn(
            "none runs sshd",
            "remove sshd from the image; use `docker exec` to get a shell in a container",
        ),
        Rule::PrivilegedPorts => warn(
            "none publishes a host port below 1024",
            "publish on a host port of 1024 or above (`-p 8080:80`, compose: ports: [\"8080:80\"])",
        ),
        Rule::PublishedPorts => info(
            "none publishes a port",
            "confirm each published port is needed; remove the others from `-p`/`-P` (compose: ports)",
        ),
        Rule::HostNetwork => warn(
            "none shares the host's network namespace",
            "re-create without `--network host` (compose: network_mode: host); publish the ports it needs instead",
        ),
        Rule::Memory => warn(
            "every one has a memory limit",
            "set a limit with `--memory 512m` (compose: mem_limit, or deploy.resources.limits.memory)",
        ),
        Rule::Cpu => warn(
            "every one has CPU shares or a CPU limit",
            "set `--cpu-shares 512` or `--cpus 1.5` (compose: cpu_shares, cpus)",
        ),
        Rule::ReadOnlyRootfs => warn(
            "every one has a read-only root filesystem",
            "run with `--read-only` (compose: read_only: true) and give writable paths a volume or `--tmpfs`",
        ),
        Rule::AllInterfaces => warn(
            "every published port is bound to a specific host address",
            "bind published ports to one address: `-p 127.0.0.1:8080:80` (compose: ports: [\"127.0.0.1:8080:80\"])",
        ),
        Rule::RestartRetries => warn(
            "none retries on failure more than 5 times",
            "use `--restart on-failure:5` (compose: restart: \"on-failure:5\")",
        ),
        Rule::HostPid => warn(
            "none shares the host's process namespace",
            "re-create without `--pid host` (compose: pid: host)",
        ),
        Rule::HostIpc => warn(
            "none shares the host's IPC namespace",
            "re-create without `--ipc host` (compose: ipc: host)",
        ),
        Rule::HostDevices => info(
            "none has a host device",
            "confirm each `--device` (compose: devices) is needed, and limit it to the access it needs (`--device /dev/X:/dev/X:r`)",
        ),
        Rule::Ulimits => info(
            "every one sets its own ulimits",
            "where the daemon's default limits do not suit a workload, set them with `--ulimit nofile=1024:2048` (compose: ulimits)",
        ),
        Rule::SharedPropagation => warn(
            "no mount propagates shared",
            "drop `shared`/`rshared` from the mount's options (`-v SRC:DST` or `--mount ...,bind-propagation=rprivate`; compose: bind.propagation)",
        ),
        Rule::HostUts => warn(
            "none shares the host's UTS namespace",
            "re-create without `--uts host` (compose: uts: host)",
        ),
        Rule::Seccomp => warn(
            "none runs without a seccomp profile",
            "remove `--security-opt seccomp=unconfined` (compose: security_opt); give a custom profile if the default blocks a needed call",
        ),
        Rule::CgroupParent => warn(
            "none sets its own cgroup parent",
            "re-create without `--cgroup-parent` (compose: cgroup_parent) unless the cgroup was chosen deliberately",
        ),
        Rule::NoNewPrivileges => warn(
            "every one runs with no-new-privileges",
            "run with `--security-opt no-new-privileges` (compose: security_opt: [\"no-new-privileges:true\"]), or turn it on in daemon.json (item 2.14) and re-create the containers: dockerd gives its default to a container when it creates it, so it never reaches the ones that exist",
        ),
        Rule::Healthcheck => warn(
            "every one has a healthcheck",
            "add a HEALTHCHECK to the image or `--health-cmd` to `docker run` (compose: healthcheck)",
        ),
        Rule::PidsLimit => warn(
            "every one has a PIDs limit",
            "set `--pids-limit 200` (compose: pids_limit)",
        ),
        Rule::HostUserns => warn(
            "none shares the host's user namespace",
            "re-create without `--userns host` (compose: userns_mode: host)",
        ),
        Rule::DockerSock => warn(
            "none mounts the Docker socket",
            "remove the docker.sock bind mount (`-v /var/run/docker.sock:...`, compose: volumes); whoever reaches the socket controls the host",
        ),
    }
}

fn is_host(mode: &str) -> bool {
    mode == "host"
}

/// The security options as `key`, `value` pairs (`key=value` and the older `key:value`).
fn security_opt<'a>(c: &'a ContainerFacts, key: &str) -> Vec<&'a str> {
    c.security_opt
        .iter()
        .filter_map(|o| {
            let rest = o.strip_prefix(key)?;
            if rest.is_empty() {
                Some("")
            } else {
                rest.strip_prefix('=').or_else(|| rest.strip_prefix(':'))
            }
        })
        .collect()
}

fn port_number(host_port: &str) -> Option<u32> {
    host_port.split('-').next()?.parse().ok()
}

fn port_text(p: &crate::containers::PortFacts) -> String {
    let ip = if p.host_ip.is_empty() {
        "0.0.0.0"
    } else {
        &p.host_ip
    };
    let port = if p.host_port.is_empty() {
        "(any)"
    } else {
        &p.host_port
    };
    format!("{ip}:{port}->{}", p.container_port)
}

fn sensitive(source: &str) -> bool {
    let trimmed = source.trim_end_matches('/');
    SENSITIVE.iter().any(|dir| {
        if *dir == "/" {
            trimmed.is_empty()
        } else {
            trimmed == *dir || trimmed.starts_with(&format!("{dir}/"))
        }
    })
}

/// sshd by the kernel's name for the executable, or by the program its command line starts
/// with (`/usr/sbin/sshd -D`, `sshd: user@pts/0`).
fn runs_sshd(p: &ProcessFacts) -> bool {
    p.name == "sshd"
        || p.command
            .split_whitespace()
            .next()
            .map(|first| first.trim_end_matches(':'))
            .and_then(|first| first.rsplit('/').next())
            .is_some_and(|name| name == "sshd")
}

fn joined(items: impl IntoIterator<Item = String>) -> String {
    items.into_iter().collect::<Vec<_>>().join(", ")
}

/// Root by name or number, with or without a group ("", "root", "0", "0:0", "root:staff").
fn is_root_user(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or("");
    matches!(name, "" | "root" | "0")
}

/// What some rules judge a container against, beyond the container itself.
#[derive(Debug, Clone, Default)]
struct Context<'a> {
    /// The daemon's default bridge network, when it has one.
    default_bridge: Option<&'a str>,
    no_new_privileges: DaemonDefault,
}

/// The setting that breaks `rule` in `c`, as evidence; `None` when it complies.
fn offence(rule: Rule, c: &ContainerFacts, ctx: &Context<'_>) -> Option<String> {
    match rule {
        Rule::User => is_root_user(&c.user).then(|| {
            if c.user.is_empty() {
                "runs as root (no user set in the image or on the command line)".into()
            } else {
                format!("runs as root (user {})", c.user)
            }
        }),
        Rule::DefaultBridge => ctx
            .default_bridge
            .filter(|bridge| c.networks.iter().any(|n| n == bridge))
            .map(|bridge| format!("attached to the default bridge network `{bridge}`")),
        Rule::Apparmor => match c.apparmor_profile.as_str() {
            "" => Some("no AppArmor profile".into()),
            "unconfined" => Some("AppArmor profile unconfined".into()),
            _ => None,
        },
        Rule::Selinux => {
            let labels = security_opt(c, "label");
            if labels.contains(&"disable") {
                Some("SELinux labeling disabled (label=disable)".into())
            } else {
                labels.is_empty().then(|| "no SELinux label options".into())
            }
        }
        Rule::Capabilities => {
            (!c.cap_add.is_empty()).then(|| format!("adds capabilities {}", c.cap_add.join(", ")))
        }
        Rule::Privileged => c.privileged.then(|| "privileged".into()),
        Rule::SensitiveMounts => {
            let bad: Vec<String> = c
                .mounts
                .iter()
                .filter(|m| m.rw && sensitive(&m.source))
                .map(|m| format!("{} -> {} (rw)", m.source, m.destination))
                .collect();
            (!bad.is_empty()).then(|| format!("mounts {}", joined(bad)))
        }
        Rule::Sshd => {
            let bad: Vec<String> = c
                .processes
                .iter()
                .filter(|p| runs_sshd(p))
                .map(|p| format!("{} `{}`", p.name, p.command))
                .collect();
            (!bad.is_empty()).then(|| format!("runs {}", joined(bad)))
        }
        Rule::PrivilegedPorts => {
            let bad: Vec<String> = c
                .ports
                .iter()
                .filter(|p| port_number(&p.host_port).is_some_and(|n| n <= PRIVILEGED_PORT_MAX))
                .map(port_text)
                .collect();
            (!bad.is_empty()).then(|| format!("publishes {}", joined(bad)))
        }
        Rule::PublishedPorts => (!c.ports.is_empty())
            .then(|| format!("publishes {}", joined(c.ports.iter().map(port_text)))),
        Rule::AllInterfaces => {
            let bad: Vec<String> = c
                .ports
                .iter()
                .filter(|p| matches!(p.host_ip.as_str(), "" | "0.0.0.0" | "::" | "[::]"))
                .map(port_text)
                .collect();
            (!bad.is_empty()).then(|| format!("binds every host address: {}", joined(bad)))
        }
        Rule::HostNetwork => is_host(&c.network_mode).then(|| "network mode host".into()),
        Rule::Memory => (c.memory <= 0).then(|| "no memory limit".into()),
        Rule::Cpu => {
            (c.cpu_shares <= 0 && c.nano_cpus <= 0).then(|| "no CPU shares and no CPU limit".into())
        }
        Rule::ReadOnlyRootfs => (!c.readonly_rootfs).then(|| "root filesystem writable".into()),
        Rule::RestartRetries => (c.restart_policy == "on-failure"
            && c.restart_max_retries > MAX_RETRIES)
            .then(|| format!("restart on-failure:{}", c.restart_max_retries)),
        Rule::HostPid => is_host(&c.pid_mode).then(|| "PID mode host".into()),
        Rule::HostIpc => is_host(&c.ipc_mode).then(|| "IPC mode host".into()),
        Rule::HostUts => is_host(&c.uts_mode).then(|| "UTS mode host".into()),
        Rule::HostUserns => is_host(&c.userns_mode).then(|| "user namespace mode host".into()),
        Rule::HostDevices => {
            (!c.devices.is_empty()).then(|| format!("host devices {}", c.devices.join(", ")))
        }
        Rule::Ulimits => c.ulimits.is_empty().then(|| "no ulimit set".into()),
        Rule::SharedPropagation => {
            let bad: Vec<String> = c
                .mounts
                .iter()
                .filter(|m| matches!(m.propagation.as_str(), "shared" | "rshared"))
                .map(|m| format!("{} -> {} ({})", m.source, m.destination, m.propagation))
                .collect();
            (!bad.is_empty()).then(|| format!("shared propagation on {}", joined(bad)))
        }
        Rule::Seccomp => security_opt(c, "seccomp")
            .contains(&"unconfined")
            .then(|| "seccomp unconfined".into()),
        Rule::CgroupParent => {
            (!c.cgroup_parent.is_empty()).then(|| format!("cgroup parent {}", c.cgroup_parent))
        }
        Rule::NoNewPrivileges => privileges(c, &ctx.no_new_privileges).evidence(),
        Rule::Healthcheck => (!c.healthcheck).then(|| "no healthcheck".into()),
        Rule::PidsLimit => c
            .pids_limit
            .is_none_or(|n| n <= 0)
            .then(|| "no PIDs limit".into()),
        Rule::DockerSock => {
            let bad: Vec<String> = c
                .mounts
                .iter()
                .filter(|m| {
                    m.source.ends_with("docker.sock") || m.destination.ends_with("docker.sock")
                })
                .map(|m| format!("{} -> {}", m.source, m.destination))
                .collect();
            (!bad.is_empty()).then(|| format!("mounts the Docker socket {}", joined(bad)))
        }
    }
}

/// Whether dockerd was started with a security driver (`name=apparmor`, `name=selinux`).
fn security_driver(facts: &Facts, name: &str) -> Option<bool> {
    facts.daemon.engine_info().map(|info| {
        info.security_options
            .iter()
            .any(|o| o.split(',').any(|part| part == format!("name={name}")))
    })
}

const NNP: &str = "no-new-privileges";

/// What dockerd gives a container that no security option of its own decides for: dockerd 20.10
/// and later copy the daemon-wide default into the container when they create it (moby
/// daemon/daemon_unix.go, `(*Daemon).parseSecurityOpt`, called only from `create` through
/// `setSecurityOptions`), keep it in the container's own state (not in HostConfig.SecurityOpt,
/// so the API shows no trace of it) and apply that at every start (daemon/oci_linux.go,
/// `WithNoNewPrivileges` when `c.NoNewPrivileges`). Turning the default on later does not reach
/// containers that already exist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct DaemonDefault {
    /// Where the default is on for dockerd's next start (for the evidence); `None` when off.
    configured: Option<String>,
    /// Whether the running dockerd gives it to the containers it creates; `None` when that
    /// cannot be told.
    in_effect: Option<bool>,
    /// When the running dockerd started: the containers created since got `in_effect`.
    started_ns: Option<i128>,
}

impl DaemonDefault {
    fn of(facts: &Facts) -> DaemonDefault {
        DaemonDefault {
            configured: daemon_no_new_privileges(facts),
            in_effect: default_in_effect(facts),
            started_ns: facts.daemon.running.as_ref().and_then(|r| r.started_ns),
        }
    }
}

/// A daemon.json or flag value as dockerd reads a boolean.
fn truth(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => daemon_flags::parse_bool(s),
        _ => None,
    }
}

/// The default for dockerd's next start, and where it is set, when it is on.
fn daemon_no_new_privileges(facts: &Facts) -> Option<String> {
    let (value, source) = configured(facts, NNP, &Value::Bool(false));
    truth(&value).unwrap_or(false).then_some(source)
}

/// The major version of a dockerd version string ("20.10.24+dfsg1", "24.0.7").
/// Whether the running dockerd has the default on. dockerd 24 and later list it in `/info`
/// (`name=no-new-privileges` among the security options); an older one is judged by the flags
/// it was started with, else by the config file it read, unless the file changed since.
fn default_in_effect(facts: &Facts) -> Option<bool> {
    if let Some(info) = facts.daemon.engine_info() {
        if info
            .security_options
            .iter()
            .any(|o| o.split(',').any(|part| part == "name=no-new-privileges"))
        {
            return Some(true);
        }
        if EngineVersion::parse(&info.server_version).is_some_and(|v| v.major >= 24) {
            return Some(false);
        }
    }
    let running = facts.daemon.running.as_ref()?;
    if let Some(last) = facts.daemon.running_flags_for_key(NNP).last() {
        return daemon_flags::parse_bool(&last.flag.value);
    }
    if running.started_ns.is_none() || facts.daemon.json_newer_than_daemon() {
        return None;
    }
    // No file, or no key in it: dockerd's default, off. (A file removed since dockerd started
    // would have been read; that is not told apart.)
    match facts.daemon.json_value(NNP) {
        None => Some(false),
        Some(v) => truth(v),
    }
}

/// The container's own no-new-privileges security option, as dockerd reads them (the bare
/// word is on; `key=value` or the older `key:value`; the last one wins), with the option as
/// written.
fn option_setting(c: &ContainerFacts) -> Option<(bool, &str)> {
    c.security_opt.iter().rev().find_map(|o| {
        if o == NNP {
            return Some((true, o.as_str()));
        }
        let rest = o.strip_prefix(NNP)?;
        let value = rest.strip_prefix('=').or_else(|| rest.strip_prefix(':'))?;
        daemon_flags::parse_bool(value).map(|on| (on, o.as_str()))
    })
}

/// Whether a container's processes can gain privileges (setuid binaries, file capabilities).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Privileges {
    Restricted,
    /// They can: why, as evidence.
    CanGain(String),
    /// It cannot be told: why, as evidence.
    Unknown(String),
}

impl Privileges {
    fn evidence(self) -> Option<String> {
        match self {
            Privileges::Restricted => None,
            Privileges::CanGain(why) | Privileges::Unknown(why) => Some(why),
        }
    }
}

/// Judges `c` by its own state, never by the daemon's current default alone: its security
/// option, else the flag its processes carry, else the default dockerd had when it created it,
/// when that can be known.
fn privileges(c: &ContainerFacts, daemon: &DaemonDefault) -> Privileges {
    if let Some((on, option)) = option_setting(c) {
        return if on {
            Privileges::Restricted
        } else {
            // Its own option wins over the daemon default: re-creating it as it is changes
            // nothing.
            Privileges::CanGain(format!(
                "`{option}` in its security options turns no-new-privileges off, whatever the daemon default"
            ))
        };
    }
    let recreate = recreate_clause(daemon);
    let read: Vec<&ProcessFacts> = c
        .processes
        .iter()
        .filter(|p| p.no_new_privs.is_some())
        .collect();
    if c.running && !read.is_empty() {
        let mut free: Vec<&str> = read
            .iter()
            .filter(|p| p.no_new_privs == Some(false))
            .map(|p| p.name.as_str())
            .collect();
        if free.is_empty() {
            return Privileges::Restricted;
        }
        free.sort_unstable();
        free.dedup();
        return Privileges::CanGain(format!(
            "can gain new privileges: NoNewPrivs 0 in /proc/PID/status of {}{recreate}",
            free.join(", ")
        ));
    }
    let state = if c.running {
        "its processes' NoNewPrivs could not be read (a process list from dockerd, or a kernel before 4.10)"
    } else {
        "it is not running, so no process of it shows NoNewPrivs"
    };
    let (Some(created), Some(started)) = (c.created_ns, daemon.started_ns) else {
        return Privileges::Unknown(format!(
            "cannot be known: {state}, no security option of its own sets no-new-privileges, and whether it was created before or after the running dockerd started is not known{recreate}"
        ));
    };
    if created < started {
        return Privileges::Unknown(format!(
            "cannot be known: {state}, no security option of its own sets no-new-privileges, and it was created before the running dockerd started, so the daemon default it got then is not known{recreate}"
        ));
    }
    match daemon.in_effect {
        Some(true) => Privileges::Restricted,
        Some(false) => Privileges::CanGain(format!(
            "can gain new privileges: created while the running dockerd's no-new-privileges default was off, and no security option of its own turns it on{recreate}"
        )),
        None => Privileges::Unknown(format!(
            "cannot be known: {state}, no security option of its own sets no-new-privileges, and whether the running dockerd has its default on is not known (its config file changed since it started){recreate}"
        )),
    }
}

/// For a container the daemon default has not reached, when that default is on: how to get
/// it there. A default reaches only the containers created after dockerd took it up.
fn recreate_clause(daemon: &DaemonDefault) -> String {
    let Some(source) = &daemon.configured else {
        return String::new();
    };
    if daemon.in_effect == Some(false) {
        format!(
            "; the daemon's no-new-privileges default ({source}) takes effect when dockerd restarts, and then reaches only containers created after it: restart dockerd, then re-create this container"
        )
    } else {
        format!(
            "; the daemon's no-new-privileges default ({source}) reaches only containers created after it: re-create this container (`docker rm -f` and `docker run` again; compose: `up --force-recreate`)"
        )
    }
}

pub(crate) fn check(spec: &ContainerSpec, facts: &Facts) -> Verdict {
    let workloads = match super::workloads(facts, "containers") {
        Ok(w) => w,
        Err(verdict) => return verdict,
    };
    let containers = &workloads.containers;
    let default_bridge = workloads.default_bridge();
    match spec.rule {
        Rule::DefaultBridge if default_bridge.is_none() => {
            return Verdict::pass(
                "dockerd has no default bridge network (started with `--bridge=none` or `\"bridge\": \"none\"`)",
            );
        }
        Rule::Selinux if security_driver(facts, "selinux") == Some(false) => {
            return Verdict::info(
                "SELinux is not enabled in dockerd on this host (no selinux security option); SELinux labels do not apply",
            );
        }
        Rule::Apparmor if security_driver(facts, "apparmor") == Some(false) => {
            return Verdict::info(
                "AppArmor is not enabled in dockerd on this host (no apparmor security option); profiles do not apply",
            );
        }
        _ => {}
    }
    if containers.is_empty() {
        return Verdict::pass("no running containers");
    }
    let words = wording(spec.rule);
    let ctx = Context {
        default_bridge: default_bridge.map(|n| n.name.as_str()),
        no_new_privileges: if spec.rule == Rule::NoNewPrivileges {
            DaemonDefault::of(facts)
        } else {
            DaemonDefault::default()
        },
    };
    let evidence: Vec<String> = containers
        .iter()
        .filter_map(|c| offence(spec.rule, c, &ctx).map(|o| format!("{}: {o}", c.display())))
        .collect();
    if evidence.is_empty() {
        let n = containers.len();
        return Verdict::pass(format!(
            "{n} container{} checked: {}",
            if n == 1 { "" } else { "s" },
            words.pass
        ));
    }
    // A container whose state cannot be known is named, but it alone is no finding.
    let status = if spec.rule == Rule::NoNewPrivileges
        && !containers.iter().any(|c| {
            matches!(
                privileges(c, &ctx.no_new_privileges),
                Privileges::CanGain(_)
            )
        }) {
        Status::Info
    } else {
        words.status
    };
    Verdict::new(status, evidence).fix(words.fix)
}

impl ItemKind for ContainerSpec {
    type Raw = ContainerSpec;
    const REPORT_ONLY: Option<&'static str> =
        Some("report only: a container's settings change only when its owner re-creates it");

    fn from_raw(raw: ContainerSpec, _: &LoadContext<'_>) -> Result<ContainerSpec> {
        Ok(raw)
    }
    fn check(&self, facts: &Facts) -> Verdict {
        check(self, facts)
    }
    fn needs_workloads(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::{MountFacts, PortFacts};

    /// A container that complies with every rule.
    fn good(name: &str) -> ContainerFacts {
        ContainerFacts {
            id: format!("{name:a<16}"),
            name: name.into(),
            running: true,
            user: "1000:1000".into(),
            network_mode: "none".into(),
            networks: vec!["app".into()],
            memory: 1 << 28,
            cpu_shares: 512,
            readonly_rootfs: true,
            security_opt: vec!["label=type:svirt_t".into(), "no-new-privileges".into()],
            apparmor_profile: "docker-default".into(),
            ulimits: vec![crate::containers::UlimitFacts {
                name: "nofile".into(),
                soft: 1024,
                hard: 2048,
            }],
            pids_limit: Some(100),
            healthcheck: true,
            processes: vec![proc("sleep", "sleep 300")],
            ..ContainerFacts::default()
        }
    }

    /// A process as the host's /proc shows it in a compliant container: no_new_privs set.
    fn proc(name: &str, command: &str) -> ProcessFacts {
        ProcessFacts {
            name: name.into(),
            command: command.into(),
            no_new_privs: Some(true),
        }
    }

    fn bridge() -> Context<'static> {
        Context {
            default_bridge: Some("bridge"),
            ..Context::default()
        }
    }

    fn judge(rule: Rule, c: ContainerFacts) -> Option<String> {
        let clean = good("clean");
        assert_eq!(
            offence(rule, &clean, &bridge()),
            None,
            "{rule:?} flags a clean container"
        );
        offence(rule, &c, &bridge())
    }

    fn bad(rule: Rule, tweak: impl FnOnce(&mut ContainerFacts)) -> String {
        let mut c = good("bad");
        tweak(&mut c);
        judge(rule, c).unwrap_or_else(|| panic!("{rule:?} missed the offence"))
    }

    fn mount(source: &str, rw: bool, propagation: &str) -> MountFacts {
        MountFacts {
            source: source.into(),
            destination: "/mnt".into(),
            rw,
            propagation: propagation.into(),
        }
    }

    fn port(ip: &str, host: &str) -> PortFacts {
        PortFacts {
            container_port: "80/tcp".into(),
            host_ip: ip.into(),
            host_port: host.into(),
        }
    }

    #[test]
    fn each_rule_names_its_offence() {
        assert_eq!(
            bad(Rule::Apparmor, |c| c.apparmor_profile = "unconfined".into()),
            "AppArmor profile unconfined"
        );
        assert_eq!(
            bad(Rule::Apparmor, |c| c.apparmor_profile.clear()),
            "no AppArmor profile"
        );
        bad(Rule::Selinux, |c| c.security_opt.clear());
        assert_eq!(
            bad(Rule::Selinux, |c| c
                .security_opt
                .push("label=disable".into())),
            "SELinux labeling disabled (label=disable)"
        );
        assert_eq!(
            bad(Rule::Capabilities, |c| c.cap_add = vec!["NET_ADMIN".into()]),
            "adds capabilities NET_ADMIN"
        );
        bad(Rule::Privileged, |c| c.privileged = true);
        assert_eq!(
            bad(Rule::SensitiveMounts, |c| c.mounts =
                vec![mount("/etc/", true, "")]),
            "mounts /etc/ -> /mnt (rw)"
        );
        bad(Rule::SensitiveMounts, |c| {
            c.mounts = vec![mount("/", true, "")]
        });
        bad(Rule::SensitiveMounts, |c| {
            c.mounts = vec![mount("/usr/lib", true, "")]
        });
        assert_eq!(
            bad(Rule::Sshd, |c| c
                .processes
                .push(proc("sshd", "/usr/sbin/sshd -D"))),
            "runs sshd `/usr/sbin/sshd -D`"
        );
        bad(Rule::Sshd, |c| {
            c.processes.push(proc("sshd-session", "sshd: root@pts/0"))
        });
        bad(Rule::Sshd, |c| {
            c.processes.push(proc("sshd", "/bin/busybox sh /sshd"))
        });
        assert_eq!(
            bad(Rule::PrivilegedPorts, |c| c.ports = vec![port("", "80")]),
            "publishes 0.0.0.0:80->80/tcp"
        );
        bad(Rule::PublishedPorts, |c| {
            c.ports = vec![port("127.0.0.1", "8080")]
        });
        bad(Rule::AllInterfaces, |c| c.ports = vec![port("::", "8080")]);
        bad(Rule::HostNetwork, |c| c.network_mode = "host".into());
        bad(Rule::Memory, |c| c.memory = 0);
        bad(Rule::Cpu, |c| c.cpu_shares = 0);
        bad(Rule::ReadOnlyRootfs, |c| c.readonly_rootfs = false);
        assert_eq!(
            bad(Rule::RestartRetries, |c| {
                c.restart_policy = "on-failure".into();
                c.restart_max_retries = 6;
            }),
            "restart on-failure:6"
        );
        bad(Rule::HostPid, |c| c.pid_mode = "host".into());
        bad(Rule::HostIpc, |c| c.ipc_mode = "host".into());
        bad(Rule::HostDevices, |c| c.devices = vec!["/dev/fuse".into()]);
        bad(Rule::Ulimits, |c| c.ulimits.clear());
        bad(Rule::SharedPropagation, |c| {
            c.mounts = vec![mount("/data", false, "rshared")]
        });
        bad(Rule::HostUts, |c| c.uts_mode = "host".into());
        bad(Rule::Seccomp, |c| {
            c.security_opt.push("seccomp:unconfined".into())
        });
        bad(Rule::CgroupParent, |c| c.cgroup_parent = "/custom".into());
        bad(Rule::NoNewPrivileges, |c| {
            c.security_opt = vec!["no-new-privileges=false".into()]
        });
        bad(Rule::Healthcheck, |c| c.healthcheck = false);
        bad(Rule::PidsLimit, |c| c.pids_limit = Some(-1));
        bad(Rule::PidsLimit, |c| c.pids_limit = None);
        bad(Rule::HostUserns, |c| c.userns_mode = "host".into());
        assert_eq!(
            bad(Rule::User, |c| c.user.clear()),
            "runs as root (no user set in the image or on the command line)"
        );
        bad(Rule::User, |c| c.user = "0:0".into());
        assert_eq!(
            bad(Rule::User, |c| c.user = "root:staff".into()),
            "runs as root (user root:staff)"
        );
        assert_eq!(
            bad(Rule::DefaultBridge, |c| c.networks.push("bridge".into())),
            "attached to the default bridge network `bridge`"
        );
        bad(Rule::DockerSock, |c| {
            c.mounts = vec![MountFacts {
                source: "/run/docker.sock".into(),
                destination: "/var/run/docker.sock".into(),
                rw: true,
                propagation: "rprivate".into(),
            }]
        });
    }

    #[test]
    fn near_misses_comply() {
        let ok = |rule, tweak: fn(&mut ContainerFacts)| {
            let mut c = good("near");
            tweak(&mut c);
            assert_eq!(offence(rule, &c, &bridge()), None, "{rule:?}");
        };
        ok(Rule::SensitiveMounts, |c| {
            c.mounts = vec![mount("/etc", false, "")]
        });
        ok(Rule::SensitiveMounts, |c| {
            c.mounts = vec![mount("/usrdata", true, "")]
        });
        ok(Rule::Sshd, |c| {
            c.processes = vec![proc("grep", "grep sshd")]
        });
        ok(Rule::PrivilegedPorts, |c| c.ports = vec![port("", "1024")]);
        ok(Rule::PrivilegedPorts, |c| c.ports = vec![port("", "")]);
        ok(Rule::AllInterfaces, |c| {
            c.ports = vec![port("127.0.0.1", "80")]
        });
        ok(Rule::RestartRetries, |c| {
            c.restart_policy = "on-failure".into();
            c.restart_max_retries = 5;
        });
        ok(Rule::Cpu, |c| {
            c.cpu_shares = 0;
            c.nano_cpus = 1_500_000_000;
        });
        ok(Rule::NoNewPrivileges, |c| {
            c.security_opt = vec!["no-new-privileges:true".into()]
        });
        ok(Rule::User, |c| c.user = "nobody".into());
        ok(Rule::User, |c| c.user = "10:0".into());
        ok(Rule::DefaultBridge, |c| c.networks = vec!["bridged".into()]);
        ok(Rule::SharedPropagation, |c| {
            c.mounts = vec![mount("/data", true, "rslave")]
        });
    }

    #[test]
    fn status_follows_the_rule() {
        assert_eq!(wording(Rule::PublishedPorts).status, Status::Info);
        assert_eq!(wording(Rule::HostDevices).status, Status::Info);
        assert_eq!(wording(Rule::Ulimits).status, Status::Info);
        assert_eq!(wording(Rule::Privileged).status, Status::Warn);
    }

    fn facts(
        containers: Option<Result<Vec<ContainerFacts>, String>>,
    ) -> (tempfile::TempDir, Facts) {
        let workloads = containers.map(|r| {
            r.map(|containers| crate::workloads::Workloads {
                containers,
                ..Default::default()
            })
        });
        let dir = tempfile::tempdir().unwrap();
        let mut facts =
            Facts::names_only(&crate::rootfs::RootFs::new(dir.path()).unwrap()).unwrap();
        facts.live = true;
        facts.workloads = workloads;
        facts.daemon.engine = Some(Ok(crate::engine::EngineInfo {
            security_options: vec!["name=seccomp,profile=builtin".into()],
            ..Default::default()
        }));
        (dir, facts)
    }

    fn verdict(rule: Rule, facts: &Facts) -> Verdict {
        check(&ContainerSpec { rule }, facts)
    }

    #[test]
    fn verdicts_name_each_offender_and_the_fix() {
        let mut web = good("web");
        web.id = "0123456789abcdef0123".into();
        web.privileged = true;
        web.ports = vec![port("", "8080")];
        let (_dir, f) = facts(Some(Ok(vec![good("db"), web])));
        let v = verdict(Rule::Privileged, &f);
        assert_eq!(v.status, Status::Warn);
        assert_eq!(v.evidence, ["web (0123456789ab): privileged"], "{v:?}");
        assert!(v.remediation.unwrap().contains("--privileged"));
        let v = verdict(Rule::PublishedPorts, &f);
        assert_eq!(v.status, Status::Info, "{v:?}");
        let v = verdict(Rule::HostPid, &f);
        assert_eq!(
            v,
            Verdict::pass("2 containers checked: none shares the host's process namespace")
        );
    }

    #[test]
    fn root_error_and_empty_lists_are_not_warnings() {
        let (_dir, mut f) = facts(Some(Ok(vec![good("x")])));
        f.live = false;
        assert_eq!(
            verdict(Rule::Privileged, &f),
            Verdict::info("containers are judged through the Docker API on the live host")
        );
        let (_dir, f) = facts(Some(Err("no Docker API socket at /x".into())));
        assert_eq!(
            verdict(Rule::Privileged, &f),
            Verdict::info("containers could not be listed: no Docker API socket at /x")
        );
        let (_dir, f) = facts(Some(Ok(Vec::new())));
        assert_eq!(
            verdict(Rule::Privileged, &f),
            Verdict::pass("no running containers")
        );
        let (_dir, f) = facts(None);
        assert_eq!(verdict(Rule::Privileged, &f).status, Status::Info);
    }

    #[test]
    fn host_security_drivers_and_daemon_defaults_decide_some_rules() {
        let mut plain = good("plain");
        plain.security_opt.clear();
        plain.apparmor_profile.clear();
        plain.processes[0].no_new_privs = Some(false);
        let (_dir, mut f) = facts(Some(Ok(vec![plain])));
        assert_eq!(verdict(Rule::Selinux, &f).status, Status::Info);
        assert_eq!(verdict(Rule::Apparmor, &f).status, Status::Info);
        assert_eq!(verdict(Rule::NoNewPrivileges, &f).status, Status::Warn);
        f.daemon.engine = Some(Ok(crate::engine::EngineInfo {
            security_options: vec!["name=selinux".into(), "name=apparmor".into()],
            ..Default::default()
        }));
        assert_eq!(verdict(Rule::Selinux, &f).status, Status::Warn);
        assert_eq!(verdict(Rule::Apparmor, &f).status, Status::Warn);
        // The daemon-wide default does not reach a container that exists (issue 10, defect
        // 4: this used to pass "for every container").
        let mut json = serde_json::Map::new();
        json.insert("no-new-privileges".into(), Value::Bool(true));
        f.daemon.json = Some(json);
        let v = verdict(Rule::NoNewPrivileges, &f);
        assert_eq!(v.status, Status::Warn, "{v:?}");
        assert!(v.evidence[0].starts_with("plain ("), "{v:?}");
        assert!(v.evidence[0].contains("re-create"), "{v:?}");
    }

    // ---- 5.26: each container by its own state (issue 10, defect 4)

    const STARTED: i128 = 1_700_000_000_000_000_000;
    const SECOND: i128 = 1_000_000_000;

    /// A container with no no-new-privileges option, created `created` ns after the running
    /// dockerd started, whose processes show `flags` (none: not running).
    fn bare(name: &str, created: i128, flags: &[Option<bool>]) -> ContainerFacts {
        ContainerFacts {
            id: format!("{name:b<16}"),
            name: name.into(),
            running: !flags.is_empty(),
            created_ns: Some(STARTED + created),
            processes: flags
                .iter()
                .enumerate()
                .map(|(i, f)| ProcessFacts {
                    name: format!("p{i}"),
                    command: format!("p{i}"),
                    no_new_privs: *f,
                })
                .collect(),
            ..ContainerFacts::default()
        }
    }

    fn daemon(configured: bool, in_effect: Option<bool>) -> DaemonDefault {
        DaemonDefault {
            configured: configured.then(|| "in /etc/docker/daemon.json".to_string()),
            in_effect,
            started_ns: Some(STARTED),
        }
    }

    fn can_gain(p: Privileges) -> String {
        match p {
            Privileges::CanGain(why) => why,
            other => panic!("expected CanGain, got {other:?}"),
        }
    }

    fn unknown(p: Privileges) -> String {
        match p {
            Privileges::Unknown(why) => why,
            other => panic!("expected Unknown, got {other:?}"),
        }
    }

    #[test]
    fn a_security_option_decides_as_dockerd_reads_it() {
        let on = daemon(true, Some(true));
        let with = |opts: &[&str], flags: &[Option<bool>]| {
            let mut c = bare("c", -SECOND, flags);
            c.security_opt = opts.iter().map(|o| o.to_string()).collect();
            privileges(&c, &on)
        };
        for opts in [
            &["no-new-privileges"][..],
            &["no-new-privileges:true"],
            &["no-new-privileges=true"],
            &["no-new-privileges=1"],
            &["label=disable", "no-new-privileges"],
            &["no-new-privileges=false", "no-new-privileges"],
        ] {
            assert_eq!(with(opts, &[]), Privileges::Restricted, "{opts:?}");
        }
        for opts in [
            &["no-new-privileges:false"][..],
            &["no-new-privileges=false"],
            &["no-new-privileges", "no-new-privileges=false"],
        ] {
            let why = can_gain(with(opts, &[Some(false)]));
            assert!(why.contains(opts.last().unwrap()), "{why}");
            // Its own option overrides the daemon default: re-creating it changes nothing.
            assert!(!why.contains("re-create"), "{why}");
        }
        // Not a no-new-privileges option: the processes decide.
        assert_eq!(
            with(
                &["no-new-privileges-x", "seccomp=unconfined"],
                &[Some(true)]
            ),
            Privileges::Restricted
        );
        can_gain(with(&["no-new-privileges-x"], &[Some(false)]));
    }

    #[test]
    fn processes_decide_when_no_option_does() {
        for d in [daemon(false, Some(false)), daemon(true, Some(true))] {
            // Created after dockerd started, yet the kernel says otherwise: the kernel wins.
            assert_eq!(
                privileges(&bare("c", SECOND, &[Some(true), Some(true)]), &d),
                Privileges::Restricted
            );
            let why = can_gain(privileges(
                &bare("c", SECOND, &[Some(true), Some(false), None]),
                &d,
            ));
            assert!(
                why.starts_with("can gain new privileges: NoNewPrivs 0 in /proc/PID/status of p1"),
                "{why}"
            );
            assert_eq!(why.contains("re-create"), d.configured.is_some(), "{why}");
        }
        // The old code let the daemon default pass this container.
        let why = can_gain(privileges(
            &bare("old", -SECOND, &[Some(false)]),
            &daemon(true, Some(true)),
        ));
        assert!(
            why.contains(
                "the daemon's no-new-privileges default (in /etc/docker/daemon.json) reaches only containers created after it: re-create this container"
            ),
            "{why}"
        );
    }

    #[test]
    fn without_processes_the_default_at_creation_decides_when_it_can_be_known() {
        // Stopped, or running with processes from dockerd's list (no NoNewPrivs).
        for flags in [&[][..], &[None]] {
            let c_after = bare("after", SECOND, flags);
            let c_before = bare("before", -SECOND, flags);
            assert_eq!(
                privileges(&c_after, &daemon(true, Some(true))),
                Privileges::Restricted
            );
            let why = can_gain(privileges(&c_after, &daemon(false, Some(false))));
            assert!(
                why.starts_with("can gain new privileges: created while the running dockerd's no-new-privileges default was off"),
                "{why}"
            );
            assert!(!why.contains("re-create"), "{why}");
            // On for the next start only: restart first.
            let why = can_gain(privileges(&c_after, &daemon(true, Some(false))));
            assert!(why.contains("restart dockerd, then re-create"), "{why}");
            for d in [daemon(true, Some(true)), daemon(false, Some(false))] {
                let why = unknown(privileges(&c_before, &d));
                assert!(why.starts_with("cannot be known: "), "{why}");
                assert!(
                    why.contains("created before the running dockerd started"),
                    "{why}"
                );
                assert_eq!(why.contains("re-create"), d.configured.is_some(), "{why}");
            }
            let why = unknown(privileges(&c_after, &daemon(true, None)));
            assert!(
                why.contains("config file changed since it started"),
                "{why}"
            );
            let no_start = DaemonDefault {
                started_ns: None,
                ..daemon(false, Some(false))
            };
            let why = unknown(privileges(&c_after, &no_start));
            assert!(why.contains("whether it was created before or after the running dockerd started is not known"), "{why}");
            let state = if flags.is_empty() {
                "it is not running"
            } else {
                "its processes' NoNewPrivs could not be read"
            };
            assert!(why.contains(state), "{why}");
        }
    }

    /// Facts with a running dockerd that started at STARTED and read `json` (written before).
    fn nnp_facts(
        containers: Vec<ContainerFacts>,
        json: Option<bool>,
    ) -> (tempfile::TempDir, Facts) {
        let (dir, mut f) = facts(Some(Ok(containers)));
        f.daemon.running = Some(crate::facts::RunningDaemon {
            pid: 4242,
            flags: Vec::new(),
            started_ns: Some(STARTED),
        });
        f.daemon.json_mtime_ns = Some(STARTED - 60 * SECOND);
        f.daemon.json = json.map(|on| {
            let mut map = serde_json::Map::new();
            map.insert("no-new-privileges".into(), Value::Bool(on));
            map
        });
        (dir, f)
    }

    #[test]
    fn the_verdict_names_who_can_gain_and_who_to_recreate() {
        let mut optout = bare("optout", SECOND, &[Some(false)]);
        optout.security_opt = vec!["no-new-privileges=false".into()];
        let containers = vec![
            bare("old", -SECOND, &[Some(false)]),
            bare("new", SECOND, &[Some(true)]),
            bare("new-stopped", SECOND, &[]),
            bare("old-stopped", -SECOND, &[]),
            optout,
        ];
        let (_dir, f) = nnp_facts(containers.clone(), Some(true));
        let v = verdict(Rule::NoNewPrivileges, &f);
        assert_eq!(v.status, Status::Warn, "{v:?}");
        let named: Vec<&str> = v
            .evidence
            .iter()
            .map(|l| l.split_once(" (").unwrap().0)
            .collect();
        assert_eq!(named, ["old", "old-stopped", "optout"], "{v:?}");
        let line = |name: &str| {
            v.evidence
                .iter()
                .find(|l| l.starts_with(&format!("{name} (")))
                .unwrap()
                .clone()
        };
        let config = f.daemon.config_file.display().to_string();
        assert!(
            line("old").contains("NoNewPrivs 0")
                && line("old").contains(&format!("(in {config})"))
                && line("old").contains("re-create this container"),
            "{}",
            line("old")
        );
        assert!(line("old-stopped").contains("cannot be known"));
        assert!(line("old-stopped").contains("re-create"));
        assert!(!line("optout").contains("re-create"), "{}", line("optout"));
        assert!(v.remediation.unwrap().contains("re-create the containers"));

        // With the default off, the same containers: "new-stopped" was created without it.
        let (_dir, f) = nnp_facts(containers, Some(false));
        let v = verdict(Rule::NoNewPrivileges, &f);
        assert_eq!(v.status, Status::Warn);
        assert_eq!(v.evidence.len(), 4, "{v:?}");
        assert!(v.evidence.iter().all(|l| !l.contains("re-create")), "{v:?}");
        assert!(
            v.evidence
                .iter()
                .any(|l| l.starts_with("new-stopped (") && l.contains("created while")),
            "{v:?}"
        );

        // Only containers that cannot be told: named, but no finding.
        let (_dir, f) = nnp_facts(vec![bare("old-stopped", -SECOND, &[])], Some(true));
        let v = verdict(Rule::NoNewPrivileges, &f);
        assert_eq!(v.status, Status::Info, "{v:?}");
        assert!(v.evidence[0].contains("cannot be known"), "{v:?}");

        // Everyone restricted, by the kernel's flag or the default at creation.
        let (_dir, f) = nnp_facts(
            vec![
                bare("new", SECOND, &[Some(true)]),
                bare("new-stopped", SECOND, &[]),
            ],
            Some(true),
        );
        assert_eq!(
            verdict(Rule::NoNewPrivileges, &f),
            Verdict::pass("2 containers checked: every one runs with no-new-privileges")
        );
    }

    #[test]
    fn the_running_dockerds_default_is_told_where_it_can_be() {
        let (_dir, mut f) = nnp_facts(Vec::new(), Some(true));
        assert_eq!(default_in_effect(&f), Some(true));
        assert_eq!(DaemonDefault::of(&f).started_ns, Some(STARTED));
        // The file changed after dockerd read it.
        f.daemon.json_mtime_ns = Some(STARTED + SECOND);
        assert_eq!(default_in_effect(&f), None);
        // dockerd 24 and later list it in /info.
        f.daemon.engine = Some(Ok(crate::engine::EngineInfo {
            server_version: "24.0.7".into(),
            security_options: vec!["name=seccomp,profile=builtin".into()],
            ..Default::default()
        }));
        assert_eq!(default_in_effect(&f), Some(false));
        let d = DaemonDefault::of(&f);
        assert!(
            d.configured.is_some() && d.in_effect == Some(false),
            "{d:?}"
        );
        f.daemon.engine = Some(Ok(crate::engine::EngineInfo {
            server_version: "25.0.0".into(),
            security_options: vec![
                "name=seccomp,profile=builtin".into(),
                "name=no-new-privileges".into(),
            ],
            ..Default::default()
        }));
        assert_eq!(default_in_effect(&f), Some(true));
        // dockerd 20.10 does not: its flags, else the file it read.
        let (_dir, mut f) = nnp_facts(Vec::new(), None);
        f.daemon.engine = Some(Ok(crate::engine::EngineInfo {
            server_version: "20.10.24+dfsg1".into(),
            ..Default::default()
        }));
        assert_eq!(default_in_effect(&f), Some(false), "no daemon.json");
        f.daemon.running.as_mut().unwrap().flags = vec![crate::facts::SourcedFlag {
            flag: daemon_flags::Flag {
                name: "no-new-privileges".into(),
                value: "true".into(),
                raw: "--no-new-privileges".into(),
            },
            source: crate::facts::FlagSource::Running(4242),
        }];
        assert_eq!(default_in_effect(&f), Some(true));
        // No dockerd process to ask: nothing is known about when it started.
        f.daemon.running = None;
        assert_eq!(default_in_effect(&f), None);
        assert_eq!(DaemonDefault::of(&f).started_ns, None);
    }
}
