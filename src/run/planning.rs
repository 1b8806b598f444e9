//! Planning a run: which items, their fixers onto one plan, and what pre-flight refuses.

use std::collections::BTreeSet;

use crate::assess::{self, Finding, Selection};
use crate::error::Result;
use crate::facts::Facts;
use crate::kinds::Status;
use crate::plan::Plan;
use crate::playbook::Playbook;
use crate::preflight;
use crate::runner::Runner;

use super::engine_validation::{self, Judgement};

/// The WARN items `fix` would consider: selected, fixable, not waived.
pub(crate) fn candidates(findings: &[Finding]) -> BTreeSet<String> {
    findings
        .iter()
        .filter(|f| f.status == Status::Warn && f.fixable)
        .map(|f| f.id.clone())
        .collect()
}

/// Splits off the disruptive items an unattended run must not apply unless they are asked
/// for by name (`only`) or enabled in the playbook: returns the items to plan and those held.
pub(crate) fn hold_disruptive(
    playbook: &Playbook,
    ids: &BTreeSet<String>,
    only: &[String],
) -> (BTreeSet<String>, Vec<String>) {
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

/// A plan pre-flight accepts.
pub(crate) struct SafePlan {
    pub(crate) plan: Plan,
    /// The items planned.
    pub(crate) ids: BTreeSet<String>,
    /// Each item pre-flight refused, with the reason, in the order they were refused.
    pub(crate) refused: Vec<(String, String)>,
}

/// Plans `ids`, dropping the items pre-flight refuses until the plan is safe. Pre-flight's
/// own checks come first; a plan they pass goes to the engine's judgement
/// ([`engine_validation::judge`]), and the items that change daemon.json are refused with
/// dockerd's words when it refuses the planned file.
pub(crate) fn plan_safe(
    playbook: &Playbook,
    facts: &Facts,
    selection: &Selection,
    mut ids: BTreeSet<String>,
    skip_preflight: bool,
    runner: &dyn Runner,
) -> Result<SafePlan> {
    let mut refused_all = Vec::new();
    loop {
        let mut plan = assess::plan(playbook, facts, &ids, selection)?;
        let mut refused = match skip_preflight {
            true => Default::default(),
            false => preflight::check(facts, &plan).refused,
        };
        if refused.is_empty() && !skip_preflight {
            match engine_validation::judge(facts, &plan, runner) {
                Judgement::Unchanged => {}
                Judgement::Accepted(how) => plan.validation = Some(how),
                Judgement::Refused(why) => {
                    let config = &facts.daemon.config_file_resolved;
                    // The items that change what daemon.json says (not merely its mode).
                    for item in plan.items.iter().filter(|i| {
                        i.changes
                            .iter()
                            .any(|c| &c.path == config && c.content_changed())
                    }) {
                        refused.insert(item.id.clone(), why.clone());
                    }
                }
            }
        }
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

/// An unattended run's plan (`fix --yes`, the module's `fixed`).
pub(crate) struct Unattended {
    /// What pre-flight refused of every candidate.
    pub(crate) refused: Vec<(String, String)>,
    /// The disruptive items held back of those it accepted.
    pub(crate) held: Vec<String>,
    /// The plan of the rest, with anything pre-flight refuses of it in turn.
    pub(crate) safe: SafePlan,
}

/// Plans an unattended run: the candidates pre-flight accepts, less the disruptive items not
/// asked for, planned again.
pub(crate) fn plan_unattended(
    playbook: &Playbook,
    facts: &Facts,
    selection: &Selection,
    candidates: BTreeSet<String>,
    only: &[String],
    skip_preflight: bool,
    runner: &dyn Runner,
) -> Result<Unattended> {
    let first = plan_safe(
        playbook,
        facts,
        selection,
        candidates,
        skip_preflight,
        runner,
    )?;
    let (chosen, held) = hold_disruptive(playbook, &first.ids, only);
    let safe = plan_safe(playbook, facts, selection, chosen, skip_preflight, runner)?;
    Ok(Unattended {
        refused: first.refused,
        held,
        safe,
    })
}

/// The items a plan changes something for, in the plan's order.
pub(crate) fn changed_items(plan: &Plan) -> Vec<String> {
    plan.items
        .iter()
        .filter(|i| !i.is_empty())
        .map(|i| i.id.clone())
        .collect()
}
