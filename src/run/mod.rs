//! The one plan-and-apply layer. `diff`, `fix` (interactive and `--yes`), `rollback` and the
//! Ansible module plan a run, apply it and roll it back here, so the CLI and the module cannot
//! drift apart: what stays above is presentation (diffs, prompts, the module's result) and
//! turning their options into the typed requests below.
//!
//! Planning selects the items, runs their fixers and drops what pre-flight refuses; applying
//! writes the files as one transaction, acts on the services with health checks, judges the
//! containers through a restart and undoes the run when dockerd does not come back; rolling
//! back plans each file's way back, the docker action that puts the old configuration in
//! effect, and applies them the same way.

mod apply;
mod consent;
mod daemon_config;
mod docker_action;
mod engine_validation;
mod host;
mod planning;
mod recovery;
mod rollback;
mod services;
mod watches;

pub(crate) use apply::{Options, apply};
pub(crate) use consent::{RestartConsent, containers_stopped_by_restart};
pub(crate) use daemon_config::planned_json;
pub(crate) use host::{Console, Host};
pub(crate) use planning::{
    Unattended, candidates, changed_items, hold_disruptive, plan_safe, plan_unattended,
};
pub(crate) use recovery::refuse_interrupted;
pub(crate) use rollback::{RollbackPlan, roll_back};
