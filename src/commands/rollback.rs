//! `rollback`: list saved runs, or restore one run's files byte for byte and redo its service
//! actions.

use std::io::IsTerminal;

use crate::commands::args::RollbackArgs;
use crate::error::{EXIT_CLEAN, Error, Result};
use crate::facts::Facts;
use crate::plan::{FileChange, PlannedFile, ServiceAction};
use crate::records;
use crate::render;
use crate::run::{self, RestartConsent, RollbackPlan};
use crate::transaction::{Manifest, SavedRun};

use super::Env;

pub fn run(env: &mut Env<'_>, args: &RollbackArgs) -> Result<i32> {
    let rootfs = env.settings.rootfs.clone();
    if args.list {
        list(env, &records::list_runs(&rootfs)?)?;
        return Ok(EXIT_CLEAN);
    }
    // After --list, which only reads docker-harden's own records.
    env.local_engine_only("rollback")?;
    let _lock = records::lock(&rootfs)?;
    let (run_dir, manifest): (_, Manifest) = records::find_run(&rootfs, args.run_id.as_deref())?;
    if manifest.status == records::RunStatus::RolledBack {
        return Err(Error::Rollback {
            run: manifest.run_id.clone(),
            reason: "it was already rolled back".into(),
        });
    }
    if args.run_id.is_none() {
        for damaged in records::list_runs::<ServiceAction>(&rootfs)?
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
    if manifest.status == records::RunStatus::Applying {
        writeln!(
            env.out,
            "run {} was interrupted while applying: completing its rollback (a file still as it was before needs nothing)",
            manifest.run_id
        )?;
    }
    let mut plan = RollbackPlan::new(&rootfs, run_dir, manifest)?;
    let RollbackPlan {
        run_dir,
        manifest,
        reversals,
    } = &plan;
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
            let written = records::written_copy(run_dir, &r.record);
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
    let options = run::Options {
        health_timeout: args.health_timeout,
        consent,
    };
    run::roll_back(&env.host(), env, &mut plan, options)?;
    Ok(EXIT_CLEAN)
}

/// `rollback --list`: every saved run, a damaged one with the reason.
fn list(env: &mut Env<'_>, runs: &[SavedRun]) -> Result<()> {
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
