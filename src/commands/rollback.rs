//! `rollback`: list saved runs, or restore one run's files byte for byte and redo its service
//! actions.

use crate::error::{EXIT_CLEAN, Error, Result};
use crate::facts::Facts;
use crate::plan::{FileChange, PlannedFile};
use crate::render;
use crate::services::AuditSync;
use crate::settings::RollbackArgs;
use crate::transaction::{self, Manifest, Reversal, RunDir};

use super::Env;

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
    restore(
        env,
        &run_dir,
        &mut manifest,
        &reversals,
        args.health_timeout,
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
/// run rolled back, and redoes its service actions on the live host.
pub fn restore(
    env: &mut Env<'_>,
    run_dir: &RunDir,
    manifest: &mut Manifest,
    reversals: &[Reversal],
    health_timeout: u64,
) -> Result<()> {
    let rootfs = env.settings.rootfs.clone();
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
        // Facts of the restored host tell the services what to expect.
        let daemon = crate::daemons::discover(&env.settings.rootfs, true)?
            .into_iter()
            .find(|d| d.key() == manifest.daemon)
            .ok_or_else(|| {
                crate::error::Error::Selector(format!(
                    "run {} fixed {}, which is no longer on this host; its files are restored, but no service was restarted",
                    manifest.run_id, manifest.daemon
                ))
            })?;
        let facts = env.gather(&daemon)?;
        let audit = AuditSync {
            load: Vec::new(),
            unload: super::apply::watches_to_unload(&facts, run_dir, manifest),
        };
        for line in super::apply::run_services(
            env,
            &facts,
            &manifest.services,
            health_timeout,
            audit,
            true,
        )? {
            writeln!(env.out, "{line}")?;
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
