//! Playbooks: which items run, with which parameters and fixers. The default playbook is YAML
//! embedded in the binary; an operator's playbook can include it and override it. The YAML is
//! read strictly (unknown keys, wrong types and YAML 1.1 booleans like `no` are errors) into a
//! raw form, then validated into the typed form the checks use.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::benchmark::{self, Selection, Version};
use crate::error::{Error, Result};
use crate::kinds::{Item, ItemKind, Kind, LoadContext, Rootless, kind_registry};
pub use crate::vocabulary::{SyslogAddress, SyslogEndpoint, SyslogTransport, Target, Variables};

pub const DEFAULT_PLAYBOOK_NAME: &str = "default";
const DEFAULT_PLAYBOOK: &str = include_str!("../playbooks/cis-docker-1.6.0.yml");
const MAX_INCLUDE_DEPTH: usize = 8;
/// Where container logs go when the playbook does not say: the local rsyslog.
const DEFAULT_SYSLOG_ADDRESS: &str = "tcp://127.0.0.1:514";
/// How errors name a playbook given as text.
const TEXT_SOURCE: &str = "playbook_content";

// ---------------------------------------------------------------------------------------------
// Raw form, exactly as written.

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlaybook {
    include: Option<String>,
    name: Option<String>,
    benchmark: Option<String>,
    #[serde(default)]
    variables: RawVariables,
    #[serde(default)]
    items: Vec<RawItem>,
    #[serde(default)]
    skip: Vec<String>,
    #[serde(default)]
    enable: Vec<String>,
    #[serde(default)]
    waivers: Vec<RawWaiver>,
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
    fn overlay(self, top: RawVariables) -> RawVariables {
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
        struct RawItem {
            id: String,
            legacy_id: Option<String>,
            title: String,
            why: String,
            /// What to change when the item is not compliant (report-only items; fixable ones
            /// point at `docker-harden fix`).
            remediation: Option<String>,
            /// The benchmark versions the item belongs to, and its ID in each; absent: every
            /// version, numbered as v1.6.0 numbers `id`.
            benchmarks: Option<BTreeMap<String, String>>,
            disruptive: Option<String>,
            /// How the item changes for a rootless daemon, when it does beyond its paths.
            rootless: Option<RawRootless>,
            $($key: Option<<$spec as ItemKind>::Raw>,)*
        }

        impl RawItem {
            /// The kinds the item gives, typed in registry order.
            fn kinds(&self, load: &LoadContext<'_>) -> Result<Vec<Kind>> {
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
struct RawRootless {
    not_applicable: Option<String>,
    by_design: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    id: String,
    reason: String,
    expires: String,
}

// ---------------------------------------------------------------------------------------------
// Typed form.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    pub reason: String,
    pub expires: jiff::civil::Date,
}

#[derive(Debug, Clone)]
pub struct Playbook {
    pub name: String,
    /// The benchmark version whose IDs the items carry (a file's are v1.6.0's until
    /// `for_benchmark` renumbers them).
    pub benchmark: Version,
    /// Where it came from: "built-in default" or a file path.
    pub source: String,
    pub variables: Variables,
    pub items: Vec<Item>,
    /// Disruptive items the playbook allows `fix --yes` to apply.
    pub enabled: BTreeSet<String>,
    pub waivers: BTreeMap<String, Waiver>,
}

impl Playbook {
    pub fn default_playbook() -> Result<Playbook> {
        Playbook::load(None)
    }

    /// Loads the operator's playbook, or the built-in default when `path` is `None`.
    pub fn load(path: Option<&Path>) -> Result<Playbook> {
        let source = match path {
            None => Source::Default,
            Some(p) => Source::File(p.to_path_buf()),
        };
        Playbook::load_source(&source, RawVariables::default())
    }

    /// Loads a playbook from `source` with `overrides` on top of its variables (they replace
    /// the playbook's before any `${name}` is substituted).
    pub fn load_source(source: &Source, overrides: RawVariables) -> Result<Playbook> {
        let (name, mut raw) = match source {
            Source::Default => ("built-in default".to_string(), resolve_includes_default()?),
            Source::File(p) => (p.display().to_string(), read_with_includes(p, 0)?),
            Source::Text(text) => {
                let name = TEXT_SOURCE.to_string();
                let raw = parse_raw(&name, text)?;
                (name, resolve_include(raw, Path::new("."), 0)?)
            }
        };
        raw.variables = std::mem::take(&mut raw.variables).overlay(overrides);
        validate(name, raw)
    }

    /// The playbook as benchmark `version` numbers it: items that version does not have are
    /// left out, the others carry its IDs (and so do the enabled items and the waivers).
    pub fn for_benchmark(mut self, version: Version) -> Result<Playbook> {
        let from = self.benchmark;
        let mut renamed: BTreeMap<String, String> = BTreeMap::new();
        let mut items = Vec::new();
        for mut item in std::mem::take(&mut self.items) {
            let id = match &item.benchmarks {
                Some(map) => match map.get(&version) {
                    Some(id) => id.clone(),
                    None => continue,
                },
                None if from == Version::V1_6_0 => version.translate(&item.id),
                None => item.id.clone(),
            };
            if let Some(other) = renamed.iter().find(|(_, new)| **new == id) {
                return Err(invalid(
                    &self.source,
                    format!(
                        "items {} and {} are both {id} in benchmark {version}",
                        other.0, item.id
                    ),
                ));
            }
            renamed.insert(item.id.clone(), id.clone());
            item.id = id;
            items.push(item);
        }
        let rename = |id: &String| renamed.get(id).cloned();
        self.enabled = self.enabled.iter().filter_map(rename).collect();
        self.waivers = std::mem::take(&mut self.waivers)
            .into_iter()
            .filter_map(|(id, w)| rename(&id).map(|id| (id, w)))
            .collect();
        self.items = items;
        self.benchmark = version;
        Ok(self)
    }

    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    /// Expands selector tokens (IDs, legacy IDs, sections) to item IDs of this playbook.
    pub fn select(&self, tokens: &[String]) -> Result<BTreeSet<String>> {
        let ids: Vec<&str> = self.items.iter().map(|i| i.id.as_str()).collect();
        let mut out = BTreeSet::new();
        for token in tokens {
            for part in token.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                out.extend(self.select_one(part, &ids)?);
            }
        }
        Ok(out)
    }

    fn select_one(&self, token: &str, ids: &[&str]) -> Result<Vec<String>> {
        match benchmark::interpret(token, self.benchmark, ids) {
            Some(Selection::Item(id)) => {
                if ids.contains(&id.as_str()) {
                    Ok(vec![id])
                } else {
                    Err(Error::Selector(format!(
                        "item {id}{} has no check in playbook {}",
                        if id == token {
                            String::new()
                        } else {
                            format!(" (legacy ID {token})")
                        },
                        self.name
                    )))
                }
            }
            Some(Selection::Section(section)) => {
                let prefix = format!("{section}.");
                let matched: Vec<String> = ids
                    .iter()
                    .filter(|id| id.starts_with(&prefix))
                    .map(|id| id.to_string())
                    .collect();
                if matched.is_empty() {
                    Err(Error::Selector(format!(
                        "section {section} has no items in playbook {}",
                        self.name
                    )))
                } else {
                    Ok(matched)
                }
            }
            None => Err(Error::Selector(format!(
                "unknown item ID or section `{token}` (use `docker-harden list` to see the IDs)"
            ))),
        }
    }
}

fn parse_raw(source: &str, text: &str) -> Result<RawPlaybook> {
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

fn resolve_includes_default() -> Result<RawPlaybook> {
    parse_raw("built-in default playbook", DEFAULT_PLAYBOOK)
}

fn read_with_includes(path: &Path, depth: usize) -> Result<RawPlaybook> {
    if depth > MAX_INCLUDE_DEPTH {
        return Err(Error::Playbook {
            path: path.display().to_string(),
            message: "includes nest too deeply (a loop?)".into(),
        });
    }
    let text = crate::input::read_text_file(path)?;
    let raw = parse_raw(&path.display().to_string(), &text)?;
    resolve_include(raw, path.parent().unwrap_or(Path::new(".")), depth)
}

/// `raw` on top of what it includes; a relative include is relative to `dir`.
fn resolve_include(raw: RawPlaybook, dir: &Path, depth: usize) -> Result<RawPlaybook> {
    let base = match raw.include.as_deref() {
        None => return Ok(raw),
        Some(DEFAULT_PLAYBOOK_NAME) => resolve_includes_default()?,
        Some(other) => {
            let included = PathBuf::from(other);
            let included = if included.is_absolute() {
                included
            } else {
                dir.join(included)
            };
            read_with_includes(&included, depth + 1)?
        }
    };
    Ok(overlay(base, raw))
}

/// The operator's playbook on top of what it includes: variables override one by one, items
/// with the same ID replace, new items are appended, lists of skips, enables and waivers add up.
fn overlay(mut base: RawPlaybook, top: RawPlaybook) -> RawPlaybook {
    base.name = top.name.or(base.name);
    base.benchmark = top.benchmark.or(base.benchmark);
    base.variables = base.variables.overlay(top.variables);
    for item in top.items {
        match base.items.iter_mut().find(|i| i.id == item.id) {
            Some(existing) => *existing = item,
            None => base.items.push(item),
        }
    }
    base.skip.extend(top.skip);
    base.enable.extend(top.enable);
    base.waivers.extend(top.waivers);
    base
}

fn invalid(source: &str, message: String) -> Error {
    Error::Playbook {
        path: source.to_string(),
        message,
    }
}

fn validate(source: String, raw: RawPlaybook) -> Result<Playbook> {
    let vars = Variables {
        syslog_address: match raw.variables.syslog_address {
            Some(address) => address,
            None => DEFAULT_SYSLOG_ADDRESS
                .parse()
                .expect("the default syslog address is valid"),
        },
        userns_remap: raw
            .variables
            .userns_remap
            .unwrap_or_else(|| "default".into()),
        audit_key: raw.variables.audit_key.unwrap_or_else(|| "docker".into()),
        extra_audit_paths: raw.variables.extra_audit_paths.unwrap_or_default(),
        allow_container_restart: raw.variables.allow_container_restart.unwrap_or(false),
    };
    if vars.audit_key.is_empty() || vars.audit_key.chars().any(char::is_whitespace) {
        return Err(invalid(
            &source,
            format!("variables.audit_key: `{}` must be one word", vars.audit_key),
        ));
    }
    // auditctl refuses a key longer than this (AUDIT_MAX_KEY_LEN), and with it the rules file.
    if vars.audit_key.len() > 256 {
        return Err(invalid(
            &source,
            "variables.audit_key: longer than the 256 characters auditctl takes".into(),
        ));
    }
    if !is_userns_remap(&vars.userns_remap) {
        return Err(invalid(
            &source,
            format!(
                "variables.userns_remap: `{}` is not `default` or USER[:GROUP] (names or numeric IDs)",
                vars.userns_remap
            ),
        ));
    }
    for p in &vars.extra_audit_paths {
        if !p.starts_with('/') || p.chars().any(char::is_whitespace) {
            return Err(invalid(
                &source,
                format!(
                    "variables.extra_audit_paths: `{p}` must be an absolute path without spaces"
                ),
            ));
        }
    }

    let mut items = Vec::new();
    let mut seen = BTreeSet::new();
    for raw_item in raw.items {
        let id = raw_item.id.clone();
        if !seen.insert(id.clone()) {
            return Err(invalid(&source, format!("items: item {id} appears twice")));
        }
        let kind = item_kind(&source, &vars, &raw_item)?;
        // An extra-paths item with nothing listed has nothing to judge: leave it out.
        if matches!(&kind, Kind::Audit(a) if a.target == Target::ExtraPaths)
            && vars.extra_audit_paths.is_empty()
        {
            continue;
        }
        let benchmarks = match raw_item.benchmarks {
            None => None,
            Some(map) => Some(
                map.into_iter()
                    .map(|(version, id)| {
                        version.parse::<Version>().map(|v| (v, id)).map_err(|e| {
                            invalid(
                                &source,
                                format!("items: item {}: benchmarks: {e}", raw_item.id),
                            )
                        })
                    })
                    .collect::<Result<BTreeMap<Version, String>>>()?,
            ),
        };
        items.push(Item {
            id,
            benchmarks,
            legacy_id: raw_item.legacy_id,
            title: raw_item.title,
            why: raw_item.why.trim().to_string(),
            remediation: raw_item.remediation.map(|r| r.trim().to_string()),
            disruptive: raw_item.disruptive.map(|d| d.trim().to_string()),
            rootless: match raw_item.rootless {
                None => None,
                Some(RawRootless {
                    not_applicable: Some(why),
                    by_design: None,
                }) => Some(Rootless::NotApplicable(why.trim().to_string())),
                Some(RawRootless {
                    not_applicable: None,
                    by_design: Some(how),
                }) => Some(Rootless::ByDesign(how.trim().to_string())),
                Some(_) => {
                    return Err(invalid(
                        &source,
                        format!(
                            "items: item {}: rootless: give exactly one of not_applicable or by_design",
                            raw_item.id
                        ),
                    ));
                }
            },
            kind,
        });
    }

    let mut playbook = Playbook {
        name: raw.name.unwrap_or_else(|| "unnamed".into()),
        benchmark: match raw.benchmark.as_deref() {
            None | Some("1.6.0") => Version::V1_6_0,
            Some(other) => {
                return Err(invalid(
                    &source,
                    format!(
                        "benchmark: `{other}`: playbooks number their items as v1.6.0 does; choose the numbering reports use with --benchmark"
                    ),
                ));
            }
        },
        source: source.clone(),
        variables: vars,
        items,
        enabled: BTreeSet::new(),
        waivers: BTreeMap::new(),
    };
    let skipped = playbook
        .select(&raw.skip)
        .map_err(|e| invalid(&source, format!("skip: {e}")))?;
    playbook.enabled = playbook
        .select(&raw.enable)
        .map_err(|e| invalid(&source, format!("enable: {e}")))?;
    for waiver in raw.waivers {
        let ids = playbook
            .select(std::slice::from_ref(&waiver.id))
            .map_err(|e| invalid(&source, format!("waivers: {e}")))?;
        let expires: jiff::civil::Date = waiver.expires.parse().map_err(|e| {
            invalid(
                &source,
                format!(
                    "waivers: item {}: expires `{}` is not a date (YYYY-MM-DD): {e}",
                    waiver.id, waiver.expires
                ),
            )
        })?;
        if waiver.reason.trim().is_empty() {
            return Err(invalid(
                &source,
                format!("waivers: item {}: a waiver needs a reason", waiver.id),
            ));
        }
        for id in ids {
            playbook.waivers.insert(
                id,
                Waiver {
                    reason: waiver.reason.trim().to_string(),
                    expires,
                },
            );
        }
    }
    playbook.items.retain(|i| !skipped.contains(&i.id));
    Ok(playbook)
}

/// dockerd's `userns-remap` forms: `default`, or a user and optionally a group, each a name
/// or a numeric ID.
fn is_userns_remap(value: &str) -> bool {
    let name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    };
    match value.split_once(':') {
        Some((user, group)) => name(user) && name(group),
        None => name(value),
    }
}

/// The one kind the item gives, typed.
fn item_kind(source: &str, vars: &Variables, item: &RawItem) -> Result<Kind> {
    let load = LoadContext {
        source,
        id: &item.id,
        vars,
    };
    let mut kinds = item.kinds(&load)?;
    match kinds.len() {
        1 => Ok(kinds.remove(0)),
        0 => Err(load.invalid(format!("needs one of {}", Kind::KEYS.join(", ")))),
        _ => Err(invalid(
            source,
            format!(
                "items: item {} has more than one of {}",
                item.id,
                Kind::KEYS.join(", ")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("playbook.yml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn default_playbook_is_valid() {
        let p = Playbook::default_playbook().unwrap();
        assert!(p.item("1.1.3").is_some());
        assert!(p.item("extra.audit").is_none(), "no extra paths by default");
        assert_eq!(p.variables.audit_key, "docker");
        match &p.item("2.9").unwrap().kind {
            Kind::DaemonSetting(d) => assert_eq!(d.want, Value::String("default".into())),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn default_playbook_checks_every_benchmark_item_in_order() {
        for version in Version::ALL {
            let p = Playbook::default_playbook()
                .and_then(|p| p.for_benchmark(version))
                .unwrap();
            let ids: Vec<String> = p.items.iter().map(|i| i.id.clone()).collect();
            assert_eq!(ids, version.ids(), "{version}: one item per ID, in order");
            assert_eq!(p.benchmark, version);
        }
        let p = Playbook::default_playbook()
            .and_then(|p| p.for_benchmark(Version::V1_6_0))
            .unwrap();
        let ids: Vec<&str> = p.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            ids,
            crate::benchmark::V1_6_0_IDS,
            "one item per benchmark ID, in order"
        );
    }

    #[test]
    fn operator_playbook_overrides_default() {
        let (_d, path) = write(
            "include: default\nvariables:\n  userns_remap: dockremap\n  extra_audit_paths: [/opt/bin/dctl]\nskip: [\"3\", \"1.5\"]\nenable: [\"2.9\"]\nwaivers:\n  - id: \"2.16\"\n    reason: needed by the legacy app\n    expires: 2099-01-31\n",
        );
        let p = Playbook::load(Some(&path)).unwrap();
        assert!(p.item("3.1").is_none());
        assert!(p.item("extra.audit").is_some());
        assert!(p.enabled.contains("2.9"));
        assert!(p.item("1.1.3").is_none(), "legacy 1.5 is 1.1.3");
        assert_eq!(p.waivers["2.16"].reason, "needed by the legacy app");
        match &p.item("2.9").unwrap().kind {
            Kind::DaemonSetting(d) => assert_eq!(d.want, Value::String("dockremap".into())),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn text_source_with_variable_overrides() {
        let text = "include: default\nvariables:\n  userns_remap: fromtext\n  audit_key: site\n";
        let overrides = RawVariables {
            userns_remap: Some("dockremap".into()),
            ..RawVariables::default()
        };
        let p = Playbook::load_source(&Source::Text(text.into()), overrides).unwrap();
        assert_eq!(p.source, "playbook_content");
        assert_eq!(
            p.variables.audit_key, "site",
            "the text's own variable stays"
        );
        match &p.item("2.9").unwrap().kind {
            Kind::DaemonSetting(d) => assert_eq!(d.want, Value::String("dockremap".into())),
            other => panic!("{other:?}"),
        }
        let overrides = RawVariables {
            audit_key: Some("two words".into()),
            ..RawVariables::default()
        };
        let err = Playbook::load_source(&Source::Default, overrides)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("audit_key: `two words` must be one word"),
            "{err}"
        );
    }

    #[test]
    fn text_source_errors_name_it_and_the_line() {
        let err = Playbook::load_source(
            &Source::Text("include: default\nskip: 2.2\n".into()),
            RawVariables::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("playbook_content:2:"), "{err}");
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let (_d, path) = write("include: default\nvariables:\n  syslog_adress: tcp://x:514\n");
        let err = Playbook::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("playbook.yml:3:"), "{err}");
        assert!(err.contains("syslog_adress"), "{err}");
    }

    #[test]
    fn yaml_1_1_booleans_are_not_booleans() {
        let (_d, path) = write(
            "items:\n  - id: \"2.2\"\n    title: t\n    why: w\n    daemon_setting: { key: icc, want: no, default: true, apply: restart }\n",
        );
        // `no` stays the string "no", which is not what icc wants: load, then check the value.
        let p = Playbook::load(Some(&path)).unwrap();
        match &p.item("2.2").unwrap().kind {
            Kind::DaemonSetting(d) => assert_eq!(d.want, Value::String("no".into())),
            other => panic!("{other:?}"),
        }
        let (_d2, path2) =
            write("include: default\nwaivers:\n  - id: \"2.2\"\n    reason: x\n    expires: no\n");
        assert!(Playbook::load(Some(&path2)).is_err());
    }

    #[test]
    fn wrong_type_is_an_error() {
        let (_d, path) = write("include: default\nskip: 2.2\n");
        let err = Playbook::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("playbook.yml:2:"), "{err}");
        assert!(err.contains("skip"), "{err}");
    }

    #[test]
    fn syslog_addresses_dockerd_refuses_are_refused() {
        // dockerd 20.10 refuses to start with each of these (measured), or could not connect.
        for bad in [
            "tcp//127.0.0.1:514",
            "TCP://127.0.0.1:514",
            " tcp://127.0.0.1:514",
            "127.0.0.1:514",
            "ftp://x:1",
            "tcp://host:abc",
            "tcp://",
            "tcp://:514",
            "tcp://127.0.0.1:0",
            "tcp://127.0.0.1:99999",
            "udp://::1:514",
            "udp://[::1",
            "tcp://127.0.0.1:514/path",
            "unix://dev/log",
            "",
        ] {
            let err = bad.parse::<SyslogAddress>().unwrap_err();
            assert!(
                err.contains("is not an address Docker's syslog"),
                "{bad}: {err}"
            );
        }
        for (good, transport, endpoint) in [
            (
                "tcp://127.0.0.1:514",
                SyslogTransport::Tcp,
                SyslogEndpoint::Net {
                    host: "127.0.0.1".into(),
                    port: 514,
                },
            ),
            (
                "tcp://localhost/",
                SyslogTransport::Tcp,
                SyslogEndpoint::Net {
                    host: "localhost".into(),
                    port: 514,
                },
            ),
            (
                "udp://[::1]:1514",
                SyslogTransport::Udp,
                SyslogEndpoint::Net {
                    host: "::1".into(),
                    port: 1514,
                },
            ),
            (
                "tcp+tls://logs.example.com:6514",
                SyslogTransport::TcpTls,
                SyslogEndpoint::Net {
                    host: "logs.example.com".into(),
                    port: 6514,
                },
            ),
            (
                "unix:///dev/log",
                SyslogTransport::Unix,
                SyslogEndpoint::Socket("/dev/log".into()),
            ),
        ] {
            let a: SyslogAddress = good.parse().unwrap();
            assert_eq!(
                (a.as_str(), a.transport, &a.endpoint),
                (good, transport, &endpoint)
            );
        }
    }

    #[test]
    fn playbook_variables_are_typed_at_load() {
        let (_d, path) =
            write("include: default\nvariables:\n  syslog_address: \"tcp//127.0.0.1:514\"\n");
        let err = Playbook::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("playbook.yml:3:"), "{err}");
        assert!(
            err.contains("syslog_address: `tcp//127.0.0.1:514` is not an address"),
            "{err}"
        );
        let (_d, path) = write("include: default\nvariables:\n  userns_remap: \"a b\"\n");
        let err = Playbook::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("userns_remap: `a b` is not"), "{err}");
        let p = Playbook::default_playbook().unwrap();
        assert_eq!(p.variables.syslog_address.as_str(), "tcp://127.0.0.1:514");
        match &p.item("2.13").unwrap().kind {
            Kind::RemoteLogging(r) => assert!(r.address.is_local()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn selectors() {
        let p = Playbook::default_playbook().unwrap();
        let s = p.select(&["1.5".into(), "3".into()]).unwrap();
        assert!(s.contains("1.1.3"));
        assert!(s.contains("3.24"));
        assert!(!s.contains("2.2"));
        assert!(p.select(&["8.1".into()]).is_err());
        assert!(p.select(&["banana".into()]).is_err());
    }
}
