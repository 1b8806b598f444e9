//! The service actions of a run, with the checks that keep dockerd and its containers alive.

use std::io::IsTerminal;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::Result;
use crate::facts::{Facts, listeners};
use crate::health::Expected;
use crate::plan::ServiceAction;
use crate::rsyslog;
use crate::services::{self, AuditSync};
use crate::survival::Guard;

use super::consent::next_live_restore;
use super::host::Host;

/// What `run_services` is to do.
pub(crate) struct ServiceRequest<'a> {
    pub(crate) actions: &'a [ServiceAction],
    pub(crate) health_timeout: u64,
    pub(crate) audit: AuditSync,
    /// Putting an old configuration back after a failure.
    pub(crate) recovering: bool,
    /// daemon.json as dockerd read it before the files changed.
    pub(crate) before: &'a Map<String, Value>,
    /// daemon.json as dockerd reads it after them: the plan's (or the restored record's),
    /// not the disk read again.
    pub(crate) after: &'a Map<String, Value>,
    pub(crate) touched: &'a services::DockerTouched,
    /// Containers the operator was told lose something (their log receiver).
    pub(crate) expected_to_stop: &'a [String],
}

/// Runs the service actions with the checks that keep dockerd and its containers alive.
/// The health check expects, for each daemon.json key the change from `before` to `after`
/// touched, its value in `after`, or dockerd's default where `after` no longer sets it.
pub(super) fn run_services(
    host: &Host<'_>,
    facts: &Facts,
    request: ServiceRequest<'_>,
) -> Result<services::Outcome> {
    let ServiceRequest {
        actions,
        health_timeout,
        audit,
        recovering,
        before,
        after: json,
        touched,
        expected_to_stop,
    } = request;
    let set_by_flag = |key: &str| !facts.daemon.flags_for_key(key).is_empty();
    let expected = Expected::for_change(before, json, &set_by_flag);
    let socket = facts.instance.api_address(&facts.daemon.api_socket);
    let guard = actions
        .contains(&ServiceAction::RestartDocker)
        .then(|| guard(host, facts, &socket, &expected, json))
        .flatten()
        .map(|mut g| {
            g.expected_to_stop = expected_to_stop.to_vec();
            g
        });
    let spinner = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let progress = |what: &str| spinner.set_message(format!("waiting for dockerd: {what}"));
    // Read from the kernel right when rsyslog accepts: systemd's restart returns once rsyslogd
    // reports ready, after it has opened every input's sockets.
    let rootfs = facts.rootfs.clone();
    let before = facts.rsyslog.listeners.clone().unwrap_or_default();
    let syslog_bound = move |address: &str, port: u16| {
        let now = listeners::read(&rootfs, "/proc/net");
        listeners::judge_after_restart(&now, &before, address, port, recovering)
    };
    let ctx = services::Context {
        audit,
        recovering,
        syslog: syslog_target(json),
        syslog_bound: Some(&syslog_bound),
        docker_socket: socket,
        docker_systemctl: facts.instance.systemctl(),
        expected,
        health_timeout: Duration::from_secs(health_timeout),
        progress: &progress,
        guard,
        touched,
    };
    let result = services::run(actions, &ctx, host.runner, host.engine);
    spinner.finish_and_clear();
    result
}

/// The running containers to see through a restart, from the daemon as it runs now; `None`
/// when it cannot be asked (it is down: nothing runs to be kept).
fn guard(
    host: &Host<'_>,
    facts: &Facts,
    socket: &str,
    expected: &Expected,
    next: &Map<String, Value>,
) -> Option<Guard> {
    let info = host.engine.info(socket).ok()?;
    let states = host.engine.container_states(socket).ok()?;
    let first = !info.live_restore
        && expected.live_restore == Some(true)
        && !info.swarm_active
        && states.iter().any(|c| c.running);
    let next_keeps = next_live_restore(facts, info.live_restore, next);
    Some(Guard::new(states, info.live_restore, first, next_keeps))
}

/// A local TCP syslog listener the syslog log driver needs.
fn syslog_target(json: &Map<String, Value>) -> Option<(String, u16)> {
    if json.get("log-driver").and_then(Value::as_str) != Some("syslog") {
        return None;
    }
    let address = json.get("log-opts")?.get("syslog-address")?.as_str()?;
    match rsyslog::parse_syslog_address(address)? {
        (rsyslog::Proto::Tcp, host, port) if rsyslog::is_local_host(&host) => Some((host, port)),
        _ => None,
    }
}
