//! States `checked` and `fixed`: judge every selected item; for `fixed`, plan the fixes as
//! `fix --yes` does (pre-flight, disruptive items held back) and apply them as one run, or in
//! check mode only report what would change.

use std::collections::BTreeSet;

use crate::assess::Finding;
use crate::commands::Env;
use crate::commands::args::Selectors;
use crate::error::Result;
use crate::run::{self, RestartConsent};

use super::args::{ModuleArgs, State};
use super::diff;
use super::result::{self, ModuleResult, Summary};

pub fn run(env: &mut Env<'_>, args: &ModuleArgs) -> Result<ModuleResult> {
    let selection = env.selection(&Selectors {
        only: args.only.clone(),
        skip: args.skip.clone(),
    })?;
    let daemon = env.daemon()?;
    let facts = env.gather(&daemon)?;
    let before = env.evaluate(&facts, &selection);
    let unchanged = |msg: String, warnings: Vec<String>| {
        let (results, summary) =
            result::items(&before, &before, &BTreeSet::new(), args.include_passing);
        ModuleResult {
            msg: format!("{msg}{}", counts(&summary)),
            results,
            summary: Some(summary),
            warnings,
            ..ModuleResult::default()
        }
    };
    if args.state == State::Checked {
        return Ok(unchanged(String::new(), Vec::new()));
    }

    let playbook = &env.settings.playbook;
    let mut warnings = Vec::new();
    let run::Unattended {
        refused,
        held,
        safe,
    } = run::plan_unattended(
        playbook,
        &facts,
        &selection,
        run::candidates(&before),
        &args.only,
        false,
        env.runner,
    )?;
    let plan = safe.plan;
    for (id, reason) in refused.iter().chain(&safe.refused) {
        warnings.push(format!(
            "{id} {}: refused by pre-flight: {reason}",
            title(env, id)
        ));
    }
    for id in &held {
        warnings.push(format!(
            "{id} {}: disruptive, so not applied unless named in `only` or enabled in the playbook: {}",
            title(env, id),
            playbook
                .item(id)
                .and_then(|i| i.disruptive.as_deref())
                .unwrap_or("")
        ));
    }
    if plan.is_empty() {
        return Ok(unchanged("nothing to change; ".into(), warnings));
    }

    let changed: BTreeSet<String> = run::changed_items(&plan).into_iter().collect();
    let diff = args.diff.then(|| diff::entries(&plan.changes, &facts));
    let fixed = |after: &[Finding], msg: String, run_id: Option<String>| {
        let (results, summary) = result::items(&before, after, &changed, args.include_passing);
        ModuleResult {
            changed: true,
            msg: format!("{msg}{}", counts(&summary)),
            results,
            summary: Some(summary),
            run_id,
            diff: diff.clone(),
            warnings: warnings.clone(),
            ..ModuleResult::default()
        }
    };
    if args.check_mode {
        let msg = format!(
            "would fix {} item(s), changing {} file(s) (check mode: nothing written); now ",
            changed.len(),
            plan.changes.len()
        );
        return Ok(fixed(&before, msg, None));
    }

    let options = unattended_options(env, args);
    let run_id = run::apply(&env.host(), env, &facts, &plan, options)?;
    let run = run_id
        .as_deref()
        .map(|id| format!(" in run {id}"))
        .unwrap_or_default();
    // Judge again from fresh facts: the statuses after the fix.
    let after = match env.gather(&daemon) {
        Ok(after_facts) => env.evaluate(&after_facts, &selection),
        Err(e) => {
            let mut result = fixed(&before, String::new(), run_id.clone());
            result.failed = true;
            result.msg = format!(
                "fixed {} item(s){run}, but judging again failed: {e}",
                changed.len()
            );
            return Ok(result);
        }
    };
    let msg = format!("fixed {} item(s){run}; ", changed.len());
    Ok(fixed(&after, msg, run_id))
}

/// How the module acts on services: unattended, so a restart that stops containers needs the
/// playbook's leave.
pub(super) fn unattended_options(env: &Env<'_>, args: &ModuleArgs) -> run::Options {
    run::Options {
        health_timeout: args.health_timeout,
        consent: RestartConsent::unattended(
            env.settings.playbook.variables.allow_container_restart,
        ),
    }
}

fn title<'a>(env: &'a Env<'_>, id: &str) -> &'a str {
    env.settings
        .playbook
        .item(id)
        .map(|i| i.title.as_str())
        .unwrap_or("")
}

/// As `check` sums up: "117 items: 80 PASS, 3 WARN, ...".
fn counts(summary: &Summary) -> String {
    let c = summary.counts;
    format!(
        "{} items: {} PASS, {} WARN, {} INFO, {} NOTE, {} WAIVED",
        summary.items, c.pass, c.warn, c.info, c.note, c.waived
    )
}
