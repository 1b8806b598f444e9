//! State `rolled_back`: undo a fix run from its backups. Without `run_id` it is the latest run,
//! and a latest run already rolled back leaves nothing to do, so the task is idempotent (the
//! CLI's `rollback` would go on to the run before it).

use crate::commands::Env;
use crate::error::{Error, Result};
use crate::facts::Facts;
use crate::records::{self, RunStatus};
use crate::run::{self, RollbackPlan};
use crate::transaction::{Manifest, SavedRun};

use super::args::ModuleArgs;
use super::diff;
use super::harden::unattended_options;
use super::result::ModuleResult;

pub fn run(env: &mut Env<'_>, args: &ModuleArgs) -> Result<ModuleResult> {
    let rootfs = env.settings.rootfs.clone();
    let runs: Vec<SavedRun> = records::list_runs(&rootfs)?;
    let target = match &args.run_id {
        Some(id) => runs.iter().find(|r| r.run_id == *id).ok_or_else(|| {
            Error::Usage(format!("no saved run {id} under {}", records::BACKUPS_DIR))
        })?,
        // A damaged record does not block the runs before it.
        None => match runs.iter().rev().find(|r| r.record.is_ok()) {
            Some(latest) => latest,
            None => {
                return Ok(ModuleResult {
                    msg: "no saved run to roll back".into(),
                    ..ModuleResult::default()
                });
            }
        },
    };
    let run_id = target.run_id.clone();
    let status = match &target.record {
        Ok(manifest) => manifest.status,
        Err(reason) => {
            return Err(Error::Rollback {
                run: run_id,
                reason: reason.to_string(),
            });
        }
    };
    if status == RunStatus::RolledBack {
        return Ok(ModuleResult {
            msg: format!("run {run_id} is already rolled back"),
            run_id: Some(run_id),
            ..ModuleResult::default()
        });
    }

    // Runs exist, so the state directory does: the lock adds only its own file there.
    let _lock = (!args.check_mode)
        .then(|| records::lock(&rootfs))
        .transpose()?;
    let (run_dir, manifest): (_, Manifest) = records::find_run(&rootfs, Some(&run_id))?;
    let mut plan = RollbackPlan::new(&rootfs, run_dir, manifest)?;
    let reversals = &plan.reversals;
    let drifted: Vec<String> = reversals
        .iter()
        .filter_map(|r| {
            r.drift
                .as_ref()
                .map(|d| format!("{}: {d}", r.record.path.display()))
        })
        .collect();
    let mut warnings = Vec::new();
    if !drifted.is_empty() {
        if !args.force {
            return Err(Error::Rollback {
                run: run_id,
                reason: format!(
                    "{} file(s) changed after the run ({}); set `force: true` to restore them anyway",
                    drifted.len(),
                    drifted.join("; ")
                ),
            });
        }
        warnings.push(format!(
            "restored over changes made after run {run_id}: {}",
            drifted.join("; ")
        ));
    }
    warnings.extend(reversals.iter().filter_map(|r| {
        r.note
            .as_ref()
            .map(|n| format!("{}: {n}", r.record.path.display()))
    }));
    let diff = if args.diff {
        let names = Facts::names_only(&rootfs)?;
        Some(diff::entries(&plan.changes_back(), &names))
    } else {
        None
    };
    let restored = reversals.len();
    let msg = if args.check_mode {
        format!(
            "would roll back run {run_id}, restoring {restored} file(s) (check mode: nothing written)"
        )
    } else {
        let options = unattended_options(env, args);
        run::roll_back(&env.host(), env, &mut plan, options)?;
        format!("rolled back run {run_id}: restored {restored} file(s)")
    };
    Ok(ModuleResult {
        changed: true,
        msg,
        run_id: Some(run_id),
        diff,
        warnings,
        ..ModuleResult::default()
    })
}
