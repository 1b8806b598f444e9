//! `fix`: apply the selected fixes, interactively or with --yes, as one transaction; then act
//! on services with health checks, roll back by itself if dockerd does not come back, and
//! check again.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::Path;

pub use super::apply::RestartConsent;
use crate::assess::Finding;
use crate::commands::args::FixArgs;
use crate::error::{EXIT_CLEAN, EXIT_FINDINGS, Error, Result};
use crate::facts::Facts;
use crate::interactive;
use crate::kinds::Status;
use crate::plan::{self, Plan};
use crate::services::{AuditSync, DockerTouched};
use crate::transaction;

use super::Env;
use super::apply;
use super::diff::{candidates, print_held, print_plan, safe_plan, services_note, unattended_ids};

pub fn run(env: &mut Env<'_>, args: &FixArgs) -> Result<i32> {
    env.local_engine_only("fix")?;
    let selection = env.selection(&args.selectors)?;
    let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !(args.yes || terminal) {
        return Err(Error::NoTerminal);
    }
    env.refuse_interrupted("fix")?;
    let daemon = env.daemon()?;
    let facts = env.gather(&daemon)?;
    let findings = env.evaluate(&facts, &selection);
    env.header("fix")?;
    let (_, safe) = safe_plan(
        env,
        &facts,
        &selection,
        candidates(&findings),
        args.skip_preflight,
    )?;
    let chosen: BTreeSet<String> = if args.yes {
        let (ids, held) = unattended_ids(env, &safe, &args.selectors.only);
        print_held(env, &held)?;
        ids
    } else {
        interactive::choose(env, &facts, &findings, &safe, &selection)?
    };
    let (plan, _) = safe_plan(env, &facts, &selection, chosen, args.skip_preflight)?;
    if args.yes {
        // Unattended runs still show every change they make.
        print_plan(env, &plan, &facts)?;
    }
    if plan.is_empty() {
        writeln!(env.out, "nothing to change")?;
        return Ok(exit_code(&findings));
    }

    let consent = match args.yes {
        true => RestartConsent::unattended(
            args.allow_container_restart || env.settings.playbook.variables.allow_container_restart,
        ),
        false if args.allow_container_restart => RestartConsent::Allowed,
        false => RestartConsent::Ask,
    };
    apply_plan(env, &facts, &plan, args.health_timeout, consent)?;

    // Judge again from fresh facts, and say what changed.
    let after_facts = env.gather(&daemon)?;
    let after = env.evaluate(&after_facts, &selection);
    writeln!(env.out)?;
    for (b, a) in findings.iter().zip(after.iter()) {
        if b.status != a.status {
            writeln!(
                env.out,
                "{} {}: {} -> {}",
                a.id,
                a.title,
                b.status.label(),
                a.status.label()
            )?;
        }
    }
    let still: Vec<&str> = after
        .iter()
        .filter(|f| f.status == Status::Warn)
        .map(|f| f.id.as_str())
        .collect();
    if still.is_empty() {
        writeln!(env.out, "every selected item passes or needs no action")?;
    } else {
        writeln!(env.out, "still WARN: {}", still.join(", "))?;
    }
    Ok(exit_code(&after))
}

/// Applies a non-empty plan as one transaction under the lock: writes the files (saving the
/// originals), then on the live host acts on the services with health checks and rolls back by
/// itself when dockerd does not come back. Says what it did on `env.out`; returns the run ID
/// when files were written (a plan of service actions alone writes no run).
pub fn apply_plan(
    env: &mut Env<'_>,
    facts: &Facts,
    plan: &Plan,
    health_timeout: u64,
    consent: RestartConsent,
) -> Result<Option<String>> {
    let settings = env.settings;
    let rootfs = &settings.rootfs;
    let _lock = transaction::lock(rootfs)?;
    // Under the lock, any run still `applying` was interrupted: never stack a run on it,
    // unless it changed nothing.
    if let Some(run) = transaction::interrupted_run(rootfs)? {
        if !transaction::changed_nothing(rootfs, &run)? {
            return Err(Error::Interrupted {
                run,
                command: settings.invoked_as.into(),
                next: "fix".into(),
            });
        }
        transaction::close_untouched(rootfs, &run)?;
        writeln!(
            env.err,
            "note: run {run} was interrupted before it changed any file; recorded as rolled back"
        )?;
    }
    let actions = plan::collapse(&plan.actions);
    if settings.live
        && let Some((count, why)) = apply::containers_stopped_by_restart(
            facts,
            &actions,
            &apply::planned_json(facts, &plan.changes),
        )
    {
        apply::consent_to_stop(env, facts, count, why, consent)?;
    }
    let applied_items: Vec<String> = plan
        .items
        .iter()
        .filter(|i| !i.is_empty())
        .map(|i| i.id.clone())
        .collect();
    let touched = DockerTouched::default();
    if plan.changes.is_empty() {
        // Service actions alone write no run.
        let lost = finish(
            env,
            facts,
            plan,
            &actions,
            &applied_items,
            health_timeout,
            &touched,
        )?;
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
    let mut applied = transaction::apply(
        rootfs,
        &plan.changes,
        &items_by_path,
        applied_items.clone(),
        actions.clone(),
        facts.instance.key(),
    )?;
    // From here the run is whole or undone: no error, not even a lost line of output, may
    // leave it part way.
    for litter in &applied.litter {
        let _ = writeln!(
            env.err,
            "note: could not remove a temporary file ({litter}); the next run that writes there removes it"
        );
    }
    let _ = writeln!(
        env.out,
        "run {}: changed {} file(s); originals saved in {} (undo with `{} rollback {}`)",
        applied.run_id,
        plan.changes.len(),
        applied.run_dir.host().display(),
        settings.invoked_as,
        applied.run_id
    );
    let finished = finish(
        env,
        facts,
        plan,
        &actions,
        &applied_items,
        health_timeout,
        &touched,
    )
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
        Err(cause) if settings.live => Err(apply::roll_back_automatically(
            env,
            facts,
            &mut applied,
            &actions,
            &touched,
            health_timeout,
            cause,
        )),
        Err(cause) => Err(apply::undo_files(rootfs, &mut applied, cause)),
    }
}

/// After the files: on the live host, the service actions with their health checks (returns
/// the containers a restart cost); under --root, what to do when the root boots.
fn finish(
    env: &mut Env<'_>,
    facts: &Facts,
    plan: &Plan,
    actions: &[crate::plan::ServiceAction],
    applied_items: &[String],
    health_timeout: u64,
    touched: &DockerTouched,
) -> Result<Vec<String>> {
    let settings = env.settings;
    if !settings.live {
        let _ = services_note(env, plan);
        return Ok(Vec::new());
    }
    // The files as written decide which audit watches the kernel still lacks.
    let written = env.gather(&facts.instance)?;
    let audit = AuditSync {
        load: apply::watches_to_load(&settings.playbook, &written, applied_items),
        unload: Vec::new(),
    };
    let before = apply::planned_json(facts, &[]);
    let request = apply::ServiceRequest {
        actions,
        health_timeout,
        audit,
        recovering: false,
        before: &before,
        touched,
        expected_to_stop: &[],
    };
    let outcome = apply::run_services(env, facts, request)?;
    for line in &outcome.log {
        let _ = writeln!(env.out, "{line}");
    }
    Ok(outcome.lost)
}

fn exit_code(findings: &[Finding]) -> i32 {
    if findings.iter().any(|f| f.status == Status::Warn) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}
