//! Linux audit rules text handling (the format read by `auditctl -R` and
//! `augenrules`). Everything here is a pure function on text so that the
//! audit and fix logic can be tested without touching the host.
//!
//! A line is split into options (`options`), checked as auditctl checks it
//! (`validate`, with `Refusal` saying why it refuses one) and read as a rule
//! (`rules`); `load` and `augenrules` say what loading the files leaves in the
//! kernel, and `plan` adds the watches docker-harden wants.

mod auditctl_output;
mod augenrules;
#[cfg(test)]
mod fixtures;
mod load;
mod options;
mod plan;
#[cfg(test)]
mod plan_properties;
mod refusal;
mod rules;
#[cfg(test)]
mod syntax_properties;
mod validate;
mod watch;

pub(crate) use auditctl_output::{enabled_flag, parse_auditctl_list};
pub(crate) use augenrules::{augenrules_load, augenrules_order};
pub(crate) use load::{effective_watches, load_text};
pub(crate) use plan::{plan_append, plan_own_rules_file};
pub(crate) use rules::watches;
pub use watch::Watch;
