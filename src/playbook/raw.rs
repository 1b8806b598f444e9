//! Playbooks as written: read strictly (unknown keys, wrong types and YAML 1.1 booleans like
//! `no` are errors), before includes are resolved and values validated.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::kinds::{ItemKind, Kind, LoadContext, kind_registry};
use crate::vocabulary::SyslogAddress;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlaybook {
    pub(super) include: Option<String>,
    pub(super) name: Option<String>,
    pub(super) benchmark: Option<String>,
    #[serde(default)]
    pub(super) variables: RawVariables,
    #[serde(default)]
    pub(super) items: Vec<RawItem>,
    #[serde(default)]
    pub(super) skip: Vec<String>,
    #[serde(default)]
    pub(super) enable: Vec<String>,
    #[serde(default)]
    pub(super) waivers: Vec<RawWaiver>,
}

/// The variables as written, each optional: a playbook's, or the overrides a caller (the
/// Ansible module's `variables`) puts on top of the playbook's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariables {
    pub syslog_address: Option<SyslogAddress>,
    pub userns_remap: Option<String>,
    pub audit_key: Option<String>,
    pub extra_audit_paths: Option<Vec<String>>,
    pub allow_container_restart: Option<bool>,
}

impl RawVariables {
    /// `top`'s variables replace these one by one.
    pub(super) fn overlay(self, top: RawVariables) -> RawVariables {
        RawVariables {
            syslog_address: top.syslog_address.or(self.syslog_address),
            userns_remap: top.userns_remap.or(self.userns_remap),
            audit_key: top.audit_key.or(self.audit_key),
            extra_audit_paths: top.extra_audit_paths.or(self.extra_audit_paths),
            allow_container_restart: top.allow_container_restart.or(self.allow_container_restart),
        }
    }
}

/// Where a playbook comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// A file; its relative includes are relative to its directory.
    File(PathBuf),
    /// YAML text handed over whole (the Ansible module's `playbook_content`); its relative
    /// includes are relative to the working directory.
    Text(String),
}

/// A playbook item as written: the common fields, and one key per kind in the registry, of
/// which exactly one must be given.
macro_rules! raw_item {
    ($($key:ident => $variant:ident($spec:ty)),* $(,)?) => {
        #[derive(Debug, Clone, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(super) struct RawItem {
            pub(super) id: String,
            /// What the item checks, in a few words that never change with the benchmark version.
            pub(super) code: Option<String>,
            pub(super) legacy_id: Option<String>,
            pub(super) title: String,
            pub(super) why: String,
            /// What to change when the item is not compliant (report-only items; fixable ones
            /// point at `docker-harden fix`).
            pub(super) remediation: Option<String>,
            /// The benchmark versions the item belongs to, and its ID in each; absent: those of
            /// the default item with this `id`, else every version, as `id`.
            #[serde(alias = "benchmarks")]
            pub(super) ids: Option<BTreeMap<String, String>>,
            pub(super) disruptive: Option<String>,
            /// How the item changes for a rootless daemon, when it does beyond its paths.
            pub(super) rootless: Option<RawRootless>,
            $($key: Option<<$spec as ItemKind>::Raw>,)*
        }

        impl RawItem {
            /// The kinds the item gives, typed in registry order.
            pub(super) fn kinds(&self, load: &LoadContext<'_>) -> Result<Vec<Kind>> {
                let mut kinds = Vec::new();
                $(if let Some(raw) = &self.$key {
                    kinds.push(Kind::$variant(<$spec as ItemKind>::from_raw(raw.clone(), load)?));
                })*
                Ok(kinds)
            }
        }
    };
}
kind_registry!(raw_item);

/// `rootless: { not_applicable: WHY }` or `rootless: { by_design: HOW }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRootless {
    pub(super) not_applicable: Option<String>,
    pub(super) by_design: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWaiver {
    /// The item (or items: a section) by ID, or by its code.
    pub(super) id: Option<String>,
    pub(super) code: Option<String>,
    pub(super) reason: String,
    pub(super) expires: String,
}

pub(super) fn parse_raw(source: &str, text: &str) -> Result<RawPlaybook> {
    serde_norway::from_str::<RawPlaybook>(text).map_err(|e| {
        let message = e.to_string();
        let (location, message) = match e.location() {
            Some(loc) => {
                let suffix = format!(" at line {} column {}", loc.line(), loc.column());
                (
                    format!(":{}:{}", loc.line(), loc.column()),
                    message.replace(&suffix, ""),
                )
            }
            None => (String::new(), message),
        };
        Error::Playbook {
            path: format!("{source}{location}"),
            message,
        }
    })
}
