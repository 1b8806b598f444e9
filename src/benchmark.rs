//! The benchmark's item numbering: every v1.6.0 ID (sections 1-7) and the legacy IDs that older
//! guides use, so selectors can tell an item from a section or a legacy number.

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

/// Interprets a token typed on the command line. A current ID or section wins over a legacy
/// ID with the same digits (v1.6.0's "2.1" is an item of its own, not legacy 2.1 = 2.2).
pub fn interpret(token: &str, playbook_ids: &[&str]) -> Option<(Selection, Option<&'static str>)> {
    if V1_6_0_IDS.contains(&token) || playbook_ids.contains(&token) {
        return Some((Selection::Item(token.to_string()), None));
    }
    let prefix = format!("{token}.");
    if V1_6_0_IDS.iter().any(|id| id.starts_with(&prefix)) {
        return Some((Selection::Section(token.to_string()), None));
    }
    LEGACY_IDS
        .iter()
        .find(|(legacy, _)| *legacy == token)
        .map(|(_, current)| (Selection::Item((*current).to_string()), Some(*current)))
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
        assert_eq!(
            interpret("1.1.3", &[]),
            Some((Selection::Item("1.1.3".into()), None))
        );
        assert_eq!(
            interpret("2", &[]),
            Some((Selection::Section("2".into()), None))
        );
        assert_eq!(
            interpret("1.1", &[]),
            Some((Selection::Section("1.1".into()), None))
        );
        assert_eq!(
            interpret("1.5", &[]),
            Some((Selection::Item("1.1.3".into()), Some("1.1.3")))
        );
        // 2.1 exists in v1.6.0, so it is not read as the legacy 2.1.
        assert_eq!(
            interpret("2.1", &[]),
            Some((Selection::Item("2.1".into()), None))
        );
        assert_eq!(interpret("9.9", &[]), None);
        assert_eq!(
            interpret("extra.audit", &["extra.audit"]),
            Some((Selection::Item("extra.audit".into()), None))
        );
    }
}
