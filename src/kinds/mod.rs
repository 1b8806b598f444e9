//! Item kinds. Each kind is a module that declares its spec (as the playbook writes it and
//! typed), how it is judged from the facts (`check`) and how its fix is planned on a workspace
//! (`fix`), or that it only reports and why; neither touches the disk. `kind_registry!` lists
//! them: the playbook loader, the dispatch and the report-only messages all read it, so adding
//! a kind is its module and a line there.

pub(crate) mod audit;
pub(crate) mod container;
pub(crate) mod daemon_report;
mod daemon_setting;
pub mod flag_move;
pub(crate) mod host_report;
pub(crate) mod image;
mod item;
mod loading;
pub(crate) mod note;
mod ownership;
mod permissions;
mod remote_logging;
pub(crate) mod sprawl;
mod storage_driver;
pub(crate) mod swarm;
pub(crate) mod userns;
mod verdict;

use serde::de::DeserializeOwned;

pub use audit::AuditSpec;
pub use container::ContainerSpec;
pub use daemon_report::DaemonReportSpec;
pub use daemon_setting::{Apply, DaemonSettingSpec, RawDaemonSetting};
pub use host_report::HostReportSpec;
pub use image::ImageSpec;
pub use item::{Item, Rootless};
pub use loading::LoadContext;
pub use note::NoteSpec;
pub use ownership::OwnershipSpec;
pub use permissions::{PermissionsSpec, RawPermissions};
pub use remote_logging::{RawRemoteLogging, RemoteLoggingSpec};
pub use sprawl::SprawlSpec;
pub use storage_driver::StorageDriverSpec;
pub use swarm::SwarmSpec;
pub use verdict::{FixOutcome, Status, Verdict};

use crate::error::Result;
use crate::facts::Facts;
use crate::plan::Workspace;
use crate::vocabulary::Variables;

/// Every kind of item: its key in a playbook item, its `Kind` variant and its spec type, which
/// implements `ItemKind` in the kind's module. `kind_registry!(m)` hands the list to macro `m`.
macro_rules! kind_registry {
    ($then:ident) => {
        $then! {
            audit => Audit($crate::kinds::AuditSpec),
            daemon_setting => DaemonSetting($crate::kinds::DaemonSettingSpec),
            daemon_report => DaemonReport($crate::kinds::DaemonReportSpec),
            host_report => HostReport($crate::kinds::HostReportSpec),
            container => Container($crate::kinds::ContainerSpec),
            image => Image($crate::kinds::ImageSpec),
            sprawl => Sprawl($crate::kinds::SprawlSpec),
            swarm => Swarm($crate::kinds::SwarmSpec),
            note => Note($crate::kinds::NoteSpec),
            remote_logging => RemoteLogging($crate::kinds::RemoteLoggingSpec),
            storage_driver => StorageDriver($crate::kinds::StorageDriverSpec),
            ownership => Ownership($crate::kinds::OwnershipSpec),
            permissions => Permissions($crate::kinds::PermissionsSpec),
        }
    };
}
pub(crate) use kind_registry;

/// What a kind of item declares. The spec type of each kind implements it.
pub(crate) trait ItemKind: Sized {
    /// The spec as a playbook item writes it under the kind's key.
    type Raw: DeserializeOwned + Clone + std::fmt::Debug;
    /// Why docker-harden leaves the host as it is for this kind, or `None` when it fixes it.
    const REPORT_ONLY: Option<&'static str> = None;

    /// The typed spec, validated (variables substituted, values checked).
    fn from_raw(raw: Self::Raw, load: &LoadContext<'_>) -> Result<Self>;

    /// Judges the host from the facts.
    fn check(&self, facts: &Facts) -> Verdict;

    /// Plans the fix on the workspace; a report-only kind plans nothing and says why.
    fn fix(&self, _facts: &Facts, _vars: &Variables, _ws: &mut Workspace) -> Result<FixOutcome> {
        Ok(FixOutcome::blocked(
            Self::REPORT_ONLY.unwrap_or("nothing to change for this item"),
        ))
    }

    /// Whether the check judges what the Docker API lists beyond `/info` (containers, images,
    /// networks, secrets).
    fn needs_workloads(&self) -> bool {
        false
    }
}

macro_rules! define_kinds {
    ($($key:ident => $variant:ident($spec:ty)),* $(,)?) => {
        /// An item's kind and its typed spec.
        #[derive(Debug, Clone)]
        pub enum Kind {
            $($variant($spec),)*
        }

        impl Kind {
            /// Every kind's key in a playbook item, in registry order.
            pub const KEYS: &'static [&'static str] = &[$(stringify!($key)),*];

            /// The kind's key in a playbook item.
            pub fn key(&self) -> &'static str {
                match self {
                    $(Kind::$variant(_) => stringify!($key),)*
                }
            }

            pub fn check(&self, facts: &Facts) -> Verdict {
                match self {
                    $(Kind::$variant(spec) => spec.check(facts),)*
                }
            }

            pub fn fix(&self, facts: &Facts, vars: &Variables, ws: &mut Workspace) -> Result<FixOutcome> {
                match self {
                    $(Kind::$variant(spec) => spec.fix(facts, vars, ws),)*
                }
            }

            /// Why docker-harden does not change the host for this kind of item, if it does not.
            pub fn report_only(&self) -> Option<&'static str> {
                match self {
                    $(Kind::$variant(_) => <$spec as ItemKind>::REPORT_ONLY,)*
                }
            }

            /// Whether docker-harden can change the host for this kind of item.
            pub fn fixable(&self) -> bool {
                self.report_only().is_none()
            }

            /// Whether the item judges what the Docker API lists beyond `/info`.
            pub fn needs_workloads(&self) -> bool {
                match self {
                    $(Kind::$variant(spec) => spec.needs_workloads(),)*
                }
            }
        }
    };
}
kind_registry!(define_kinds);

/// Octal mode as people write it.
pub(crate) fn mode_string(mode: u32) -> String {
    format!("{mode:04o}")
}

/// "root:root", or numbers where the host has no name for an ID.
pub(crate) fn owner_string(facts: &Facts, uid: u32, gid: u32) -> String {
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
