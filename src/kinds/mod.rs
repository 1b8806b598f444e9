//! Item kinds. Each module judges one kind of item from the facts (`check`) and plans its fix
//! on a workspace (`fix`); neither touches the disk.

pub(crate) mod audit;
pub mod container;
pub mod daemon_report;
mod daemon_setting;
pub mod flag_move;
pub mod host_report;
pub mod image;
pub mod note;
mod ownership;
mod permissions;
mod remote_logging;
pub mod sprawl;
mod storage_driver;
pub mod swarm;
pub(crate) mod userns;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::error::Result;
use crate::facts::Facts;
use crate::plan::{ServiceAction, Workspace};
use crate::playbook::{Item, Kind, Variables};

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
    pub fn label(self) -> &'static str {
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
    pub fn new(status: Status, evidence: Vec<String>) -> Verdict {
        Verdict {
            status,
            evidence,
            pending_restart: false,
            remediation: None,
        }
    }
    pub fn pass(evidence: impl Into<String>) -> Verdict {
        Verdict::new(Status::Pass, vec![evidence.into()])
    }
    pub fn warn(evidence: impl Into<String>) -> Verdict {
        Verdict::new(Status::Warn, vec![evidence.into()])
    }
    pub fn info(evidence: impl Into<String>) -> Verdict {
        Verdict::new(Status::Info, vec![evidence.into()])
    }
    /// What to change.
    pub fn fix(mut self, remediation: impl Into<String>) -> Verdict {
        self.remediation = Some(remediation.into());
        self
    }
    pub fn pending(evidence: impl Into<String>) -> Verdict {
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
    pub fn blocked(reason: impl Into<String>) -> FixOutcome {
        FixOutcome {
            actions: BTreeSet::new(),
            blocked: Some(reason.into()),
        }
    }
    pub fn action(action: ServiceAction) -> FixOutcome {
        FixOutcome {
            actions: BTreeSet::from([action]),
            blocked: None,
        }
    }
}

pub fn check(item: &Item, facts: &Facts) -> Verdict {
    match &item.kind {
        Kind::Audit(spec) => audit::check(spec, facts),
        Kind::DaemonSetting(spec) => daemon_setting::check(spec, facts),
        Kind::DaemonReport(spec) => daemon_report::check(spec, facts),
        Kind::Container(spec) => container::check(spec, facts),
        Kind::Image(spec) => image::check(spec, facts),
        Kind::Sprawl(spec) => sprawl::check(spec, facts),
        Kind::Swarm(spec) => swarm::check(spec, facts),
        Kind::HostReport(spec) => host_report::check(spec, facts),
        Kind::Note(spec) => note::check(spec, facts),
        Kind::RemoteLogging(spec) => remote_logging::check(spec, facts),
        Kind::StorageDriver(spec) => storage_driver::check(spec, facts),
        Kind::Ownership(spec) => ownership::check(spec, facts),
        Kind::Permissions(spec) => permissions::check(spec, facts),
    }
}

pub fn fix(item: &Item, facts: &Facts, vars: &Variables, ws: &mut Workspace) -> Result<FixOutcome> {
    match &item.kind {
        Kind::Audit(spec) => Ok(audit::fix(spec, facts, vars, ws)),
        Kind::DaemonSetting(spec) => daemon_setting::fix(spec, facts, ws),
        Kind::RemoteLogging(spec) => remote_logging::fix(spec, facts, ws),
        Kind::StorageDriver(_) => Ok(FixOutcome::blocked(
            "report only: changing the storage driver hides existing images and containers",
        )),
        Kind::DaemonReport(_) | Kind::HostReport(_) | Kind::Note(_) => Ok(FixOutcome::blocked(
            "report only: the change needs a decision only the operator can make",
        )),
        Kind::Container(_) => Ok(FixOutcome::blocked(
            "report only: a container's settings change only when its owner re-creates it",
        )),
        Kind::Image(_) => Ok(FixOutcome::blocked(
            "report only: an image changes when its Dockerfile is changed and it is rebuilt",
        )),
        Kind::Sprawl(_) => Ok(FixOutcome::blocked(
            "report only: only the operator knows which images and containers are still wanted",
        )),
        Kind::Swarm(_) => Ok(FixOutcome::blocked(
            "report only: swarm settings are changed with `docker swarm` and `docker node` by the swarm's operator",
        )),
        Kind::Ownership(spec) => Ok(ownership::fix(spec, facts, ws)),
        Kind::Permissions(spec) => Ok(permissions::fix(spec, facts, ws)),
    }
}

/// Octal mode as people write it.
pub fn mode_string(mode: u32) -> String {
    format!("{mode:04o}")
}

/// "root:root", or numbers where the host has no name for an ID.
pub fn owner_string(facts: &Facts, uid: u32, gid: u32) -> String {
    format!(
        "{}:{}",
        facts.accounts.user_name(uid),
        facts.accounts.group_name(gid)
    )
}

/// What the Docker API listed, or the verdict for an item that judges `what` ("containers")
/// when it was not listed: under --root, not asked for in this run, or unreachable.
fn workloads<'f>(facts: &'f Facts, what: &str) -> Result<&'f crate::workloads::Workloads, Verdict> {
    if !facts.live {
        return Err(Verdict::info(format!(
            "{what} are judged through the Docker API on the live host"
        )));
    }
    match &facts.workloads {
        None => Err(Verdict::info(format!(
            "{what} were not listed in this run; `docker-harden check` judges them"
        ))),
        Some(Err(reason)) => Err(Verdict::info(format!(
            "{what} could not be listed: {reason}"
        ))),
        Some(Ok(w)) => Ok(w),
    }
}

/// The Docker-daemon items cannot say anything on a host without dockerd.
fn docker_missing(facts: &Facts) -> Option<Verdict> {
    (!facts.daemon.installed)
        .then(|| Verdict::info("dockerd is not installed on this host (no dockerd binary found)"))
}
