//! The live-host side of applying: service actions with health checks, and the automatic
//! rollback when dockerd does not come back.

use std::io::IsTerminal;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::audit_rules::{self, Watch};
use crate::daemon_json;
use crate::error::{Error, Result};
use crate::facts::LoadedRules;
use crate::facts::{Facts, listeners};
use crate::health::{self, Expected};
use crate::plan::ServiceAction;
use crate::playbook::{Kind, Playbook};
use crate::rsyslog;
use crate::services::{self, AuditSync};
use crate::transaction::{self, Applied, Manifest, RunDir};

use super::Env;

/// The daemon.json dockerd will read after the run.
pub fn final_json(facts: &Facts) -> Map<String, Value> {
    let path = &facts.daemon.config_file_resolved;
    facts
        .rootfs
        .read(path)
        .ok()
        .flatten()
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
/// Audit watches to load after a fix: for the audit items applied, each persistent watch on
/// their paths that the kernel has not loaded. `facts` are gathered after the files changed.
pub fn watches_to_load(playbook: &Playbook, facts: &Facts, item_ids: &[String]) -> Vec<Watch> {
    let LoadedRules::Loaded {
        watches: loaded, ..
    } = &facts.audit.loaded
    else {
        return Vec::new();
    };
    let mut out: Vec<Watch> = Vec::new();
    for item in playbook.items.iter().filter(|i| item_ids.contains(&i.id)) {
        let Kind::Audit(spec) = &item.kind else {
            continue;
        };
        for path in facts.target(&spec.target) {
            let path = path.display().to_string();
            if loaded.iter().any(|w| w.covers(&path)) {
                continue;
            }
            if let Some((_, w)) = facts.audit.persistent.iter().find(|(_, w)| w.covers(&path))
                && !out.contains(w)
            {
                out.push(w.clone());
            }
        }
    }
    out
}

/// Audit watches to remove after a rollback: loaded watches on the paths the run's rules files
/// added, which are no longer persistent. `facts` are gathered after the files were restored.
pub fn watches_to_unload(facts: &Facts, run_dir: &RunDir, manifest: &Manifest) -> Vec<Watch> {
    let LoadedRules::Loaded {
        watches: loaded, ..
    } = &facts.audit.loaded
    else {
        return Vec::new();
    };
    let text = |bytes: Option<Vec<u8>>| {
        bytes
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    let mut out: Vec<Watch> = Vec::new();
    for record in manifest
        .files
        .iter()
        .filter(|r| r.path.to_string_lossy().ends_with(".rules"))
    {
        let written = text(transaction::written_copy(run_dir, record));
        let before = text(transaction::backup_copy(run_dir, record));
        let before_watches = audit_rules::watches(&before);
        for (_, added) in audit_rules::watches(&written) {
            if before_watches.iter().any(|(_, w)| w.covers(&added.path))
                || facts.audit.persistent_source(&added.path).is_some()
            {
                continue;
            }
            for w in loaded.iter().filter(|w| w.covers(&added.path)) {
                if !out.contains(w) {
                    out.push(w.clone());
                }
            }
        }
    }
    out
}

pub fn run_services(
    env: &mut Env<'_>,
    facts: &Facts,
    actions: &[ServiceAction],
    health_timeout: u64,
    audit: AuditSync,
    recovering: bool,
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
    // Read from the kernel right when rsyslog accepts: systemd's restart returns once rsyslogd
    // reports ready, after it has opened every input's sockets.
    let rootfs = facts.rootfs.clone();
    let before = facts.rsyslog.listeners.clone().unwrap_or_default();
    let syslog_bound = move |host: &str, port: u16| {
        let now = listeners::read(&rootfs, "/proc/net");
        listeners::judge_after_restart(&now, &before, host, port, recovering)
    };
    let ctx = services::Context {
        audit,
        recovering,
        syslog: syslog_target(&json),
        syslog_bound: Some(&syslog_bound),
        docker_socket: facts.instance.api_address(&facts.daemon.api_socket),
        docker_systemctl: facts.instance.systemctl(),
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
                applied.run_dir.host().display()
            ),
            journal: health::journal_tail(env.runner),
        };
    }
    let journal = health::journal_tail(env.runner);
    let unload = env
        .gather(&facts.instance)
        .map(|after| watches_to_unload(&after, &applied.run_dir, &applied.manifest))
        .unwrap_or_default();
    let restarted = match run_services(
        env,
        facts,
        actions,
        health_timeout,
        AuditSync {
            load: Vec::new(),
            unload,
        },
        true,
    ) {
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

/// A run that failed after its files were written, under --root (no service was touched):
/// its files go back, and the error says whether they all did.
pub fn undo_files(rootfs: &crate::rootfs::RootFs, applied: &mut Applied, cause: Error) -> Error {
    applied.manifest.rollback_reason = Some(format!("undone by itself: {cause}"));
    let restored = transaction::plan_rollback(rootfs, &applied.run_dir, &applied.manifest)
        .and_then(|reversals| {
            transaction::apply_rollback(rootfs, &applied.run_dir, &mut applied.manifest, &reversals)
        });
    // Only the record may have failed (a full disk): what counts is where the files are.
    let all_back = || {
        transaction::plan_rollback(rootfs, &applied.run_dir, &applied.manifest)
            .is_ok_and(|r| r.iter().all(transaction::Reversal::is_restored))
    };
    match restored {
        Err(_) if all_back() => Error::ApplyUndone {
            cause: cause.to_string(),
            run: applied.run_id.clone(),
        },
        Ok(_) => Error::ApplyUndone {
            cause: cause.to_string(),
            run: applied.run_id.clone(),
        },
        Err(e) => Error::ApplyHalfDone {
            cause: cause.to_string(),
            run: applied.run_id.clone(),
            undo: e.to_string(),
        },
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
