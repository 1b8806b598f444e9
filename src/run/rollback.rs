//! Rolling a run back: each file's way back planned from the record, the docker action that
//! puts the old configuration in effect, then the files restored and the services redone with
//! their health checks.

use serde_json::{Map, Value};

use crate::daemons::{self, Daemon};
use crate::engine::ContainerState;
use crate::error::{Error, Result};
use crate::facts::Facts;
use crate::plan::{FileChange, ServiceAction};
use crate::records::RunDir;
use crate::rootfs::RootFs;
use crate::services::AuditSync;
use crate::transaction::{self, Manifest, Reversal};

use super::apply::Options;
use super::consent::{RestartConsent, consent_to_stop, containers_stopped_by_restart};
use super::daemon_config::{planned_json, restored_json};
use super::docker_action::docker_action_for;
use super::host::{Console, Host};
use super::services::{ServiceRequest, run_services};
use super::watches::watches_to_unload;

/// A run's rollback as planned: the run and each of its files' way back. Nothing is written
/// to plan it.
pub(crate) struct RollbackPlan {
    pub(crate) run_dir: RunDir,
    pub(crate) manifest: Manifest,
    pub(crate) reversals: Vec<Reversal>,
}

impl RollbackPlan {
    pub(crate) fn new(
        rootfs: &RootFs,
        run_dir: RunDir,
        manifest: Manifest,
    ) -> Result<RollbackPlan> {
        let reversals = transaction::plan_rollback(rootfs, &run_dir, &manifest)?;
        Ok(RollbackPlan {
            run_dir,
            manifest,
            reversals,
        })
    }

    /// The changes the rollback makes, each file from what is there now to what it restores.
    pub(crate) fn changes_back(&self) -> Vec<FileChange> {
        changes_back(&self.reversals)
    }
}

fn changes_back(reversals: &[Reversal]) -> Vec<FileChange> {
    reversals
        .iter()
        .filter(|r| !r.is_restored())
        .map(|r| FileChange {
            path: r.record.path.clone(),
            before: r.now.clone(),
            after: r.restore.clone(),
            as_user: r.record.as_user.clone(),
        })
        .collect()
}

/// Restores a run's files (showing each change on the console first), marks the run rolled
/// back, and redoes its service actions on the live host. With `RestartConsent::Ask`,
/// containers the rollback would leave without their log receiver are named and the operator
/// asked first; otherwise they are named in the output.
pub(crate) fn roll_back(
    host: &Host<'_>,
    console: &mut dyn Console,
    plan: &mut RollbackPlan,
    options: Options,
) -> Result<()> {
    let RollbackPlan {
        run_dir,
        manifest,
        reversals,
    } = plan;
    let rootfs = host.rootfs;
    // The daemon as it runs before the rollback: what it was told, and its containers.
    let live = match host.live {
        true => live_daemon(host, manifest)?,
        false => None,
    };
    // daemon.json as dockerd was told it before the files change back, and as they leave it.
    let was = live.as_ref().map(|(_, facts)| planned_json(facts, &[]));
    let mut restored = None;
    let mut warned = Vec::new();
    let mut actions = manifest.services.clone();
    if let (Some((_, facts)), Some(was)) = (&live, &was) {
        let ask = options.consent == RestartConsent::Ask;
        warned = warn_of_lost_receiver(host, console, facts, was, manifest, ask)?;
        // What the recorded actions did may not undo itself: a reload leaves a setting whose
        // key is gone, so the running daemon is restarted where it must be.
        let back = restored_json(facts, reversals).unwrap_or_else(|| was.clone());
        actions = docker_action_for(&manifest.services, was, &back);
        // A restart into the restored configuration stops the running containers when that
        // configuration has live restore off: never without leave.
        if let Some((count, why)) = containers_stopped_by_restart(facts, &actions, &back) {
            consent_to_stop(host, console, facts, count, why, options.consent)?;
        }
        restored = Some(back);
    }
    console.show_changes(&changes_back(reversals))?;
    let kept = transaction::apply_rollback(rootfs, run_dir, manifest, reversals)?;
    for r in reversals.iter() {
        if let Some(note) = &r.note {
            writeln!(console.out(), "{}: {note}", r.record.path.display())?;
        }
    }
    for copy in &kept {
        writeln!(
            console.out(),
            "kept a copy of {} as it was before this rollback: {}/{}",
            copy.path.display(),
            run_dir.host().display(),
            copy.copy
        )?;
    }
    writeln!(
        console.out(),
        "rolled back run {}: restored {} file(s)",
        manifest.run_id,
        reversals.len()
    )?;
    if !host.live {
        if !manifest.services.is_empty() {
            console.services_deferred(&manifest.services)?;
        }
        return Ok(());
    }
    let (Some((daemon, _)), Some(was), Some(restored)) = (live, was, restored) else {
        return Err(Error::Selector(format!(
            "run {} fixed {}, which is no longer on this host; its files are restored, but no service was restarted",
            manifest.run_id, manifest.daemon
        )));
    };
    // Facts of the restored host tell the services which audit watches to drop.
    let facts = host.gather(&daemon)?;
    let audit = AuditSync {
        load: Vec::new(),
        unload: watches_to_unload(&facts, run_dir, manifest),
    };
    let request = ServiceRequest {
        actions: &actions,
        health_timeout: options.health_timeout,
        audit,
        recovering: true,
        before: &was,
        after: &restored,
        touched: &Default::default(),
        expected_to_stop: &warned,
    };
    let outcome = run_services(host, &facts, request)?;
    for line in &outcome.log {
        writeln!(console.out(), "{line}")?;
    }
    if !outcome.lost.is_empty() {
        return Err(Error::ContainersLost {
            run: format!("{}, rolled back", manifest.run_id),
            lost: outcome.lost.join("\n  "),
        });
    }
    Ok(())
}

/// The daemon the run fixed and its facts now; `None` when it is no longer on this host.
fn live_daemon(host: &Host<'_>, manifest: &Manifest) -> Result<Option<(Daemon, Facts)>> {
    let Some(daemon) = daemons::discover(host.rootfs, true)?
        .into_iter()
        .find(|d| d.key() == manifest.daemon)
    else {
        return Ok(None);
    };
    let facts = host.gather(&daemon)?;
    Ok(Some((daemon, facts)))
}

/// A run that set up rsyslog's TCP input leaves containers sending their logs there (the ones
/// created since take the daemon's syslog default); the rollback stops that receiver. Each
/// such container is named with what to do, before anything changes; on a terminal the
/// operator decides whether to go on.
fn warn_of_lost_receiver(
    host: &Host<'_>,
    console: &mut dyn Console,
    facts: &Facts,
    json: &Map<String, Value>,
    manifest: &Manifest,
    ask: bool,
) -> Result<Vec<String>> {
    if !manifest.services.contains(&ServiceAction::RestartRsyslog) {
        return Ok(Vec::new());
    }
    let Some(address) = json
        .get("log-opts")
        .and_then(|o| o.get("syslog-address"))
        .and_then(|a| a.as_str())
        .map(str::to_string)
        .or_else(|| Some(host.playbook.variables.syslog_address.to_string()))
    else {
        return Ok(Vec::new());
    };
    let socket = facts.instance.api_address(&facts.daemon.api_socket);
    let Ok(states) = host.engine.container_states(&socket) else {
        return Ok(Vec::new());
    };
    let senders: Vec<&ContainerState> = states
        .iter()
        .filter(|c| c.log_driver == "syslog" && c.syslog_address.as_deref() == Some(&address))
        .collect();
    if senders.is_empty() {
        return Ok(Vec::new());
    }
    let ids = senders.iter().map(|c| c.id.clone()).collect();
    let senders: Vec<String> = senders
        .iter()
        .map(|c| format!("{} ({}, {})", c.name, &c.id[..c.id.len().min(12)], c.status))
        .collect();
    writeln!(
        console.err(),
        "warning: this rollback stops rsyslog receiving at {address}, where {} container(s) send their logs: {}.\nA running one loses its logs and a stopped one cannot start again until it is re-created with another log driver (`docker run --log-driver json-file ...`, compose `logging: driver: json-file`) or something receives at {address} again.",
        senders.len(),
        senders.join(", ")
    )?;
    if ask && !console.confirm("Roll back anyway?")? {
        return Err(Error::Usage(
            "rollback not done: nothing was changed".into(),
        ));
    }
    Ok(ids)
}
