//! What a kind says about a host: a check's verdict, and what a fixer planned beyond files.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::plan::ServiceAction;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pass,
    Warn,
    Info,
    Note,
    Waived,
    /// The item does not apply to this daemon (a rootless daemon has no docker.socket unit).
    #[serde(rename = "N/A")]
    NotApplicable,
}

impl Status {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Info => "INFO",
            Status::Note => "NOTE",
            Status::Waived => "WAIVED",
            Status::NotApplicable => "N/A",
        }
    }
}

/// A check's judgement: the status and what it saw, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    pub evidence: Vec<String>,
    /// Compliant in the configuration but not yet in effect.
    pub pending_restart: bool,
    /// What to change, when the check knows better than the item's own text (it names the
    /// containers' settings, say).
    pub remediation: Option<String>,
}

impl Verdict {
    pub(crate) fn new(status: Status, evidence: Vec<String>) -> Verdict {
        Verdict {
            status,
            evidence,
            pending_restart: false,
            remediation: None,
        }
    }
    pub(crate) fn pass(evidence: impl Into<String>) -> Verdict {
        Verdict::new(Status::Pass, vec![evidence.into()])
    }
    pub(crate) fn warn(evidence: impl Into<String>) -> Verdict {
        Verdict::new(Status::Warn, vec![evidence.into()])
    }
    pub(crate) fn info(evidence: impl Into<String>) -> Verdict {
        Verdict::new(Status::Info, vec![evidence.into()])
    }
    /// What to change.
    pub(crate) fn fix(mut self, remediation: impl Into<String>) -> Verdict {
        self.remediation = Some(remediation.into());
        self
    }
    pub(crate) fn pending(evidence: impl Into<String>) -> Verdict {
        Verdict {
            status: Status::Warn,
            evidence: vec![evidence.into()],
            pending_restart: true,
            remediation: None,
        }
    }
}

/// What a fixer planned beyond file changes.
#[derive(Debug, Clone, Default)]
pub struct FixOutcome {
    pub actions: BTreeSet<ServiceAction>,
    pub blocked: Option<String>,
}

impl FixOutcome {
    pub(crate) fn blocked(reason: impl Into<String>) -> FixOutcome {
        FixOutcome {
            actions: BTreeSet::new(),
            blocked: Some(reason.into()),
        }
    }
    pub(crate) fn action(action: ServiceAction) -> FixOutcome {
        FixOutcome {
            actions: BTreeSet::from([action]),
            blocked: None,
        }
    }
}
