//! The live-host side of applying: service actions with health checks, and the automatic
//! rollback when dockerd does not come back.

use std::io::IsTerminal;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::daemon_json;
use crate::error::{Error, Result};
use crate::facts::Facts;
use crate::health::{self, Expected};
use crate::plan::ServiceAction;
use crate::rsyslog;
use crate::services;
use crate::transaction::{self, Applied};

use super::Env;

/// The daemon.json dockerd will read after the run.
pub fn final_json(facts: &Facts) -> Map<String, Value> {
    let path = &facts.daemon.config_file_resolved;
    std::fs::read(facts.rootfs.real(path))
        .ok()
        .and_then(|b| daemon_json::parse(&String::from_utf8_lossy(&b)).ok())
        .unwrap_or_default()
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

/// Runs the service actions with the checks that keep dockerd alive.
pub fn run_services(
    env: &mut Env<'_>,
    facts: &Facts,
    actions: &[ServiceAction],
    health_timeout: u64,
) -> Result<Vec<String>> {
    let json = final_json(facts);
    let spinner = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let progress = |what: &str| spinner.set_message(format!("waiting for dockerd: {what}"));
    let ctx = services::Context {
        uses_rules_d: facts.audit.uses_rules_d,
        syslog: syslog_target(&json),
        docker_socket: facts.daemon.api_socket.display().to_string(),
        expected: Expected::from_json(&json),
        health_timeout: Duration::from_secs(health_timeout),
        progress: &progress,
    };
    let result = services::run(actions, &ctx, env.runner, env.engine);
    spinner.finish_and_clear();
    result
}

/// dockerd did not come back (or its prerequisites failed): restore this run's files, redo the
/// services with the old configuration, and report with dockerd's own last words.
pub fn roll_back_automatically(
    env: &mut Env<'_>,
    facts: &Facts,
    applied: &mut Applied,
    actions: &[ServiceAction],
    health_timeout: u64,
    cause: Error,
) -> Error {
    let _ = writeln!(
        env.err,
        "docker-harden: {cause}\ndocker-harden: restoring the previous configuration (run {})",
        applied.run_id
    );
    let rootfs = facts.rootfs.clone();
    applied.manifest.rollback_reason = Some(format!("automatic: {cause}"));
    let restored = transaction::plan_rollback(&rootfs, &applied.run_dir, &applied.manifest)
        .and_then(|reversals| {
            transaction::apply_rollback(
                &rootfs,
                &applied.run_dir,
                &mut applied.manifest,
                &reversals,
            )
        });
    if let Err(e) = restored {
        return Error::RolledBack {
            cause: cause.to_string(),
            run: applied.run_id.clone(),
            restarted: format!(
                "could NOT restore every file: {e}; restore by hand from {}",
                applied.run_dir.display()
            ),
            journal: health::journal_tail(env.runner),
        };
    }
    let journal = health::journal_tail(env.runner);
    let restarted = match run_services(env, facts, actions, health_timeout) {
        Ok(_) => "dockerd runs again with the old configuration".to_string(),
        Err(e) => format!("the services did NOT come back with the old configuration either: {e}"),
    };
    Error::RolledBack {
        cause: cause.to_string(),
        run: applied.run_id.clone(),
        restarted,
        journal,
    }
}

/// Whether restarting docker stops containers, and how many.
pub fn containers_stopped_by_restart(facts: &Facts, actions: &[ServiceAction]) -> Option<u64> {
    let info = facts.daemon.engine_info()?;
    (actions.contains(&ServiceAction::RestartDocker)
        && !info.live_restore
        && info.containers_running > 0)
        .then_some(info.containers_running)
}
