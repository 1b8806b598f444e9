//! `diff`: the dry run. Shows what `fix --yes` would change and writes nothing.

use std::collections::BTreeSet;

use crate::assess::Selection;
use crate::commands::args::DiffArgs;
use crate::error::{EXIT_CLEAN, EXIT_FINDINGS, Result};
use crate::facts::Facts;
use crate::plan::{self, Plan};
use crate::render;
use crate::run::{self, Console};

use super::Env;

/// Plans `ids` as `run::plan_safe` does, and reports the items pre-flight refuses.
pub fn safe_plan(
    env: &mut Env<'_>,
    facts: &Facts,
    selection: &Selection,
    ids: BTreeSet<String>,
    skip_preflight: bool,
) -> Result<(Plan, BTreeSet<String>)> {
    let safe = run::plan_safe(
        &env.settings.playbook,
        facts,
        selection,
        ids,
        skip_preflight,
        env.runner,
    )?;
    print_refused(env, &safe.refused)?;
    Ok((safe.plan, safe.ids))
}

pub fn print_refused(env: &mut Env<'_>, refused: &[(String, String)]) -> Result<()> {
    for (id, reason) in refused {
        let title = env
            .settings
            .playbook
            .item(id)
            .map(|i| i.title.as_str())
            .unwrap_or("");
        writeln!(
            env.out,
            "== {id} {title}: refused by pre-flight: {reason}\n"
        )?;
    }
    Ok(())
}

pub fn print_plan(env: &mut Env<'_>, plan: &Plan, facts: &Facts) -> Result<()> {
    for item in &plan.items {
        if item.is_empty() && item.blocked.is_none() {
            continue;
        }
        render::item_plan(
            env.out,
            &env.settings.playbook,
            item,
            facts,
            env.settings.paint,
        )?;
    }
    if let Some(how) = &plan.validation {
        writeln!(env.out, "pre-flight: {how}\n")?;
    }
    Ok(())
}

pub fn print_held(env: &mut Env<'_>, held: &[String]) -> Result<()> {
    for id in held {
        if let Some(item) = env.settings.playbook.item(id) {
            writeln!(
                env.out,
                "== {id} {} (disruptive: not applied by --yes unless named with --only {id} or enabled in the playbook)\n{}\n",
                item.title,
                item.disruptive.as_deref().unwrap_or("")
            )?;
        }
    }
    Ok(())
}

pub fn services_note(env: &mut Env<'_>, plan: &Plan) -> Result<()> {
    let actions = plan::collapse(&plan.actions);
    if actions.is_empty() {
        return Ok(());
    }
    if env.settings.live {
        writeln!(env.out, "services: {}", render::actions_line(&actions))?;
        Ok(())
    } else {
        env.services_deferred(&actions)
    }
}

pub fn run(env: &mut Env<'_>, args: &DiffArgs) -> Result<i32> {
    env.local_engine_only("diff")?;
    let selection = env.selection(&args.selectors)?;
    env.refuse_interrupted("diff")?;
    let daemon = env.daemon()?;
    let facts = env.gather(&daemon)?;
    let findings = env.evaluate(&facts, &selection);
    env.header("diff (dry run, nothing is written)")?;
    let (ids, held) = run::hold_disruptive(
        &env.settings.playbook,
        &run::candidates(&findings),
        &args.selectors.only,
    );
    let (plan, _) = safe_plan(env, &facts, &selection, ids, false)?;
    print_plan(env, &plan, &facts)?;
    print_held(env, &held)?;
    services_note(env, &plan)?;
    if plan.is_empty() {
        writeln!(env.out, "nothing to change")?;
        return Ok(EXIT_CLEAN);
    }
    writeln!(
        env.out,
        "{} file(s) would change; run `{} fix` to apply",
        plan.changes.len(),
        env.settings.invoked_as
    )?;
    Ok(EXIT_FINDINGS)
}
