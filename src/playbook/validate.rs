//! The raw playbook validated into the typed one the checks use: variables, items (each
//! kind's spec through the registry), codes, skips, enabled items and waivers.

use std::collections::{BTreeMap, BTreeSet};

use super::raw::{RawItem, RawPlaybook, RawRootless};
use super::{DEFAULT_SYSLOG_ADDRESS, Playbook, Waiver, catalogue};
use crate::benchmark::Version;
use crate::error::{Error, Result};
use crate::kinds::{Item, Kind, LoadContext, Rootless};
use crate::vocabulary::{Target, Variables};

pub(super) fn invalid(source: &str, message: String) -> Error {
    Error::Playbook {
        path: source.to_string(),
        message,
    }
}

pub(super) fn validate(source: String, raw: RawPlaybook) -> Result<Playbook> {
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
        items.push(Item {
            id,
            code: catalogue::code(&source, &raw_item)?,
            benchmarks: catalogue::versions(&source, &raw_item)?,
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
    catalogue::check_unique_codes(&source, &items)?;

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
        // A waiver by code holds under every --benchmark, as one by (v1.6.0) ID does.
        let (name, ids) = match (waiver.id, waiver.code) {
            (Some(id), None) => {
                let ids = playbook
                    .select(std::slice::from_ref(&id))
                    .map_err(|e| invalid(&source, format!("waivers: {e}")))?;
                (id, ids)
            }
            (None, Some(code)) => {
                let ids = catalogue::item_with_code(&playbook.items, &code).ok_or_else(|| {
                    invalid(&source, format!("waivers: no item has code `{code}`"))
                })?;
                (code, ids)
            }
            _ => {
                return Err(invalid(
                    &source,
                    "waivers: give each waiver an id or a code (not both)".into(),
                ));
            }
        };
        let expires: jiff::civil::Date = waiver.expires.parse().map_err(|e| {
            invalid(
                &source,
                format!(
                    "waivers: item {name}: expires `{}` is not a date (YYYY-MM-DD): {e}",
                    waiver.expires
                ),
            )
        })?;
        if waiver.reason.trim().is_empty() {
            return Err(invalid(
                &source,
                format!("waivers: item {name}: a waiver needs a reason"),
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
pub(super) fn is_userns_remap(value: &str) -> bool {
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
pub(super) fn item_kind(source: &str, vars: &Variables, item: &RawItem) -> Result<Kind> {
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
