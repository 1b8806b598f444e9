//! The benchmark versions docker-harden knows, and how a selector token is read against one
//! version's numbering (an item, a section, or a legacy number). The numbering itself is data:
//! the default playbook carries every item's IDs per version (`playbook::catalogue` reads it).

use std::fmt;
use std::str::FromStr;

/// A CIS Docker Benchmark version whose IDs docker-harden prints and accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Version {
    V1_6_0,
    /// The same IDs as v1.6.0; 1.1.9 audits the API socket rather than the docker.socket unit.
    V1_7_0,
    /// Adds 2.7 (no devicemapper) and numbers v1.6.0's 2.7-2.18 as 2.8-2.19.
    #[default]
    V1_8_0,
}

impl Version {
    pub(crate) const ALL: [Version; 3] = [Version::V1_6_0, Version::V1_7_0, Version::V1_8_0];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Version::V1_6_0 => "1.6.0",
            Version::V1_7_0 => "1.7.0",
            Version::V1_8_0 => "1.8.0",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Version, String> {
        let wanted = s.trim().trim_start_matches('v');
        Version::ALL
            .into_iter()
            .find(|v| v.as_str() == wanted)
            .ok_or_else(|| format!("unknown benchmark version `{s}` (known: 1.6.0, 1.7.0, 1.8.0)"))
    }
}

/// The benchmark's IDs in one version, as the default playbook's data gives them (the
/// benchmark's own items, not a playbook's extras): what selectors tell items, sections and
/// legacy IDs apart by, whichever items a playbook carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Numbering {
    /// Every item ID of the version, in the benchmark's order.
    pub ids: Vec<String>,
    /// (legacy ID from benchmark v1.1/v1.2 guides, the ID this version gives that item).
    pub legacy: Vec<(String, String)>,
}

/// What a selector token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Selection {
    /// One item, by its v1.6.0 ID or a playbook's own ID.
    Item(String),
    /// Every item whose ID starts with this section number ("2", "1.1").
    Section(String),
}

/// Interprets a token typed on the command line, in `numbering`'s version. A current ID or
/// section wins over a legacy ID with the same digits (v1.6.0's "2.1" is an item of its own, not
/// legacy 2.1 = 2.2). A legacy ID names the item in that version's numbering.
pub(crate) fn interpret(
    token: &str,
    numbering: &Numbering,
    playbook_ids: &[&str],
) -> Option<Selection> {
    let ids = &numbering.ids;
    if ids.iter().any(|id| id == token) || playbook_ids.contains(&token) {
        return Some(Selection::Item(token.to_string()));
    }
    let prefix = format!("{token}.");
    if ids.iter().any(|id| id.starts_with(&prefix)) {
        return Some(Selection::Section(token.to_string()));
    }
    numbering
        .legacy
        .iter()
        .find(|(legacy, _)| legacy == token)
        .map(|(_, current)| Selection::Item(current.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_default_to_the_newest() {
        assert_eq!("v1.7.0".parse::<Version>(), Ok(Version::V1_7_0));
        assert!("1.5.0".parse::<Version>().is_err());
        assert_eq!(Version::default(), Version::V1_8_0);
    }
}
