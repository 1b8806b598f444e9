//! Runs the playbook's checks over the facts and plans the fixes: the pure core shared by
//! check, diff and fix.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::facts::Facts;
use crate::kinds::{self, Status, Verdict};
use crate::kinds::{Item, Kind, Rootless};
use crate::plan::{ItemPlan, Plan, Workspace};
use crate::playbook::Playbook;

/// Which items a command looks at: `--only` (all when empty) minus `--skip`.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub only: Option<BTreeSet<String>>,
    pub skip: BTreeSet<String>,
}

impl Selection {
    pub(crate) fn from_tokens(
        playbook: &Playbook,
        only: &[String],
        skip: &[String],
    ) -> Result<Selection> {
        // `--only ''` selects nothing, and a run over nothing would report a clean host.
        if !only.is_empty()
            && only
                .iter()
                .all(|t| t.split(',').all(|p| p.trim().is_empty()))
        {
            return Err(Error::Usage(
                "--only names no item: give item IDs (2.2), sections (1.1) or legacy IDs (1.5), comma-separated, or leave --only out to select every item".into(),
            ));
        }
        Ok(Selection {
            only: if only.is_empty() {
                None
            } else {
                Some(playbook.select(only)?)
            },
            skip: playbook.select(skip)?,
        })
    }

    pub(crate) fn includes(&self, id: &str) -> bool {
        self.only.as_ref().is_none_or(|o| o.contains(id)) && !self.skip.contains(id)
    }
}

/// One item's result, as every report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The daemon judged: `system` or `rootless:USER`.
    pub daemon: String,
    /// The ID in the chosen benchmark version.
    pub id: String,
    /// The item's code, the same under every benchmark version.
    pub code: String,
    pub legacy_id: Option<String>,
    pub title: String,
    pub status: Status,
    pub evidence: Vec<String>,
    /// What to change; `None` when the item passes (or is waived).
    pub remediation: Option<String>,
    /// docker-harden can change the host for this item.
    pub fixable: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pending_restart: bool,
}

pub(crate) fn evaluate(
    playbook: &Playbook,
    facts: &Facts,
    selection: &Selection,
    today: jiff::civil::Date,
    invoked_as: &str,
) -> Vec<Finding> {
    playbook
        .items
        .iter()
        .filter(|item| selection.includes(&item.id))
        .map(|item| {
            let verdict = match rootless_rule(item, facts) {
                Some(Rootless::NotApplicable(why)) => Verdict::new(
                    Status::NotApplicable,
                    vec![format!("does not apply to a rootless daemon: {why}")],
                ),
                Some(Rootless::ByDesign(how)) => {
                    Verdict::pass(format!("rootless by design: {how}"))
                }
                None => item.kind.check(facts),
            };
            let mut status = verdict.status;
            let mut evidence = verdict.evidence;
            if status == Status::Warn
                && let Some(waiver) = playbook.waivers.get(&item.id)
            {
                if today <= waiver.expires {
                    status = Status::Waived;
                    evidence.insert(
                        0,
                        format!("waived until {}: {}", waiver.expires, waiver.reason),
                    );
                } else {
                    evidence.insert(
                        0,
                        format!("waiver expired on {}: {}", waiver.expires, waiver.reason),
                    );
                }
            }
            // The check's own advice for any finding; the item's for a WARN (an INFO can mean
            // "could not judge", where advice to change something would mislead).
            let remediation = match status {
                Status::Pass | Status::Waived | Status::NotApplicable => None,
                Status::Info | Status::Note => verdict.remediation,
                Status::Warn => verdict
                    .remediation
                    .or_else(|| item.remediation.clone())
                    .or_else(|| {
                        item.kind.fixable().then(|| {
                            // Fixes work on one daemon; a rootless one must be named.
                            let daemon = match &facts.instance {
                                crate::daemons::Daemon::System => String::new(),
                                other => format!("--daemon {} ", other.key()),
                            };
                            format!(
                                "`{invoked_as} fix {daemon}--only {id}` makes the change (`{invoked_as} diff {daemon}--only {id}` shows it first)",
                                id = item.id
                            )
                        })
                    }),
            };
            Finding {
                daemon: facts.instance.key(),
                id: item.id.clone(),
                code: item.code.clone(),
                legacy_id: item.legacy_id.clone(),
                title: item.title.clone(),
                status,
                evidence,
                remediation,
                fixable: item.kind.fixable(),
                pending_restart: verdict.pending_restart,
            }
        })
        .collect()
}

/// How the item changes for the daemon the facts are about, when it is a rootless one and the
/// item says so; such items have nothing to fix.
pub(crate) fn rootless_rule<'a>(item: &'a Item, facts: &Facts) -> Option<&'a Rootless> {
    facts.instance.rootless()?;
    item.rootless.as_ref()
}

/// Plans the fixes of `ids` in playbook order; each item sees the edits of the ones before it.
/// Audit items of `selection` whose file the plan creates (daemon.json) are added at the end,
/// so a new file is watched from the start.
pub(crate) fn plan(
    playbook: &Playbook,
    facts: &Facts,
    ids: &BTreeSet<String>,
    selection: &Selection,
) -> Result<Plan> {
    let mut ws = Workspace::new(facts);
    let mut plan = Plan::default();
    let chosen = playbook
        .items
        .iter()
        .filter(|i| ids.contains(&i.id) && rootless_rule(i, facts).is_none());
    let mut followups = Vec::new();
    for item in chosen.clone() {
        plan_item(playbook, facts, item, &mut ws, &mut plan)?;
    }
    for item in playbook.items.iter().filter(|i| {
        !ids.contains(&i.id) && selection.includes(&i.id) && rootless_rule(i, facts).is_none()
    }) {
        if let Kind::Audit(spec) = &item.kind
            && kinds::audit::target_created(spec, facts, &ws)
            && !playbook.waivers.contains_key(&item.id)
        {
            followups.push(item);
        }
    }
    for item in followups {
        plan_item(playbook, facts, item, &mut ws, &mut plan)?;
    }
    plan.changes = ws.changes();
    Ok(plan)
}

fn plan_item(
    playbook: &Playbook,
    facts: &Facts,
    item: &crate::kinds::Item,
    ws: &mut Workspace,
    plan: &mut Plan,
) -> Result<()> {
    {
        let before = ws.state();
        let saved = ws.clone();
        let outcome = item.kind.fix(facts, &playbook.variables, ws)?;
        // A fix that cannot be done plans nothing: half of it (the log driver switched on,
        // say, without the receiver it needs) could stop dockerd or its containers.
        if outcome.blocked.is_some() {
            *ws = saved;
        }
        let changes = ws.changes_since(&before);
        plan.actions.extend(outcome.actions.iter().copied());
        plan.items.push(ItemPlan {
            id: item.id.clone(),
            changes,
            actions: outcome.actions,
            blocked: outcome.blocked,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::daemon_json;
    use crate::facts::builder::FactsBuilder;

    /// The default playbook's item for daemon.json's `icc`.
    fn icc_item(playbook: &Playbook) -> String {
        playbook
            .items
            .iter()
            .find(|i| matches!(&i.kind, Kind::DaemonSetting(s) if s.key == "icc"))
            .expect("the default playbook judges icc")
            .id
            .clone()
    }

    fn only(id: &str) -> Selection {
        Selection {
            only: Some(BTreeSet::from([id.to_string()])),
            skip: BTreeSet::new(),
        }
    }

    fn today() -> jiff::civil::Date {
        jiff::civil::date(2026, 1, 1)
    }

    #[test]
    fn only_the_selected_item_is_judged_and_a_skipped_one_is_not() {
        let playbook = Playbook::default_playbook().unwrap();
        let id = icc_item(&playbook);
        let facts = FactsBuilder::new().daemon_json(r#"{"icc": false}"#).build();
        let findings = evaluate(&playbook, &facts, &only(&id), today(), "docker-harden");
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].id, id);
        assert_eq!(
            findings[0].status,
            Status::Pass,
            "{:?}",
            findings[0].evidence
        );
        assert_eq!(findings[0].remediation, None);
        let skipped = Selection {
            skip: BTreeSet::from([id.clone()]),
            ..only(&id)
        };
        assert!(evaluate(&playbook, &facts, &skipped, today(), "docker-harden").is_empty());
    }

    #[test]
    fn a_plan_for_one_item_changes_only_what_that_item_fixes() {
        let playbook = Playbook::default_playbook().unwrap();
        let id = icc_item(&playbook);
        let facts = FactsBuilder::new()
            .daemon_json(r#"{"log-level": "info"}"#)
            .build();
        let findings = evaluate(&playbook, &facts, &only(&id), today(), "docker-harden");
        assert_eq!(findings[0].status, Status::Warn);
        let plan = plan(&playbook, &facts, &BTreeSet::from([id.clone()]), &only(&id)).unwrap();
        assert_eq!(plan.items.len(), 1);
        assert_eq!(plan.items[0].id, id);
        assert_eq!(plan.items[0].blocked, None);
        assert_eq!(plan.changes.len(), 1);
        assert_eq!(plan.changes[0].path, Path::new("/etc/docker/daemon.json"));
        let after = String::from_utf8(plan.changes[0].after.content.clone().unwrap()).unwrap();
        let json = daemon_json::parse(&after).unwrap();
        assert_eq!(json.get("icc"), Some(&json!(false)));
        assert_eq!(json.get("log-level"), Some(&json!("info")));
        assert_eq!(json.len(), 2);
    }
}
