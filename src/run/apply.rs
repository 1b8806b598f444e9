//! Applying a plan: the files as one transaction under the lock, then on the live host the
//! service actions with their health checks, and the undo when dockerd does not come back.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::facts::Facts;
use crate::health::{self, Expected};
use crate::plan::{self, Plan, ServiceAction};
use crate::records;
use crate::rootfs::RootFs;
use crate::services::{AuditSync, DockerTouched};
use crate::transaction::{self, Applied};

use super::consent::{RestartConsent, consent_to_stop, containers_stopped_by_restart};
use super::daemon_config::planned_json;
use super::host::{Console, Host};
use super::planning::changed_items;
use super::recovery::closable_interrupted;
use super::services::{ServiceRequest, run_services};
use super::watches::{watches_to_load, watches_to_unload};

/// How a run acts on the services (applying a plan, or rolling one back).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// Seconds dockerd gets to come back healthy after a restart or reload.
    pub(crate) health_timeout: u64,
    /// Whether a docker restart may stop running containers.
    pub(crate) consent: RestartConsent,
}

/// Applies a non-empty plan as one transaction under the lock: writes the files (saving the
/// originals), then on the live host acts on the services with health checks and rolls back by
/// itself when dockerd does not come back. Says what it did on the console's `out`; returns the
/// run ID when files were written (a plan of service actions alone writes no run).
pub fn apply(
    host: &Host<'_>,
    console: &mut dyn Console,
    facts: &Facts,
    plan: &Plan,
    options: Options,
) -> Result<Option<String>> {
    let rootfs = host.rootfs;
    let _lock = records::lock(rootfs)?;
    // Under the lock, any run still `applying` was interrupted: never stack a run on it,
    // unless it changed nothing.
    if let Some(run) = closable_interrupted(rootfs, host.invoked_as, "fix")? {
        transaction::close_untouched(rootfs, &run)?;
        writeln!(
            console.err(),
            "note: run {run} was interrupted before it changed any file; recorded as rolled back"
        )?;
    }
    let actions = plan::collapse(&plan.actions);
    let after = planned_json(facts, &plan.changes);
    if host.live
        && let Some((count, why)) = containers_stopped_by_restart(facts, &actions, &after)
    {
        consent_to_stop(host, console, facts, count, why, options.consent)?;
    }
    let run = Run {
        host,
        facts,
        actions: &actions,
        applied_items: changed_items(plan),
        before: planned_json(facts, &[]),
        after,
        health_timeout: options.health_timeout,
        touched: DockerTouched::default(),
    };
    if plan.changes.is_empty() {
        // Service actions alone write no run.
        let lost = run.finish(console)?;
        if !lost.is_empty() {
            return Err(Error::ContainersLost {
                run: "(no files changed)".into(),
                lost: lost.join("\n  "),
            });
        }
        return Ok(None);
    }
    let items_by_path = |path: &Path| {
        plan.items
            .iter()
            .filter(|i| i.changes.iter().any(|c| c.path == path))
            .map(|i| i.id.clone())
            .collect()
    };
    let codes: BTreeMap<String, String> = host
        .playbook
        .items
        .iter()
        .map(|i| (i.id.clone(), i.code.clone()))
        .collect();
    let mut applied = transaction::apply(
        rootfs,
        &plan.changes,
        &items_by_path,
        run.applied_items.clone(),
        &codes,
        actions.clone(),
        transaction::RunAbout {
            daemon: facts.instance.key(),
            validation: plan.validation.clone(),
        },
    )?;
    // From here the run is whole or undone: no error, not even a lost line of output, may
    // leave it part way.
    for litter in &applied.litter {
        let _ = writeln!(
            console.err(),
            "note: could not remove a temporary file ({litter}); the next run that writes there removes it"
        );
    }
    let _ = writeln!(
        console.out(),
        "run {}: changed {} file(s); originals saved in {} (undo with `{} rollback {}`)",
        applied.run_id,
        plan.changes.len(),
        applied.run_dir.host().display(),
        host.invoked_as,
        applied.run_id
    );
    let finished = run
        .finish(console)
        // The services and their health check went through too: the run is whole.
        .and_then(|lost| transaction::commit(&mut applied).map(|()| lost));
    match finished {
        Ok(lost) if lost.is_empty() => Ok(Some(applied.run_id)),
        // The configuration is in effect and healthy; undoing it would restart docker again,
        // the very thing that cost these containers.
        Ok(lost) => Err(Error::ContainersLost {
            run: applied.run_id,
            lost: lost.join("\n  "),
        }),
        Err(cause) if host.live => Err(run.roll_back_automatically(console, &mut applied, cause)),
        Err(cause) => Err(undo_files(rootfs, &mut applied, cause)),
    }
}

/// A plan being applied: what its services need to know.
struct Run<'a> {
    host: &'a Host<'a>,
    /// Gathered before the files changed.
    facts: &'a Facts,
    actions: &'a [ServiceAction],
    applied_items: Vec<String>,
    /// daemon.json as dockerd read it before the run.
    before: serde_json::Map<String, serde_json::Value>,
    /// daemon.json as the plan leaves it.
    after: serde_json::Map<String, serde_json::Value>,
    health_timeout: u64,
    touched: DockerTouched,
}

impl Run<'_> {
    /// After the files: on the live host, the service actions with their health checks
    /// (returns the containers a restart cost); under --root, what to do when the root boots.
    fn finish(&self, console: &mut dyn Console) -> Result<Vec<String>> {
        let host = self.host;
        if !host.live {
            let _ = console.services_deferred(self.actions);
            return Ok(Vec::new());
        }
        // The files as written decide which audit watches the kernel still lacks.
        let written = host.gather(&self.facts.instance)?;
        let audit = AuditSync {
            load: watches_to_load(host.playbook, &written, &self.applied_items),
            unload: Vec::new(),
        };
        let request = ServiceRequest {
            actions: self.actions,
            health_timeout: self.health_timeout,
            audit,
            recovering: false,
            before: &self.before,
            after: &self.after,
            touched: &self.touched,
            expected_to_stop: &[],
        };
        let outcome = run_services(host, self.facts, request)?;
        for line in &outcome.log {
            let _ = writeln!(console.out(), "{line}");
        }
        Ok(outcome.lost)
    }

    /// dockerd did not come back (or its prerequisites failed): restore this run's files, redo
    /// the services with the old configuration, and report with dockerd's own last words.
    fn roll_back_automatically(
        &self,
        console: &mut dyn Console,
        applied: &mut Applied,
        cause: Error,
    ) -> Error {
        let (host, facts) = (self.host, self.facts);
        let _ = writeln!(
            console.err(),
            "docker-harden: {cause}\ndocker-harden: restoring the previous configuration (run {})",
            applied.run_id
        );
        let rootfs = host.rootfs;
        applied.manifest.rollback_reason = Some(format!("automatic: {cause}"));
        let restored = transaction::plan_rollback(rootfs, &applied.run_dir, &applied.manifest)
            .and_then(|reversals| {
                transaction::apply_rollback(
                    rootfs,
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
                journal: health::journal_tail(host.runner),
            };
        }
        let journal = health::journal_tail(host.runner);
        let unload = host
            .gather(&facts.instance)
            .map(|after| watches_to_unload(&after, &applied.run_dir, &applied.manifest))
            .unwrap_or_default();
        // Docker is put back only as far as it was touched: a dockerd that never read the new
        // configuration is left alone (a restart now would only stop its containers).
        let mut redo: Vec<ServiceAction> = self
            .actions
            .iter()
            .copied()
            .filter(|a| {
                !matches!(
                    a,
                    ServiceAction::ReloadDocker | ServiceAction::RestartDocker
                )
            })
            .collect();
        // What dockerd may have read by now is the run's daemon.json; the files are back as
        // they were planned from.
        let (written, restored) = (&self.after, &self.before);
        if self.touched.restarted.get() {
            redo.push(ServiceAction::RestartDocker);
        } else if self.touched.reloaded.get() {
            // A reload applies the reloadable keys at most: where the running daemon already
            // shows the old configuration's values, a reload of it is all; else a restart,
            // which keeps the containers, since what came on is live restore.
            let set_by_flag = |key: &str| !facts.daemon.flags_for_key(key).is_empty();
            let expected = Expected::for_change(written, restored, &set_by_flag);
            let socket = facts.instance.api_address(&facts.daemon.api_socket);
            match host.engine.info(&socket) {
                Ok(info) if expected.mismatches(&info).is_empty() => {
                    redo.push(ServiceAction::ReloadDocker)
                }
                _ => redo.push(ServiceAction::RestartDocker),
            }
        }
        let restarted = match run_services(
            host,
            facts,
            ServiceRequest {
                actions: &redo,
                health_timeout: self.health_timeout,
                audit: AuditSync {
                    load: Vec::new(),
                    unload,
                },
                recovering: true,
                before: written,
                after: restored,
                touched: &DockerTouched::default(),
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
            Err(e) => {
                format!("the services did NOT come back with the old configuration either: {e}")
            }
        };
        Error::RolledBack {
            cause: cause.to_string(),
            run: applied.run_id.clone(),
            restarted,
            journal,
        }
    }
}

/// A run that failed after its files were written, under --root (no service was touched):
/// its files go back, and the error says whether they all did.
fn undo_files(rootfs: &RootFs, applied: &mut Applied, cause: Error) -> Error {
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
