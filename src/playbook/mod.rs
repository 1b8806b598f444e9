//! Playbooks: which items run, with which parameters and fixers. The default playbook is YAML
//! embedded in the binary; an operator's playbook can include it and override it. The YAML is
//! read strictly (unknown keys, wrong types and YAML 1.1 booleans like `no` are errors) into a
//! raw form, then validated into the typed form the checks use.

mod catalogue;
mod includes;
mod raw;
#[cfg(test)]
mod tests;
mod validate;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::benchmark::{self, Selection, Version};
use crate::error::{Error, Result};
use crate::kinds::Item;
use crate::vocabulary::Variables;
use includes::{read_with_includes, resolve_include, resolve_includes_default};
use raw::parse_raw;
pub use raw::{RawVariables, Source};
use validate::{invalid, validate};

pub const DEFAULT_PLAYBOOK_NAME: &str = "default";
const DEFAULT_PLAYBOOK: &str = include_str!("../../playbooks/cis-docker-1.6.0.yml");
const MAX_INCLUDE_DEPTH: usize = 8;
/// Where container logs go when the playbook does not say: the local rsyslog.
const DEFAULT_SYSLOG_ADDRESS: &str = "tcp://127.0.0.1:514";
/// How errors name a playbook given as text.
const TEXT_SOURCE: &str = "playbook_content";

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
        let mut renamed: BTreeMap<String, String> = BTreeMap::new();
        let mut items = Vec::new();
        for mut item in std::mem::take(&mut self.items) {
            let id = match &item.benchmarks {
                Some(map) => match map.get(&version) {
                    Some(id) => id.clone(),
                    None => continue,
                },
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
        match benchmark::interpret(token, catalogue::numbering(self.benchmark), ids) {
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
