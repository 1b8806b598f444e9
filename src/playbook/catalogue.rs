//! The benchmark's catalogue, read from the default playbook's data (the only place the
//! numbering lives): every item's ID in each benchmark version, its stable code and its legacy
//! ID. Selectors read it to tell items, sections and legacy IDs apart in the version the
//! operator chose, whichever items a playbook carries; an operator's item that replaces a
//! default one without saying otherwise keeps that item's numbering and code.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use crate::benchmark::{Numbering, Version};
use crate::error::Result;

use super::Item;
use super::includes::resolve_includes_default;
use super::raw::RawItem;
use super::validate::invalid;

const SOURCE: &str = "built-in default playbook";
/// What an item without a code of its own (and no default item's ID) is called.
const CUSTOM_PREFIX: &str = "custom-";

/// What the default playbook says about one of its items.
struct Entry {
    /// The item's ID in playbooks.
    id: String,
    code: Option<String>,
    /// The versions it belongs to and its ID in each; `None`: every version, as `id`.
    versions: Option<BTreeMap<Version, String>>,
    legacy_id: Option<String>,
}

impl Entry {
    fn id_in(&self, version: Version) -> Option<&str> {
        match &self.versions {
            Some(map) => map.get(&version).map(String::as_str),
            None => Some(&self.id),
        }
    }
}

static CATALOGUE: LazyLock<Vec<Entry>> = LazyLock::new(|| {
    let raw =
        resolve_includes_default().expect("the built-in playbook parses (its unit tests load it)");
    raw.items
        .into_iter()
        .map(|item| Entry {
            versions: own_versions(SOURCE, &item)
                .expect("the built-in playbook names known versions (its unit tests load it)"),
            id: item.id,
            code: item.code,
            legacy_id: item.legacy_id,
        })
        .collect()
});

static NUMBERINGS: LazyLock<BTreeMap<Version, Numbering>> = LazyLock::new(|| {
    Version::ALL
        .into_iter()
        .map(|version| (version, numbering_of(version)))
        .collect()
});

fn entry(id: &str) -> Option<&'static Entry> {
    CATALOGUE.iter().find(|e| e.id == id)
}

/// A benchmark ID is a number (1.1.3, 2.10); the default playbook's own extras (extra.audit)
/// are not the benchmark's and name no section.
fn is_benchmark_id(id: &str) -> bool {
    id.split('.')
        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

fn numbering_of(version: Version) -> Numbering {
    let ids: Vec<String> = CATALOGUE
        .iter()
        .filter_map(|e| e.id_in(version))
        .filter(|id| is_benchmark_id(id))
        .map(str::to_string)
        .collect();
    let legacy = CATALOGUE
        .iter()
        .filter_map(|e| {
            let legacy = e.legacy_id.clone()?;
            let current = match e.id_in(version) {
                Some(id) => id.to_string(),
                // An item the version dropped: its number names the item that took it (v1.7.0's
                // 1.1.9 watches the API socket where v1.6.0's watched docker.socket).
                None if ids.contains(&e.id) => e.id.clone(),
                None => return None,
            };
            Some((legacy, current))
        })
        .collect();
    Numbering { ids, legacy }
}

/// The benchmark's IDs and legacy IDs in `version`.
pub(crate) fn numbering(version: Version) -> &'static Numbering {
    &NUMBERINGS[&version]
}

/// The `ids` an item gives, by version.
fn own_versions(source: &str, item: &RawItem) -> Result<Option<BTreeMap<Version, String>>> {
    let Some(map) = &item.ids else {
        return Ok(None);
    };
    map.iter()
        .map(|(version, id)| {
            version
                .parse::<Version>()
                .map(|v| (v, id.clone()))
                .map_err(|e| invalid(source, format!("items: item {}: ids: {e}", item.id)))
        })
        .collect::<Result<BTreeMap<Version, String>>>()
        .map(Some)
}

/// The versions an item belongs to and its ID in each: its own `ids`, else those of the default
/// item with its `id`; `None`: every version, as `id`.
pub(super) fn versions(source: &str, item: &RawItem) -> Result<Option<BTreeMap<Version, String>>> {
    match own_versions(source, item)? {
        Some(map) => Ok(Some(map)),
        None => Ok(entry(&item.id).and_then(|e| e.versions.clone())),
    }
}

/// An item's code: its own (checked), else the default item's with its `id`, else
/// `custom-` and its ID.
pub(super) fn code(source: &str, item: &RawItem) -> Result<String> {
    if let Some(code) = &item.code {
        if !is_code(code) {
            return Err(invalid(
                source,
                format!(
                    "items: item {}: code `{code}` is not lowercase words joined by `-` (like icc-off)",
                    item.id
                ),
            ));
        }
        return Ok(code.clone());
    }
    Ok(entry(&item.id)
        .and_then(|e| e.code.clone())
        .unwrap_or_else(|| format!("{CUSTOM_PREFIX}{}", item.id)))
}

/// Lowercase kebab-case: `icc-off`, `audit-containerd-shim-runc-v2`.
fn is_code(code: &str) -> bool {
    code.split('-').all(|word| {
        !word.is_empty()
            && word
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// Two items with one code would be one rule to a code-scanning dashboard.
pub(super) fn check_unique_codes(source: &str, items: &[Item]) -> Result<()> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for item in items {
        if let Some(first) = seen.insert(&item.code, &item.id) {
            return Err(invalid(
                source,
                format!(
                    "items: items {first} and {} both have code `{}`; each item needs its own",
                    item.id, item.code
                ),
            ));
        }
    }
    Ok(())
}

/// The ID of the item with `code`, for a waiver by code.
pub(super) fn item_with_code(items: &[Item], code: &str) -> Option<BTreeSet<String>> {
    items
        .iter()
        .find(|i| i.code == code)
        .map(|i| BTreeSet::from([i.id.clone()]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::benchmark::{Selection, interpret};

    /// The ID `version` gives the item v1.6.0 numbers `id` (an item the version dropped: the
    /// one with its number); other IDs (a playbook's own items) are kept.
    fn renumber(id: &str, version: Version) -> String {
        match entry(id) {
            Some(e) => e.id_in(version).unwrap_or(id).to_string(),
            None => id.to_string(),
        }
    }

    /// Today's numbering before it moved into the playbook data, kept as a regression check:
    /// every v1.6.0 ID, sections 1 to 7, and how v1.8.0 renumbered them.
    const V1_6_0_IDS: &[&str] = &[
        "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.9", "1.1.10",
        "1.1.11", "1.1.12", "1.1.13", "1.1.14", "1.1.15", "1.1.16", "1.1.17", "1.1.18", "1.2.1",
        "1.2.2", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "2.10", "2.11",
        "2.12", "2.13", "2.14", "2.15", "2.16", "2.17", "2.18", "3.1", "3.2", "3.3", "3.4", "3.5",
        "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15", "3.16", "3.17",
        "3.18", "3.19", "3.20", "3.21", "3.22", "3.23", "3.24", "4.1", "4.2", "4.3", "4.4", "4.5",
        "4.6", "4.7", "4.8", "4.9", "4.10", "4.11", "4.12", "5.1", "5.2", "5.3", "5.4", "5.5",
        "5.6", "5.7", "5.8", "5.9", "5.10", "5.11", "5.12", "5.13", "5.14", "5.15", "5.16", "5.17",
        "5.18", "5.19", "5.20", "5.21", "5.22", "5.23", "5.24", "5.25", "5.26", "5.27", "5.28",
        "5.29", "5.30", "5.31", "5.32", "6.1", "6.2", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6",
        "7.7", "7.8", "7.9",
    ];
    const LEGACY_IDS: &[(&str, &str)] = &[
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

    fn old_translate(version: Version, id: &str) -> String {
        if version == Version::V1_8_0
            && let Some(n) = id.strip_prefix("2.").and_then(|n| n.parse::<u32>().ok())
            && (7..=18).contains(&n)
        {
            return format!("2.{}", n + 1);
        }
        id.to_string()
    }

    fn old_ids(version: Version) -> Vec<String> {
        let mut ids: Vec<String> = V1_6_0_IDS
            .iter()
            .map(|id| old_translate(version, id))
            .collect();
        if version == Version::V1_8_0 {
            let at = ids.iter().position(|id| id == "2.8").unwrap();
            ids.insert(at, "2.7".to_string());
        }
        ids
    }

    #[test]
    fn the_data_numbers_every_version_as_the_rust_table_did() {
        for version in Version::ALL {
            assert_eq!(numbering(version).ids, old_ids(version), "{version}");
            for id in V1_6_0_IDS {
                assert_eq!(
                    renumber(id, version),
                    old_translate(version, id),
                    "{version} {id}"
                );
            }
            // Every token selects what it selected before: legacy IDs, IDs, sections.
            let tokens = LEGACY_IDS
                .iter()
                .map(|(legacy, _)| legacy.to_string())
                .chain(old_ids(version))
                .chain(
                    ["1", "1.1", "1.2", "2", "7", "8", "2.19", "9.9", "extra"].map(String::from),
                );
            for token in tokens {
                assert_eq!(
                    interpret(&token, numbering(version), &[]),
                    old_interpret(&token, version),
                    "{version} {token}"
                );
            }
        }
    }

    fn old_interpret(token: &str, version: Version) -> Option<Selection> {
        let ids = old_ids(version);
        if ids.iter().any(|id| id == token) {
            return Some(Selection::Item(token.to_string()));
        }
        let prefix = format!("{token}.");
        if ids.iter().any(|id| id.starts_with(&prefix)) {
            return Some(Selection::Section(token.to_string()));
        }
        LEGACY_IDS
            .iter()
            .find(|(legacy, _)| *legacy == token)
            .map(|(_, current)| Selection::Item(old_translate(version, current)))
    }

    #[test]
    fn reference_list_is_complete() {
        assert_eq!(numbering(Version::V1_6_0).ids.len(), 117);
    }

    #[test]
    fn tokens() {
        let v = numbering(Version::V1_6_0);
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
        // The default playbook's extra item is no benchmark section.
        assert_eq!(interpret("extra", v, &[]), None);
    }

    #[test]
    fn v1_8_0_renumbers_section_2() {
        let v = Version::V1_8_0;
        let ids = &numbering(v).ids;
        assert_eq!(ids.len(), 118);
        let section_2: Vec<&str> = ids
            .iter()
            .filter(|id| id.starts_with("2."))
            .map(String::as_str)
            .collect();
        assert_eq!(section_2.len(), 19);
        assert_eq!(&section_2[5..9], ["2.6", "2.7", "2.8", "2.9"]);
        assert_eq!(renumber("2.9", v), "2.10", "userns-remap");
        assert_eq!(renumber("2.6", v), "2.6");
        assert_eq!(renumber("3.9", v), "3.9");
        assert_eq!(renumber("local.1", v), "local.1");
        // Legacy 2.8 (userns-remap in old guides) is v1.6.0's 2.9, v1.8.0's 2.10.
        assert_eq!(
            interpret("2.8", numbering(v), &[]),
            Some(Selection::Item("2.8".into()))
        );
        assert_eq!(
            interpret("1.9", numbering(v), &[]),
            Some(Selection::Item("1.1.9".into()))
        );
        assert_eq!(
            interpret("2.15", numbering(v), &[]),
            Some(Selection::Item("2.15".into()))
        );
        assert_eq!(
            interpret("2.19", numbering(v), &[]),
            Some(Selection::Item("2.19".into()))
        );
        assert_eq!(
            numbering(Version::V1_7_0).ids,
            numbering(Version::V1_6_0).ids
        );
    }

    #[test]
    fn default_codes_are_unique_kebab_case_and_never_empty() {
        let mut seen = BTreeSet::new();
        for e in CATALOGUE.iter() {
            let code = e
                .code
                .as_deref()
                .unwrap_or_else(|| panic!("item {} has no code", e.id));
            assert!(is_code(code), "item {}: `{code}`", e.id);
            assert!(seen.insert(code), "code {code} twice");
        }
        assert_eq!(seen.len(), CATALOGUE.len());
        assert!(!is_code(""));
        assert!(!is_code("Icc-off"));
        assert!(!is_code("icc--off"));
        assert!(!is_code("icc.off"));
        assert!(is_code("audit-containerd-shim-runc-v2"));
    }

    fn load(text: &str) -> (tempfile::TempDir, String, Result<super::super::Playbook>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.yml");
        std::fs::write(&path, text).unwrap();
        let loaded = super::super::Playbook::load(Some(&path));
        (dir, path.display().to_string(), loaded)
    }

    #[test]
    fn a_duplicate_code_is_a_load_error_naming_file_and_items() {
        let (_d, path, loaded) = load(
            "include: default\nitems:\n  - id: \"local.1\"\n    code: icc-off\n    title: t\n    why: w\n    permissions: { target: daemon_json, max_mode: \"0600\" }\n",
        );
        let err = loaded.unwrap_err().to_string();
        assert!(err.starts_with(&path), "{err}");
        assert!(
            err.contains("items 2.2 and local.1 both have code `icc-off`"),
            "{err}"
        );
        let (_d, _, loaded) = load(
            "items:\n  - id: \"local.1\"\n    code: Not_Kebab\n    title: t\n    why: w\n    permissions: { target: daemon_json, max_mode: \"0600\" }\n",
        );
        let err = loaded.unwrap_err().to_string();
        assert!(
            err.contains("item local.1: code `Not_Kebab` is not"),
            "{err}"
        );
    }

    #[test]
    fn own_items_get_a_code_and_replacements_keep_the_default_numbering() {
        // 2.9 replaced without code or ids is still userns-remap, v1.8.0's 2.10; local.1 is
        // custom-local.1 in every version.
        let (_d, _, loaded) = load(
            "include: default\nitems:\n  - id: \"2.9\"\n    title: t\n    why: w\n    daemon_setting: { key: userns-remap, want: dockremap, default: \"\", apply: restart, any_value: true }\n  - id: \"local.1\"\n    title: t\n    why: w\n    permissions: { target: daemon_json, max_mode: \"0600\" }\n",
        );
        let p = loaded.unwrap().for_benchmark(Version::V1_8_0).unwrap();
        assert_eq!(p.item("2.10").unwrap().code, "userns-remap");
        assert_eq!(p.item("local.1").unwrap().code, "custom-local.1");
        assert_eq!(p.item("2.2").unwrap().code, "icc-off");
    }

    #[test]
    fn a_waiver_by_code_holds_under_every_benchmark() {
        let (_d, _, loaded) = load(
            "include: default\nwaivers:\n  - code: userland-proxy-off\n    reason: legacy app\n    expires: 2999-12-31\n",
        );
        let p = loaded.unwrap();
        for (version, id) in [
            (Version::V1_6_0, "2.16"),
            (Version::V1_7_0, "2.16"),
            (Version::V1_8_0, "2.17"),
        ] {
            let p = p.clone().for_benchmark(version).unwrap();
            assert_eq!(p.waivers.keys().collect::<Vec<_>>(), [id], "{version}");
            assert_eq!(p.item(id).unwrap().code, "userland-proxy-off");
        }
        let (_d, _, loaded) = load(
            "include: default\nwaivers:\n  - code: no-such-rule\n    reason: r\n    expires: 2999-12-31\n",
        );
        let err = loaded.unwrap_err().to_string();
        assert!(
            err.contains("waivers: no item has code `no-such-rule`"),
            "{err}"
        );
        let (_d, _, loaded) = load(
            "include: default\nwaivers:\n  - code: icc-off\n    id: \"2.2\"\n    reason: r\n    expires: 2999-12-31\n",
        );
        let err = loaded.unwrap_err().to_string();
        assert!(err.contains("an id or a code (not both)"), "{err}");
    }
}
