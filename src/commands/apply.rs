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
use crate::kinds::Kind;
use crate::plan::ServiceAction;
use crate::playbook::Playbook;
use crate::rsyslog;
use crate::services::{self, AuditSync};
use crate::survival::Guard;
use crate::transaction::{self, Applied, Manifest, RunDir};

use super::Env;

/// The daemon.json dockerd will read after the run.
pub fn final_json(facts: &Facts) -> Map<String, Value> {
    let path = &facts.daemon.config_file_resolved;
    daemon_json::settings(facts.rootfs.read(path).ok().flatten().as_deref())
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

/// What `run_services` is to do.
pub struct ServiceRequest<'a> {
    pub actions: &'a [ServiceAction],
    pub health_timeout: u64,
    pub audit: AuditSync,
    /// Putting an old configuration back after a failure.
    pub recovering: bool,
    /// daemon.json as dockerd read it before the files changed.
    pub before: &'a Map<String, Value>,
    pub touched: &'a services::DockerTouched,
    /// Containers the operator was told lose something (their log receiver).
    pub expected_to_stop: &'a [String],
}

/// Runs the service actions with the checks that keep dockerd and its containers alive.
/// `before` is daemon.json as dockerd read it before the files changed: the health check
/// expects, for each key the change touched, the value the file now holds, or dockerd's
/// default where the file no longer sets it.
pub fn run_services(
    env: &mut Env<'_>,
    facts: &Facts,
    request: ServiceRequest<'_>,
) -> Result<services::Outcome> {
    let ServiceRequest {
        actions,
        health_timeout,
        audit,
        recovering,
        before,
        touched,
        expected_to_stop,
    } = request;
    let json = final_json(facts);
    let set_by_flag = |key: &str| !facts.daemon.flags_for_key(key).is_empty();
    let expected = Expected::for_change(before, &json, &set_by_flag);
    let socket = facts.instance.api_address(&facts.daemon.api_socket);
    let guard = actions
        .contains(&ServiceAction::RestartDocker)
        .then(|| guard(env, facts, &socket, &expected, &json))
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
    let syslog_bound = move |host: &str, port: u16| {
        let now = listeners::read(&rootfs, "/proc/net");
        listeners::judge_after_restart(&now, &before, host, port, recovering)
    };
    let ctx = services::Context {
        audit,
        recovering,
        syslog: syslog_target(&json),
        syslog_bound: Some(&syslog_bound),
        docker_socket: socket,
        docker_systemctl: facts.instance.systemctl(),
        expected,
        health_timeout: Duration::from_secs(health_timeout),
        progress: &progress,
        guard,
        touched,
    };
    let result = services::run(actions, &ctx, env.runner, env.engine);
    spinner.finish_and_clear();
    result
}

/// The running containers to see through a restart, from the daemon as it runs now; `None`
/// when it cannot be asked (it is down: nothing runs to be kept).
fn guard(
    env: &Env<'_>,
    facts: &Facts,
    socket: &str,
    expected: &Expected,
    next: &Map<String, Value>,
) -> Option<Guard> {
    let info = env.engine.info(socket).ok()?;
    let states = env.engine.container_states(socket).ok()?;
    let first = !info.live_restore
        && expected.live_restore == Some(true)
        && !info.swarm_active
        && states.iter().any(|c| c.running);
    let next_keeps = next_live_restore(facts, info.live_restore, next);
    Some(Guard::new(states, info.live_restore, first, next_keeps))
}

/// Whether the dockerd a restart starts has live restore: a flag's value stays (the running
/// one's), else what daemon.json `next` says, else dockerd's default, off.
fn next_live_restore(facts: &Facts, running: bool, next: &Map<String, Value>) -> bool {
    if !facts.daemon.flags_for_key("live-restore").is_empty() {
        return running;
    }
    next.get("live-restore").and_then(Value::as_bool) == Some(true)
}

/// The docker action that puts `to` in effect in a daemon running with `from`, starting from
/// the `recorded` actions: a reload applies only the keys dockerd reloads, and only those the
/// file sets (moby's `Reload` leaves a setting alone when its key is gone), so a key removed or
/// a key dockerd does not reload needs a restart.
pub fn docker_action_for(
    recorded: &[ServiceAction],
    from: &Map<String, Value>,
    to: &Map<String, Value>,
) -> Vec<ServiceAction> {
    let changed = from
        .keys()
        .chain(to.keys())
        .filter(|k| from.get(*k) != to.get(*k));
    let needs_restart = changed
        .clone()
        .any(|k| !to.contains_key(k) || !RELOADED_KEYS.contains(&k.as_str()));
    let mut actions: Vec<ServiceAction> = recorded.to_vec();
    if needs_restart && actions.contains(&ServiceAction::ReloadDocker) {
        actions.retain(|a| *a != ServiceAction::ReloadDocker);
        actions.push(ServiceAction::RestartDocker);
        actions.sort();
        actions.dedup();
    }
    actions
}

/// daemon.json keys dockerd applies on a reload (SIGHUP), when the file sets them (moby
/// daemon/reload.go and the platform runtimes).
const RELOADED_KEYS: &[&str] = &[
    "debug",
    "labels",
    "live-restore",
    "max-concurrent-downloads",
    "max-concurrent-uploads",
    "max-download-attempts",
    "shutdown-timeout",
    "insecure-registries",
    "registry-mirrors",
    "allow-nondistributable-artifacts",
    "features",
    "network-diagnostic-port",
    "runtimes",
    "default-runtime",
];

/// dockerd did not come back (or its prerequisites failed): restore this run's files, redo the
/// services with the old configuration, and report with dockerd's own last words.
pub fn roll_back_automatically(
    env: &mut Env<'_>,
    facts: &Facts,
    applied: &mut Applied,
    actions: &[ServiceAction],
    touched: &services::DockerTouched,
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
    // What dockerd may have read by now: the run's daemon.json.
    let written = final_json(facts);
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
    // Docker is put back only as far as it was touched: a dockerd that never read the new
    // configuration is left alone (a restart now would only stop its containers).
    let mut redo: Vec<ServiceAction> = actions
        .iter()
        .copied()
        .filter(|a| {
            !matches!(
                a,
                ServiceAction::ReloadDocker | ServiceAction::RestartDocker
            )
        })
        .collect();
    let restored = final_json(facts);
    if touched.restarted.get() {
        redo.push(ServiceAction::RestartDocker);
    } else if touched.reloaded.get() {
        // A reload applies the reloadable keys at most: where the running daemon already
        // shows the old configuration's values, a reload of it is all; else a restart, which
        // keeps the containers, since what came on is live restore.
        let set_by_flag = |key: &str| !facts.daemon.flags_for_key(key).is_empty();
        let expected = Expected::for_change(&written, &restored, &set_by_flag);
        let socket = facts.instance.api_address(&facts.daemon.api_socket);
        match env.engine.info(&socket) {
            Ok(info) if expected.mismatches(&info).is_empty() => {
                redo.push(ServiceAction::ReloadDocker)
            }
            _ => redo.push(ServiceAction::RestartDocker),
        }
    }
    let actions = redo;
    let restarted = match run_services(
        env,
        facts,
        ServiceRequest {
            actions: &actions,
            health_timeout,
            audit: AuditSync {
                load: Vec::new(),
                unload,
            },
            recovering: true,
            before: &written,
            touched: &services::DockerTouched::default(),
            expected_to_stop: &[],
        },
    ) {
        Ok(outcome) if outcome.lost.is_empty() => {
            "dockerd runs again with the old configuration".to_string()
        }
        Ok(outcome) => format!(
            "dockerd runs again with the old configuration, but these containers did not keep running: {}",
            outcome.lost.join("; ")
        ),
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

/// Whether restarting docker stops containers, how many, and why. They are kept only when the
/// stopping daemon has live restore (on now, or turned on by a reload first where dockerd
/// allows it: not in swarm mode) and the daemon that starts has it too (one that starts without
/// it shuts down every container it finds alive).
pub fn containers_stopped_by_restart(
    facts: &Facts,
    actions: &[ServiceAction],
    next: &Map<String, Value>,
) -> Option<(u64, &'static str)> {
    let info = facts.daemon.engine_info()?;
    if !actions.contains(&ServiceAction::RestartDocker) || info.containers_running == 0 {
        return None;
    }
    if !next_live_restore(facts, info.live_restore, next) {
        return Some((
            info.containers_running,
            "the configuration docker restarts with has live restore off",
        ));
    }
    match (info.live_restore, info.swarm_active) {
        (true, _) | (false, false) => None,
        (false, true) => Some((
            info.containers_running,
            "this node is in swarm mode, where dockerd does not allow live restore",
        )),
    }
}

/// Whether a docker restart may stop running containers (where live restore cannot be on
/// first): never silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartConsent {
    /// `--allow-container-restart`, or the playbook's `allow_container_restart`.
    Allowed,
    /// Interactive: the operator is asked.
    Ask,
    /// Unattended without leave: refused, nothing written.
    Refused,
}

impl RestartConsent {
    pub fn unattended(allowed: bool) -> RestartConsent {
        if allowed {
            RestartConsent::Allowed
        } else {
            RestartConsent::Refused
        }
    }
}

/// Before anything is written: the restart would stop `count` running containers.
pub fn consent_to_stop(
    env: &mut Env<'_>,
    facts: &Facts,
    count: u64,
    why: &str,
    consent: RestartConsent,
) -> Result<()> {
    let socket = facts.instance.api_address(&facts.daemon.api_socket);
    let names: Vec<String> = env
        .engine
        .container_states(&socket)
        .map(|states| {
            states
                .into_iter()
                .filter(|c| c.running)
                .map(|c| c.name)
                .collect()
        })
        .unwrap_or_default();
    let names = if names.is_empty() {
        format!("{count} running")
    } else {
        names.join(", ")
    };
    match consent {
        RestartConsent::Allowed => {
            writeln!(
                env.out,
                "restarting docker stops {count} running container(s) ({names}): {why}; allowed, so they are started again afterwards"
            )?;
            Ok(())
        }
        RestartConsent::Ask => {
            writeln!(
                env.out,
                "restarting docker stops {count} running container(s) ({names}): {why}; they are started again afterwards"
            )?;
            let go_on = dialoguer::Confirm::new()
                .with_prompt("Restart docker anyway?")
                .default(false)
                .interact()
                .map_err(|e| Error::Prompt(e.to_string()))?;
            match go_on {
                true => Ok(()),
                false => Err(Error::Usage(
                    "not applied: docker would stop running containers; nothing was written".into(),
                )),
            }
        }
        RestartConsent::Refused => Err(Error::WouldStopContainers {
            count: count as usize,
            names,
            why: why.to_string(),
        }),
    }
}

/// daemon.json as `changes` (a plan's, or an item's part of it) leave it.
pub fn planned_json(facts: &Facts, changes: &[crate::plan::FileChange]) -> Map<String, Value> {
    let path = &facts.daemon.config_file_resolved;
    match changes.iter().find(|c| &c.path == path) {
        Some(change) => daemon_json::settings(change.after.content.as_deref()),
        None => daemon_json::settings(facts.file(path).and_then(|f| f.content.as_deref())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Map<String, Value> {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_reload_cannot_take_a_key_away() {
        let reload = [ServiceAction::ReloadDocker];
        let on = json(r#"{"live-restore": true}"#);
        // Setting a reloadable key: a reload does it.
        assert_eq!(docker_action_for(&reload, &json("{}"), &on), reload);
        assert_eq!(
            docker_action_for(&reload, &json(r#"{"live-restore": false}"#), &on),
            reload
        );
        // Removing it: dockerd keeps the value until it restarts.
        assert_eq!(
            docker_action_for(&reload, &on, &json("{}")),
            [ServiceAction::RestartDocker]
        );
        // A key dockerd does not reload.
        assert_eq!(
            docker_action_for(&reload, &json("{}"), &json(r#"{"icc": false}"#)),
            [ServiceAction::RestartDocker]
        );
        // No docker action recorded: none added.
        assert_eq!(
            docker_action_for(&[ServiceAction::RestartRsyslog], &on, &json("{}")),
            [ServiceAction::RestartRsyslog]
        );
    }
}
