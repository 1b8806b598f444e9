//! The interactive walk through the warnings: each item, why it matters, its diff, and a
//! prompt. Answers follow `git add -p`: quitting keeps the fixes accepted so far.

use std::collections::BTreeSet;

use dialoguer::Select;
use dialoguer::console::Term;

use crate::assess::{self, Finding, Selection};
use crate::commands::Env;
use crate::error::{Error, Result};
use crate::facts::Facts;
use crate::render;

const CHOICES: &[&str] = &["yes", "no", "show details", "all remaining", "quit"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Yes,
    No,
    Details,
    All,
    Quit,
}

fn ask(prompt: &str) -> Result<Answer> {
    let choice = Select::new()
        .with_prompt(prompt)
        .items(CHOICES)
        .default(0)
        .interact_on_opt(&Term::stderr())
        .map_err(|e| Error::Prompt(e.to_string()))?;
    Ok(match choice {
        Some(0) => Answer::Yes,
        Some(1) => Answer::No,
        Some(2) => Answer::Details,
        Some(3) => Answer::All,
        _ => Answer::Quit,
    })
}

/// Returns the items the user accepted.
pub(crate) fn choose(
    env: &mut Env<'_>,
    facts: &Facts,
    findings: &[Finding],
    candidates: &BTreeSet<String>,
    selection: &Selection,
) -> Result<BTreeSet<String>> {
    let playbook = env.settings.playbook.clone();
    let paint = env.settings.paint;
    let items: Vec<_> = playbook
        .items
        .iter()
        .filter(|i| candidates.contains(&i.id))
        .collect();
    let mut accepted = BTreeSet::new();
    let mut all_remaining = false;
    for (n, item) in items.iter().enumerate() {
        // The diff this item adds on top of what is accepted so far.
        let mut trial = accepted.clone();
        trial.insert(item.id.clone());
        let plan = assess::plan(&playbook, facts, &trial, selection)?;
        let Some(part) = plan.items.iter().find(|p| p.id == item.id) else {
            continue;
        };
        if let Some(reason) = &part.blocked {
            writeln!(
                env.out,
                "== {} {}: not fixed automatically: {reason}\n",
                item.id, item.title
            )?;
            continue;
        }
        if part.is_empty() {
            continue;
        }
        if all_remaining && item.disruptive.is_none() {
            writeln!(
                env.out,
                "== {} {}: accepted (all remaining)",
                item.id, item.title
            )?;
            accepted.insert(item.id.clone());
            continue;
        }
        writeln!(
            env.out,
            "{}",
            paint.bold(&format!(
                "[{}/{}] {} {}",
                n + 1,
                items.len(),
                item.id,
                item.title
            ))
        )?;
        writeln!(env.out, "why: {}", item.why)?;
        if let Some(consequence) = &item.disruptive {
            writeln!(
                env.out,
                "{} {consequence}",
                paint.status(crate::kinds::Status::Warn)
            )?;
        }
        render::item_plan(env.out, &playbook, part, facts, paint)?;
        if facts.live {
            let actions = crate::plan::collapse(&part.actions);
            let planned = crate::run::planned_json(facts, &part.changes);
            if let Some((n, why)) =
                crate::run::containers_stopped_by_restart(facts, &actions, &planned)
            {
                writeln!(
                    env.out,
                    "restarting docker stops {n} running container(s): {why} (you are asked again before anything is written)"
                )?;
            }
        }
        env.out.flush()?;
        loop {
            let prompt = if item.disruptive.is_some() {
                "Apply this disruptive fix?"
            } else {
                "Apply this fix?"
            };
            match ask(prompt)? {
                Answer::Yes => {
                    accepted.insert(item.id.clone());
                    break;
                }
                Answer::No => break,
                Answer::All => {
                    accepted.insert(item.id.clone());
                    all_remaining = true;
                    break;
                }
                Answer::Quit => return Ok(accepted),
                Answer::Details => {
                    let finding = findings.iter().find(|f| f.id == item.id);
                    writeln!(env.out, "details for {}:", item.id)?;
                    if let Some(legacy) = &item.legacy_id {
                        writeln!(env.out, "  legacy ID: {legacy}")?;
                    }
                    for e in finding.map(|f| f.evidence.as_slice()).unwrap_or_default() {
                        writeln!(env.out, "  found: {e}")?;
                    }
                    for c in &part.changes {
                        writeln!(env.out, "  file: {}", c.path.display())?;
                    }
                    for a in &part.actions {
                        writeln!(env.out, "  then: {}", a.describe())?;
                    }
                    env.out.flush()?;
                }
            }
        }
    }
    Ok(accepted)
}
