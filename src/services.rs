//! Acting on services after the files are written, through the runner seam, each once and in
//! dependency order: audit rules, rsyslog (then its listener must accept connections, or every
//! container with the syslog driver fails to start), docker (then a bounded health check).

use std::time::Duration;

use crate::audit_rules::Watch;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::health::{self, Expected};
use crate::plan::ServiceAction;
use crate::runner::Runner;
use crate::survival::{self, Guard};

/// How long rsyslog gets to open its listener after a restart.
const SYSLOG_WAIT_SECS: u64 = 10;

/// Watches to add to or remove from the kernel's loaded rules, so they match the persistent
/// ones. Done watch by watch with auditctl: reloading everything (augenrules --load) would also
/// rewrite /etc/audit/audit.rules and leave audit.rules.prev behind, which no rollback could
/// undo byte for byte.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AuditSync {
    pub load: Vec<Watch>,
    pub unload: Vec<Watch>,
}

/// See `Context::syslog_bound`.
pub(crate) type SyslogBound = dyn Fn(&str, u16) -> Result<Option<String>>;

pub(crate) struct Context<'a> {
    pub audit: AuditSync,
    /// Restoring after a failed start: clear systemd's failed state before restarting.
    pub recovering: bool,
    /// A local syslog listener dockerd's syslog driver will connect to.
    pub syslog: Option<(String, u16)>,
    /// Judges what listens on the syslog port once rsyslog accepts after its restart (host and
    /// port as in `syslog`): a line to log, or an error that stops the run before docker.
    pub syslog_bound: Option<&'a SyslogBound>,
    pub docker_socket: String,
    /// The systemctl command that reaches docker's unit (the user's manager for a rootless
    /// daemon): program, then its first arguments.
    pub docker_systemctl: Vec<String>,
    /// What `docker info` must show after docker restarts or reloads.
    pub expected: Expected,
    pub health_timeout: Duration,
    pub progress: &'a dyn Fn(&str),
    /// The running containers, to see through a docker restart; `None` when they could not
    /// be listed (nothing then is checked).
    pub guard: Option<Guard>,
    pub touched: &'a DockerTouched,
}

/// Which docker actions were started: after a failure, what the old configuration must be
/// put back with (nothing, when dockerd never read the new one).
#[derive(Debug, Default)]
pub(crate) struct DockerTouched {
    pub reloaded: std::cell::Cell<bool>,
    pub restarted: std::cell::Cell<bool>,
}

/// What the actions did: a line each, and the containers that did not survive a restart
/// (which the configuration does not cause, so they fail the run without undoing it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub log: Vec<String>,
    pub lost: Vec<String>,
}

/// Runs the actions in order; returns one line per action saying what happened.
pub(crate) fn run(
    actions: &[ServiceAction],
    ctx: &Context<'_>,
    runner: &dyn Runner,
    engine: &dyn Engine,
) -> Result<Outcome> {
    let mut log = Vec::new();
    let mut lost = Vec::new();
    for action in actions {
        match action {
            // Watches are worth having at next boot even when the kernel refuses them now, so a
            // failure here is reported, not fatal.
            ServiceAction::LoadAuditRules => {
                log.push(sync_audit_rules(&ctx.audit, runner).unwrap_or_else(|e| {
                    format!("audit rules not loaded now ({e}); they load at next boot")
                }))
            }
            ServiceAction::RestartRsyslog => {
                log.push(systemctl(
                    runner,
                    &["systemctl".to_string()],
                    "restart",
                    "rsyslog",
                )?);
                if let Some((host, port)) = &ctx.syslog {
                    log.push(wait_for_syslog(runner, host, *port)?);
                    if let Some(judge) = ctx.syslog_bound {
                        log.extend(judge(host, *port)?);
                    }
                }
            }
            ServiceAction::DaemonReload => log.push(systemctl(
                runner,
                &ctx.docker_systemctl,
                "daemon-reload",
                "",
            )?),
            ServiceAction::ReloadDocker | ServiceAction::RestartDocker => {
                let restart = *action == ServiceAction::RestartDocker;
                let verb = if restart { "restart" } else { "reload" };
                // Kept only where the stopping daemon has live restore and the starting one
                // too.
                let next_keeps = ctx.guard.as_ref().is_some_and(|g| g.next_keeps);
                let mut held = ctx.guard.as_ref().is_some_and(|g| g.live_restore_on) && next_keeps;
                if restart && let Some(guard) = ctx.guard.as_ref().filter(|g| g.live_restore_first)
                {
                    // Live restore first, by a reload of its own, so the restart that
                    // follows leaves every running container running.
                    ctx.touched.reloaded.set(true);
                    log.push(systemctl(
                        runner,
                        &ctx.docker_systemctl,
                        "reload",
                        "docker",
                    )?);
                    let first = Expected {
                        live_restore: Some(true),
                        ..Expected::default()
                    };
                    health::wait_for_docker(
                        runner,
                        engine,
                        &ctx.docker_systemctl,
                        &ctx.docker_socket,
                        &first,
                        ctx.health_timeout,
                        ctx.progress,
                    )
                    .map_err(|message| Error::DockerDown {
                        message: format!(
                            "live restore did not come on with a reload, so docker was not restarted ({} running container(s) would stop): {message}",
                            guard.running.len()
                        ),
                    })?;
                    log.push(
                        "dockerd reloaded: live restore is on, so the restart keeps the running containers"
                            .to_string(),
                    );
                    held = next_keeps;
                }
                if ctx.recovering {
                    // After failed starts systemd's start limit refuses another one until reset.
                    let units = if ctx.docker_systemctl.len() == 1 {
                        "docker.service docker.socket"
                    } else {
                        "docker.service"
                    };
                    log.push(systemctl(
                        runner,
                        &ctx.docker_systemctl,
                        "reset-failed",
                        units,
                    )?);
                }
                match restart {
                    true => ctx.touched.restarted.set(true),
                    false => ctx.touched.reloaded.set(true),
                }
                log.push(systemctl(runner, &ctx.docker_systemctl, verb, "docker")?);
                let info = health::wait_for_docker(
                    runner,
                    engine,
                    &ctx.docker_systemctl,
                    &ctx.docker_socket,
                    &ctx.expected,
                    ctx.health_timeout,
                    ctx.progress,
                )
                .map_err(|e| Error::DockerDown {
                    message: e.to_string(),
                })?;
                log.push(format!(
                    "dockerd {} is healthy: live restore {}, logging driver {}",
                    info.server_version,
                    if info.live_restore { "on" } else { "off" },
                    info.logging_driver
                ));
                if restart && let Some(guard) = &ctx.guard {
                    match engine.container_states(&ctx.docker_socket) {
                        Ok(after) => {
                            let (lines, gone) = survival::judge(
                                guard,
                                &after,
                                held,
                                &ctx.docker_socket,
                                engine,
                                runner,
                            );
                            log.extend(lines);
                            lost.extend(gone);
                        }
                        Err(e) => lost.push(format!(
                            "the containers could not be listed after the restart ({e}); {} were running before",
                            guard.running.len()
                        )),
                    }
                }
            }
        }
    }
    Ok(Outcome { log, lost })
}

fn wait_for_syslog(runner: &dyn Runner, host: &str, port: u16) -> Result<String> {
    for _ in 0..SYSLOG_WAIT_SECS {
        if runner.tcp_accepts(host, port) {
            return Ok(format!("rsyslog accepts connections on {host}:{port}"));
        }
        runner.pause(Duration::from_secs(1));
    }
    Err(Error::Command {
        command: format!("connect to {host}:{port}"),
        message: format!(
            "rsyslog does not accept connections on {host}:{port} after its restart; docker was not restarted, because containers with the syslog log driver would fail to start"
        ),
    })
}

fn command(runner: &dyn Runner, program: &str, args: &[&str]) -> Result<String> {
    let line = std::iter::once(program)
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let out = runner.run(program, args).map_err(|e| Error::Command {
        command: line.clone(),
        message: e.to_string(),
    })?;
    if !out.success {
        return Err(Error::Command {
            command: line,
            message: format!("{}{}", out.stderr.trim(), out.stdout.trim()),
        });
    }
    Ok(line)
}

/// `systemctl_cmd` is the program and its first arguments (`systemctl`, or systemctl run as a
/// rootless daemon's user).
fn systemctl(
    runner: &dyn Runner,
    systemctl_cmd: &[String],
    verb: &str,
    unit: &str,
) -> Result<String> {
    let (program, first) = systemctl_cmd
        .split_first()
        .expect("a systemctl command line");
    let args: Vec<&str> = first
        .iter()
        .map(String::as_str)
        .chain(std::iter::once(verb))
        .chain(unit.split_whitespace())
        .collect();
    command(runner, program, &args).map(|line| format!("ran `{line}`"))
}

fn watch_args(flag: &str, w: &Watch) -> Vec<String> {
    let mut args = vec![flag.to_string(), w.path.clone()];
    if !w.perms.is_empty() {
        args.extend(["-p".to_string(), w.perms.clone()]);
    }
    if let Some(key) = &w.key {
        args.extend(["-k".to_string(), key.clone()]);
    }
    args
}

fn sync_audit_rules(sync: &AuditSync, runner: &dyn Runner) -> Result<String> {
    let locked = runner
        .run("auditctl", &["-s"])
        .ok()
        .filter(|o| o.success)
        .and_then(|o| crate::audit_rules::enabled_flag(&o.stdout))
        == Some(2);
    if locked {
        return Ok(
            "audit rules are locked (-e 2) until reboot: the watches are loaded at next boot"
                .into(),
        );
    }
    for (flag, watches) in [("-W", &sync.unload), ("-w", &sync.load)] {
        for w in watches {
            let args = watch_args(flag, w);
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            command(runner, "auditctl", &refs)?;
        }
    }
    Ok(match (sync.load.len(), sync.unload.len()) {
        (0, 0) => "audit watches already loaded".into(),
        (n, 0) => format!("loaded {n} audit watch(es) with auditctl -w"),
        (0, m) => format!("removed {m} audit watch(es) with auditctl -W"),
        (n, m) => format!("loaded {n} and removed {m} audit watch(es) with auditctl"),
    })
}
