//! An item of a playbook: its IDs, its wording and the kind that judges and fixes it.

use std::collections::BTreeMap;

use super::Kind;
use crate::benchmark::Version;

/// How an item changes for a rootless daemon (../shared/cis/rootless-items.tsv): most items
/// only move to the user's paths, which the facts handle; these two need saying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rootless {
    /// The item does not apply: why.
    NotApplicable(String),
    /// Rootless mode satisfies the item by construction: how.
    ByDesign(String),
}

#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub legacy_id: Option<String>,
    pub title: String,
    pub why: String,
    pub remediation: Option<String>,
    /// The versions the item belongs to and its ID in each (`None`: every version).
    pub benchmarks: Option<BTreeMap<Version, String>>,
    /// What applying this fix breaks; such fixes need an explicit opt-in.
    pub disruptive: Option<String>,
    pub rootless: Option<Rootless>,
    pub kind: Kind,
}
