//! `rollback`: list saved runs, or restore one run's files byte for byte and redo its service
//! actions.

use std::io::IsTerminal;

use crate::commands::args::RollbackArgs;
use crate::daemons::Daemon;
use crate::error::{EXIT_CLEAN, Error, Result};
use crate::facts::Facts;
use crate::plan::ServiceAction;
use crate::plan::{FileChange, PlannedFile};
use crate::render;
use crate::services::AuditSync;
use crate::transaction::{self, Manifest, Reversal, RunDir};

use super::Env;
use super::apply::{self, RestartConsent};

pub fn run(env: &mut Env<'_>, args: &RollbackArgs) -> Result<i32> {
    let rootfs = env.settings.rootfs.clone();
    if args.list {
        list(env, &transaction::list_runs(&rootfs)?)?;
        return Ok(EXIT_CLEAN);
    }
    // After --list, which only reads docker-harden's own records.
    env.local_engine_only("rollback")?;
    let _lock = transaction::lock(&rootfs)?;
    let (run_dir, mut manifest) = transaction::find_run(&rootfs, args.run_id.as_deref())?;
    if manifest.status == transaction::RunStatus::RolledBack {
        return Err(Error::Rollback {
            run: manifest.run_id.clone(),
            reason: "it was already rolled back".into(),
        });
    }
    if args.run_id.is_none() {
        for damaged in transaction::list_runs(&rootfs)?
            .iter()
            .filter(|r| r.run_id > manifest.run_id)
        {
            if let Err(reason) = &damaged.record {
                writeln!(
                    env.err,
                    "note: skipped run {}, whose record cannot be read: {reason}",
                    damaged.run_id
                )?;
            }
        }
    }
    env.header(&format!("rollback of run {}", manifest.run_id))?;
    if manifest.status == transaction::RunStatus::Applying {
        writeln!(
            env.out,
            "run {} was interrupted while applying: completing its rollback (a file still as it was before needs nothing)",
            manifest.run_id
        )?;
    }
    let reversals = transaction::plan_rollback(&rootfs, &run_dir, &manifest)?;
    // Diffs only need the account names; facts of the live host are not gathered for them.
    let facts_for_names = Facts::names_only(&rootfs)?;
    let paint = env.settings.paint;
    let drifted: Vec<_> = reversals.iter().filter(|r| r.drift.is_some()).collect();
    if !drifted.is_empty() {
        writeln!(env.out, "changed since run {}:", manifest.run_id)?;
        for r in &drifted {
            writeln!(
                env.out,
                "{}: {}",
                r.record.path.display(),
                r.drift.as_deref().unwrap_or("")
            )?;
            let written = transaction::written_copy(&run_dir, &r.record);
            let since = FileChange {
                path: r.record.path.clone(),
                before: PlannedFile {
                    content: written.or_else(|| r.now.content.clone()),
                    mode: Some(r.record.mode_after),
                    owner: Some((r.record.uid_after, r.record.gid_after)),
                },
                after: r.now.clone(),
                as_user: r.record.as_user.clone(),
            };
            render::file_change(env.out, &since, &facts_for_names, paint)?;
        }
        if !args.force {
            return Err(Error::Rollback {
                run: manifest.run_id.clone(),
                reason: format!(
                    "{} file(s) changed after the run (shown above); use --force to restore them anyway (a copy of each is kept)",
                    drifted.len()
                ),
            });
        }
    }
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let consent = match (args.allow_container_restart, !args.yes && terminal) {
        (true, _) => RestartConsent::Allowed,
        (false, true) => RestartConsent::Ask,
        (false, false) => {
            RestartConsent::unattended(env.settings.playbook.variables.allow_container_restart)
        }
    };
    restore(
        env,
        &run_dir,
        &mut manifest,
        &reversals,
        args.health_timeout,
        consent,
    )?;
    Ok(EXIT_CLEAN)
}

/// `rollback --list`: every saved run, a damaged one with the reason.
fn list(env: &mut Env<'_>, runs: &[transaction::SavedRun]) -> Result<()> {
    if runs.is_empty() {
        writeln!(env.out, "no saved runs")?;
        return Ok(());
    }
    writeln!(
        env.out,
        "{:<22} {:<30} {:<14} {:<6} FILES",
        "RUN-ID", "TIME", "STATUS", "ITEMS"
    )?;
    for run in runs {
        match &run.record {
            Ok(m) => writeln!(
                env.out,
                "{:<22} {:<30} {:<14} {:<6} {}",
                m.run_id,
                m.created,
                m.status.label(),
                m.items.len(),
                m.files
                    .iter()
                    .map(|f| f.path.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            )?,
            Err(reason) => writeln!(
                env.out,
                "{:<22} {:<30} {:<14} {:<6} {reason}",
                run.run_id, "-", "damaged", "-"
            )?,
        }
    }
    Ok(())
}

/// Restores a run's files from its `reversals` (showing each change on `env.out`), marks the
/// run rolled back, and redoes its service actions on the live host. `ask`: on a terminal,
/// containers the rollback would leave without their log receiver are named and the operator
/// asked first; otherwise they are named in the output.
pub fn restore(
    env: &mut Env<'_>,
    run_dir: &RunDir,
    manifest: &mut Manifest,
    reversals: &[Reversal],
    health_timeout: u64,
    consent: RestartConsent,
) -> Result<()> {
    let rootfs = env.settings.rootfs.clone();
    // The daemon as it runs before the rollback: what it was told, and its containers.
    let live = match env.settings.live {
        true => live_daemon(env, manifest)?,
        false => None,
    };
    // daemon.json as dockerd was told it before the files change back.
    let was = live.as_ref().map(|(_, facts)| apply::final_json(facts));
    let mut warned = Vec::new();
    let mut actions = manifest.services.clone();
    if let (Some((_, facts)), Some(was)) = (&live, &was) {
        warned = warn_of_lost_receiver(env, facts, manifest, consent == RestartConsent::Ask)?;
        // What the recorded actions did may not undo itself: a reload leaves a setting whose
        // key is gone, so the running daemon is restarted where it must be.
        let restored = restored_json(facts, reversals).unwrap_or_else(|| was.clone());
        actions = apply::docker_action_for(&manifest.services, was, &restored);
        // A restart into the restored configuration stops the running containers when that
        // configuration has live restore off: never without leave.
        if let Some((count, why)) = apply::containers_stopped_by_restart(facts, &actions, &restored)
        {
            apply::consent_to_stop(env, facts, count, why, consent)?;
        }
    }
    // Diffs only need the account names; facts of the live host are not gathered for them.
    let facts_for_names = Facts::names_only(&rootfs)?;
    for r in reversals.iter().filter(|r| !r.is_restored()) {
        let back = FileChange {
            path: r.record.path.clone(),
            before: r.now.clone(),
            after: r.restore.clone(),
            as_user: r.record.as_user.clone(),
        };
        render::file_change(env.out, &back, &facts_for_names, env.settings.paint)?;
    }
    let kept = transaction::apply_rollback(&rootfs, run_dir, manifest, reversals)?;
    for r in reversals {
        if let Some(note) = &r.note {
            writeln!(env.out, "{}: {note}", r.record.path.display())?;
        }
    }
    for copy in &kept {
        writeln!(
            env.out,
            "kept a copy of {} as it was before this rollback: {}/{}",
            copy.path.display(),
            run_dir.host().display(),
            copy.copy
        )?;
    }
    writeln!(
        env.out,
        "rolled back run {}: restored {} file(s)",
        manifest.run_id,
        reversals.len()
    )?;
    if env.settings.live {
        let (Some((daemon, _)), Some(was)) = (live, was) else {
            return Err(crate::error::Error::Selector(format!(
                "run {} fixed {}, which is no longer on this host; its files are restored, but no service was restarted",
                manifest.run_id, manifest.daemon
            )));
        };
        // Facts of the restored host tell the services what to expect.
        let facts = env.gather(&daemon)?;
        let audit = AuditSync {
            load: Vec::new(),
            unload: apply::watches_to_unload(&facts, run_dir, manifest),
        };
        let request = apply::ServiceRequest {
            actions: &actions,
            health_timeout,
            audit,
            recovering: true,
            before: &was,
            touched: &Default::default(),
            expected_to_stop: &warned,
        };
        let outcome = apply::run_services(env, &facts, request)?;
        for line in &outcome.log {
            writeln!(env.out, "{line}")?;
        }
        if !outcome.lost.is_empty() {
            return Err(crate::error::Error::ContainersLost {
                run: format!("{}, rolled back", manifest.run_id),
                lost: outcome.lost.join("\n  "),
            });
        }
    } else if !manifest.services.is_empty() {
        writeln!(
            env.out,
            "services: none touched under --root; when this root boots: {}",
            render::actions_line(&manifest.services)
        )?;
    }
    Ok(())
}

/// daemon.json as the rollback restores it, when the run changed it.
fn restored_json(
    facts: &Facts,
    reversals: &[Reversal],
) -> Option<serde_json::Map<String, serde_json::Value>> {
    let r = reversals
        .iter()
        .find(|r| r.record.path == facts.daemon.config_file_resolved)?;
    Some(crate::daemon_json::settings(r.restore.content.as_deref()))
}

/// The daemon the run fixed and its facts now; `None` when it is no longer on this host.
fn live_daemon(env: &Env<'_>, manifest: &Manifest) -> Result<Option<(Daemon, Facts)>> {
    let Some(daemon) = crate::daemons::discover(&env.settings.rootfs, true)?
        .into_iter()
        .find(|d| d.key() == manifest.daemon)
    else {
        return Ok(None);
    };
    let facts = env.gather(&daemon)?;
    Ok(Some((daemon, facts)))
}

/// A run that set up rsyslog's TCP input leaves containers sending their logs there (the ones
/// created since take the daemon's syslog default); the rollback stops that receiver. Each
/// such container is named with what to do, before anything changes; on a terminal the
/// operator decides whether to go on.
fn warn_of_lost_receiver(
    env: &mut Env<'_>,
    facts: &Facts,
    manifest: &Manifest,
    ask: bool,
) -> Result<Vec<String>> {
    if !manifest.services.contains(&ServiceAction::RestartRsyslog) {
        return Ok(Vec::new());
    }
    let json = apply::final_json(facts);
    let Some(address) = json
        .get("log-opts")
        .and_then(|o| o.get("syslog-address"))
        .and_then(|a| a.as_str())
        .map(str::to_string)
        .or_else(|| Some(env.settings.playbook.variables.syslog_address.to_string()))
    else {
        return Ok(Vec::new());
    };
    let socket = facts.instance.api_address(&facts.daemon.api_socket);
    let Ok(states) = env.engine.container_states(&socket) else {
        return Ok(Vec::new());
    };
    let senders: Vec<&crate::engine::ContainerState> = states
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
        env.err,
        "warning: this rollback stops rsyslog receiving at {address}, where {} container(s) send their logs: {}.\nA running one loses its logs and a stopped one cannot start again until it is re-created with another log driver (`docker run --log-driver json-file ...`, compose `logging: driver: json-file`) or something receives at {address} again.",
        senders.len(),
        senders.join(", ")
    )?;
    if ask {
        let go_on = dialoguer::Confirm::new()
            .with_prompt("Roll back anyway?")
            .default(false)
            .interact()
            .map_err(|e| crate::error::Error::Prompt(e.to_string()))?;
        if !go_on {
            return Err(crate::error::Error::Usage(
                "rollback not done: nothing was changed".into(),
            ));
        }
    }
    Ok(ids)
}
