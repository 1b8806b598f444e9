//! `diff`: the dry run. Shows what `fix --yes` would change and writes nothing.

use std::collections::BTreeSet;

use crate::assess::{self, Finding, Selection};
use crate::commands::args::DiffArgs;
use crate::error::{EXIT_CLEAN, EXIT_FINDINGS, Result};
use crate::facts::Facts;
use crate::kinds::Status;
use crate::plan::{self, Plan};
use crate::playbook::Playbook;
use crate::preflight;
use crate::render;

use super::Env;

/// The WARN items `fix` would consider: selected, fixable, not waived.
pub fn candidates(findings: &[Finding]) -> BTreeSet<String> {
    findings
        .iter()
        .filter(|f| f.status == Status::Warn && f.fixable)
        .map(|f| f.id.clone())
        .collect()
}

/// Splits off disruptive items that `--yes` must not apply unless asked for by name.
pub fn unattended_ids(
    env: &Env<'_>,
    ids: &BTreeSet<String>,
    only: &[String],
) -> (BTreeSet<String>, Vec<String>) {
    let playbook = &env.settings.playbook;
    let mut apply = BTreeSet::new();
    let mut held = Vec::new();
    for id in ids {
        let disruptive = playbook.item(id).is_some_and(|i| i.disruptive.is_some());
        let named = only.iter().any(|t| t.split(',').any(|p| p.trim() == id))
            || playbook.enabled.contains(id);
        if disruptive && !named {
            held.push(id.clone());
        } else {
            apply.insert(id.clone());
        }
    }
    (apply, held)
}

/// Plans `ids`, dropping (and reporting) the items pre-flight refuses, until the plan is safe.
pub fn safe_plan(
    env: &mut Env<'_>,
    facts: &Facts,
    selection: &Selection,
    ids: BTreeSet<String>,
    skip_preflight: bool,
) -> Result<(Plan, BTreeSet<String>)> {
    let safe = plan_refusing(
        &env.settings.playbook,
        facts,
        selection,
        ids,
        skip_preflight,
    )?;
    for (id, reason) in &safe.refused {
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
    Ok((safe.plan, safe.ids))
}

/// A plan pre-flight accepts.
pub struct SafePlan {
    pub plan: Plan,
    /// The items planned.
    pub ids: BTreeSet<String>,
    /// Each item pre-flight refused, with the reason, in the order they were refused.
    pub refused: Vec<(String, String)>,
}

/// Plans `ids`, dropping the items pre-flight refuses until the plan is safe.
pub fn plan_refusing(
    playbook: &Playbook,
    facts: &Facts,
    selection: &Selection,
    mut ids: BTreeSet<String>,
    skip_preflight: bool,
) -> Result<SafePlan> {
    let mut refused_all = Vec::new();
    loop {
        let plan = assess::plan(playbook, facts, &ids, selection)?;
        let refused = match skip_preflight {
            true => Default::default(),
            false => preflight::check(facts, &plan).refused,
        };
        if refused.is_empty() {
            return Ok(SafePlan {
                plan,
                ids,
                refused: refused_all,
            });
        }
        for (id, reason) in refused {
            ids.remove(&id);
            refused_all.push((id, reason));
        }
    }
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
    } else {
        writeln!(
            env.out,
            "services: none touched under --root; when this root boots: {}",
            render::actions_line(&actions)
        )?;
    }
    Ok(())
}

pub fn run(env: &mut Env<'_>, args: &DiffArgs) -> Result<i32> {
    env.local_engine_only("diff")?;
    let selection = env.selection(&args.selectors)?;
    env.refuse_interrupted("diff")?;
    let daemon = env.daemon()?;
    let facts = env.gather(&daemon)?;
    let findings = env.evaluate(&facts, &selection);
    env.header("diff (dry run, nothing is written)")?;
    let (ids, held) = unattended_ids(env, &candidates(&findings), &args.selectors.only);
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
