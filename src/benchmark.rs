//! The benchmark's item numbering: every v1.6.0 ID (sections 1-7), how v1.7.0 and v1.8.0 number
//! the same items, and the legacy IDs that older guides use, so selectors can tell an item from
//! a section or a legacy number in the version the operator chose.

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
    pub const ALL: [Version; 3] = [Version::V1_6_0, Version::V1_7_0, Version::V1_8_0];

    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1_6_0 => "1.6.0",
            Version::V1_7_0 => "1.7.0",
            Version::V1_8_0 => "1.8.0",
        }
    }

    /// The ID this version gives the item v1.6.0 numbers `id`; other IDs (a playbook's own
    /// items) are kept.
    pub fn translate(self, id: &str) -> String {
        if self == Version::V1_8_0
            && let Some(n) = id.strip_prefix("2.").and_then(|n| n.parse::<u32>().ok())
            && (7..=18).contains(&n)
        {
            return format!("2.{}", n + 1);
        }
        id.to_string()
    }

    /// Every item ID of this version, sections 1 to 7.
    pub fn ids(self) -> Vec<String> {
        let mut ids: Vec<String> = V1_6_0_IDS.iter().map(|id| self.translate(id)).collect();
        if self == Version::V1_8_0 {
            let at = ids.iter().position(|id| id == "2.8").unwrap_or(ids.len());
            ids.insert(at, "2.7".to_string());
        }
        ids
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

/// Every item ID of CIS Docker Benchmark v1.6.0, sections 1 to 7.
pub const V1_6_0_IDS: &[&str] = &[
    "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.9", "1.1.10",
    "1.1.11", "1.1.12", "1.1.13", "1.1.14", "1.1.15", "1.1.16", "1.1.17", "1.1.18", "1.2.1",
    "1.2.2", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "2.10", "2.11", "2.12",
    "2.13", "2.14", "2.15", "2.16", "2.17", "2.18", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6",
    "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15", "3.16", "3.17", "3.18",
    "3.19", "3.20", "3.21", "3.22", "3.23", "3.24", "4.1", "4.2", "4.3", "4.4", "4.5", "4.6",
    "4.7", "4.8", "4.9", "4.10", "4.11", "4.12", "5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7",
    "5.8", "5.9", "5.10", "5.11", "5.12", "5.13", "5.14", "5.15", "5.16", "5.17", "5.18", "5.19",
    "5.20", "5.21", "5.22", "5.23", "5.24", "5.25", "5.26", "5.27", "5.28", "5.29", "5.30", "5.31",
    "5.32", "6.1", "6.2", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "7.7", "7.8", "7.9",
];

/// (legacy ID from benchmark v1.1/v1.2 guides, v1.6.0 ID).
pub const LEGACY_IDS: &[(&str, &str)] = &[
    ("1.1", "1.1.1"),
    ("1.5", "1.1.3"),
    ("1.6", "1.1.5"),
    ("1.7", "1.1.6"),
    ("1.8", "1.1.7"),
    ("1.9", "1.1.9"),
    ("1.10", "1.1.10"),
    ("1.11", "1.1.11"),
    ("1.12", "1.1.14"),
    ("1.13", "1.1.18"),
    ("2.1", "2.2"),
    ("2.5", "2.6"),
    ("2.8", "2.9"),
    ("2.11", "2.12"),
    ("2.12", "2.13"),
    ("2.14", "2.15"),
    ("2.15", "2.16"),
    ("2.18", "2.14"),
    ("4.5", "4.5"),
];

/// What a selector token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// One item, by its v1.6.0 ID or a playbook's own ID.
    Item(String),
    /// Every item whose ID starts with this section number ("2", "1.1").
    Section(String),
}

/// Interprets a token typed on the command line, in `version`'s numbering. A current ID or
/// section wins over a legacy ID with the same digits (v1.6.0's "2.1" is an item of its own, not
/// legacy 2.1 = 2.2). A legacy ID names the item in `version`'s numbering.
pub fn interpret(token: &str, version: Version, playbook_ids: &[&str]) -> Option<Selection> {
    let ids = version.ids();
    if ids.iter().any(|id| id == token) || playbook_ids.contains(&token) {
        return Some(Selection::Item(token.to_string()));
    }
    let prefix = format!("{token}.");
    if ids.iter().any(|id| id.starts_with(&prefix)) {
        return Some(Selection::Section(token.to_string()));
    }
    LEGACY_IDS
        .iter()
        .find(|(legacy, _)| *legacy == token)
        .map(|(_, current)| Selection::Item(version.translate(current)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_list_is_complete() {
        assert_eq!(V1_6_0_IDS.len(), 117);
    }

    #[test]
    fn tokens() {
        let v = Version::V1_6_0;
        let item = |id: &str| Some(Selection::Item(id.into()));
        assert_eq!(interpret("1.1.3", v, &[]), item("1.1.3"));
        assert_eq!(interpret("2", v, &[]), Some(Selection::Section("2".into())));
        assert_eq!(
            interpret("1.1", v, &[]),
            Some(Selection::Section("1.1".into()))
        );
        assert_eq!(interpret("1.5", v, &[]), item("1.1.3"));
        // 2.1 exists in v1.6.0, so it is not read as the legacy 2.1.
        assert_eq!(interpret("2.1", v, &[]), item("2.1"));
        assert_eq!(interpret("9.9", v, &[]), None);
        assert_eq!(
            interpret("extra.audit", v, &["extra.audit"]),
            item("extra.audit")
        );
        assert_eq!(interpret("2.19", v, &[]), None);
    }

    #[test]
    fn v1_8_0_renumbers_section_2() {
        let v = Version::V1_8_0;
        let ids = v.ids();
        assert_eq!(ids.len(), 118);
        let section_2: Vec<&str> = ids
            .iter()
            .filter(|id| id.starts_with("2."))
            .map(String::as_str)
            .collect();
        assert_eq!(section_2.len(), 19);
        assert_eq!(&section_2[5..9], ["2.6", "2.7", "2.8", "2.9"]);
        assert_eq!(v.translate("2.9"), "2.10", "userns-remap");
        assert_eq!(v.translate("2.6"), "2.6");
        assert_eq!(v.translate("3.9"), "3.9");
        assert_eq!(v.translate("local.1"), "local.1");
        // Legacy 2.8 (userns-remap in old guides) is v1.6.0's 2.9, v1.8.0's 2.10.
        assert_eq!(
            interpret("2.8", v, &[]),
            Some(Selection::Item("2.8".into()))
        );
        assert_eq!(
            interpret("1.9", v, &[]),
            Some(Selection::Item("1.1.9".into()))
        );
        assert_eq!(
            interpret("2.15", v, &[]),
            Some(Selection::Item("2.15".into()))
        );
        assert_eq!(
            interpret("2.19", v, &[]),
            Some(Selection::Item("2.19".into()))
        );
        assert_eq!(Version::V1_7_0.ids(), Version::V1_6_0.ids());
        assert_eq!("v1.7.0".parse::<Version>(), Ok(Version::V1_7_0));
        assert!("1.5.0".parse::<Version>().is_err());
        assert_eq!(Version::default(), Version::V1_8_0);
    }
}
