//! Pre-flight: before anything is written, refuse the fixes that would leave dockerd unable to
//! start. dockerd refuses a setting given both as a flag and in daemon.json, icc=false without
//! iptables, live-restore in swarm mode, and any daemon.json key it does not know (by the
//! known keys of its release; the run layer then asks dockerd 23+ itself, see [`KeyJudge`]).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::daemon_flags;
use crate::daemon_json;
use crate::engine_release::{FoundVersion, KeyTable, VersionSource, removal};
use std::path::{Path, PathBuf};

use crate::facts::Facts;
use crate::kinds::flag_move;
use crate::plan::{ItemPlan, Plan};

/// Keys docker-harden writes, with the first dockerd release that reads each from daemon.json.
const WRITTEN_KEYS_SINCE: &[(&str, (u32, u32))] = &[
    ("icc", (1, 10)),
    ("log-level", (1, 10)),
    ("log-driver", (1, 10)),
    ("log-opts", (1, 10)),
    ("userns-remap", (1, 10)),
    ("userland-proxy", (1, 10)),
    ("live-restore", (1, 12)),
    ("no-new-privileges", (17, 6)),
];

/// How the planned daemon.json is judged before it is written.
#[derive(Debug, Clone)]
pub(crate) enum KeyJudge {
    /// The engine itself: `BINARY --validate` with the flags dockerd starts with (23.0+, on the
    /// live host, for the system daemon). The run layer runs it once pre-flight has passed.
    Dockerd {
        binary: PathBuf,
        found: FoundVersion,
    },
    /// The daemon.json keys of the releases docker-harden was checked against.
    Table {
        table: KeyTable,
        found: FoundVersion,
    },
    /// No engine version was found: only the keys docker-harden writes are known.
    Unknown,
}

impl KeyJudge {
    /// The engine version the judgement is for.
    pub(crate) fn found(&self) -> Option<&FoundVersion> {
        match self {
            KeyJudge::Dockerd { found, .. } | KeyJudge::Table { found, .. } => Some(found),
            KeyJudge::Unknown => None,
        }
    }

    /// What the run record says about the validation.
    pub(crate) fn describe(&self) -> String {
        match self {
            KeyJudge::Dockerd { binary, found } => format!(
                "`{} --validate` (Docker {}) accepted the planned daemon.json",
                binary.display(),
                found.text
            ),
            KeyJudge::Table { table, found } => format!(
                "{} (the engine is {}, from {})",
                table.describe(),
                found.text,
                found.source
            ),
            KeyJudge::Unknown => {
                "no engine version found: only the keys docker-harden writes were checked".into()
            }
        }
    }
}

/// How this run's daemon.json is judged: by dockerd where it can validate a configuration and
/// may be run (the live host's system daemon, its own binary having told its version), else by
/// the known keys of the engine's release.
pub(crate) fn key_judge(facts: &Facts) -> KeyJudge {
    let Some(found) = facts.engine_version() else {
        return KeyJudge::Unknown;
    };
    if facts.live
        && facts.instance.rootless().is_none()
        && found.version.validates_config()
        && let VersionSource::Binary(binary) = &found.source
    {
        return KeyJudge::Dockerd {
            binary: binary.clone(),
            found: found.clone(),
        };
    }
    KeyJudge::Table {
        table: KeyTable::for_version(found.version),
        found,
    }
}

/// Why items cannot be applied safely; the rest of the plan can go ahead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Preflight {
    pub refused: BTreeMap<String, String>,
}

/// daemon.json keys an item's part of the plan adds or changes.
fn keys_changed(item: &ItemPlan, facts: &Facts) -> BTreeSet<String> {
    let path = &facts.daemon.config_file_resolved;
    let Some(change) = item.changes.iter().find(|c| &c.path == path) else {
        return BTreeSet::new();
    };
    let before = daemon_json::settings(change.before.content.as_deref());
    let after = daemon_json::settings(change.after.content.as_deref());
    after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect()
}

/// A file's text once the plan is applied.
fn planned_text(facts: &Facts, plan: &Plan, p: &Path) -> Option<String> {
    match plan.changes.iter().find(|c| c.path == p) {
        Some(c) => c
            .after
            .content
            .as_deref()
            .map(|b| String::from_utf8_lossy(b).into_owned()),
        None => facts.text(p),
    }
}

/// Words on dockerd's command line as planned that are neither flags nor flags' values:
/// dockerd accepts no arguments and refuses to start with any.
fn planned_stray_words(facts: &Facts, plan: &Plan) -> Vec<String> {
    if facts.daemon.service_unit.is_none() && facts.daemon.configured_flags.is_empty() {
        return Vec::new();
    }
    flag_move::args_at_next_start(facts, &|p: &Path| planned_text(facts, plan, p)).unparsed
}

/// Flags (with where they come from) dockerd will start with once the plan is applied.
pub(crate) fn planned_flags(facts: &Facts, plan: &Plan) -> Vec<(daemon_flags::Flag, String)> {
    let text_of = |p: &Path| planned_text(facts, plan, p);
    if facts.daemon.service_unit.is_none() && facts.daemon.configured_flags.is_empty() {
        // A daemon started by hand: its command line is all there is.
        return facts
            .daemon
            .running
            .iter()
            .flat_map(|r| r.flags.iter())
            .map(|f| (f.flag.clone(), f.source.to_string()))
            .collect();
    }
    let source = match &facts.daemon.service_unit {
        Some(_) => "dockerd's command line as planned".to_string(),
        None => "the init defaults file".to_string(),
    };
    let original: Vec<&crate::facts::SourcedFlag> = facts.daemon.configured_flags.iter().collect();
    flag_move::flags_at_next_start(facts, &text_of)
        .into_iter()
        .map(|flag| {
            // Name the file where the flag was found, when it was there before the plan.
            let from = original
                .iter()
                .find(|o| o.flag == flag)
                .map(|o| o.source.to_string())
                .unwrap_or_else(|| source.clone());
            (flag, from)
        })
        .collect()
}

/// iptables as dockerd will run with it, and where that comes from.
fn iptables(
    facts: &Facts,
    flags: &[(daemon_flags::Flag, String)],
    json: Option<&Map<String, Value>>,
) -> (bool, String) {
    if let Some((flag, source)) = flags.iter().rev().find(|(f, _)| f.name == "iptables") {
        let on = daemon_flags::parse_bool(&flag.value).unwrap_or(true);
        return (on, format!("{} on {source}", flag.raw));
    }
    match json
        .and_then(|j| j.get("iptables"))
        .and_then(Value::as_bool)
    {
        Some(on) => (
            on,
            format!(
                "\"iptables\": {on} in {}",
                facts.daemon.config_file.display()
            ),
        ),
        None => (true, "the default".into()),
    }
}

pub(crate) fn check(facts: &Facts, plan: &Plan) -> Preflight {
    let mut refused = BTreeMap::new();
    let final_json = plan
        .changes
        .iter()
        .find(|c| c.path == facts.daemon.config_file_resolved)
        .map(|c| daemon_json::settings(c.after.content.as_deref()));
    let engine = facts.daemon.engine_info();
    let judge = key_judge(facts);

    // Keys in conflict in the file as planned: restarting dockerd would fail whatever the item,
    // so no item that writes daemon.json may go ahead.
    let flags = planned_flags(facts, plan);
    let stray = planned_stray_words(facts, plan);
    let mut conflicts = Vec::new();
    if let Some(json) = &final_json {
        for key in json.keys() {
            for (flag, source) in flags
                .iter()
                .filter(|(f, _)| daemon_flags::json_key(&f.name) == Some(key.as_str()))
            {
                conflicts.push(format!(
                    "`{key}` is in daemon.json and {} is on {source}",
                    flag.raw
                ));
            }
        }
    }
    let unknown: Vec<String> = match (&final_json, &judge) {
        (Some(json), KeyJudge::Table { table, .. }) => {
            json.keys().filter(|k| !table.accepts(k)).cloned().collect()
        }
        _ => Vec::new(),
    };

    for item in &plan.items {
        let keys = keys_changed(item, facts);
        if keys.is_empty() {
            continue;
        }
        let mut reasons = Vec::new();
        if !stray.is_empty() {
            reasons.push(format!(
                "dockerd would not start: {} on its command line (dockerd accepts no arguments; a boolean flag takes its value as --flag=value)",
                stray
                    .iter()
                    .map(|w| if w.is_empty() {
                        "an empty argument".to_string()
                    } else {
                        format!("`{w}`")
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !conflicts.is_empty() {
            reasons.push(format!(
                "dockerd would not start: {} (a setting given twice); move or remove the flag first",
                conflicts.join("; ")
            ));
        }
        if keys.contains("icc")
            && final_json.as_ref().and_then(|j| j.get("icc")) == Some(&Value::Bool(false))
        {
            let (on, source) = iptables(facts, &flags, final_json.as_ref());
            if !on {
                reasons.push(format!(
                    "icc=false needs iptables, but iptables is off ({source}); dockerd would refuse to start"
                ));
            }
        }
        if keys.contains("live-restore") && engine.is_some_and(|e| e.swarm_active) {
            reasons.push("live-restore cannot be used while this node is in swarm mode; dockerd would refuse to start".into());
        }
        if let Some(found) = judge.found() {
            let v = found.version;
            for key in &keys {
                if let Some((_, since)) = WRITTEN_KEYS_SINCE.iter().find(|(k, _)| k == key)
                    && (v.major, v.minor) < *since
                {
                    reasons.push(format!(
                        "dockerd {} does not know `{key}` (needs {}.{} or newer)",
                        found.text, since.0, since.1
                    ));
                }
            }
        }
        if let (false, KeyJudge::Table { table, found }) = (unknown.is_empty(), &judge) {
            let removed: Vec<String> = unknown
                .iter()
                .filter_map(|k| {
                    let (d, v) = removal(k)?;
                    Some(format!(
                        "`{k}` was removed in {}.{}: use {}",
                        v.major, v.minor, d.instead
                    ))
                })
                .collect();
            reasons.push(format!(
                "daemon.json would hold key(s) dockerd {} does not know and refuses to start with: {} (by {}){}",
                found.text,
                unknown.join(", "),
                table.describe(),
                if removed.is_empty() {
                    String::new()
                } else {
                    format!("; {}", removed.join("; "))
                }
            ));
        }
        if !reasons.is_empty() {
            refused.insert(item.id.clone(), reasons.join("; "));
        }
    }
    for (path, reason) in users_files_refused(facts, plan) {
        for item in plan
            .items
            .iter()
            .filter(|i| i.changes.iter().any(|c| c.path == path))
        {
            refused
                .entry(item.id.clone())
                .and_modify(|r: &mut String| {
                    r.push_str("; ");
                    r.push_str(&reason);
                })
                .or_insert_with(|| reason.clone());
        }
    }
    Preflight { refused }
}

/// The changes made as a rootless daemon's user that the user could not make: the kernel
/// would refuse them anyway (they run with the user's privileges), but the reason is clearer
/// before anything is written. A file of the daemon that resolves outside the user's own
/// directories is a symlink the user planted; a file the user cannot own stays another's.
fn users_files_refused(facts: &Facts, plan: &Plan) -> Vec<(std::path::PathBuf, String)> {
    let Some(user) = facts.instance.rootless() else {
        return Vec::new();
    };
    let own_dirs: Vec<std::path::PathBuf> = [
        &user.home,
        &user.config_home,
        &user.data_home,
        &user.runtime_dir,
    ]
    .into_iter()
    .filter_map(|d| facts.rootfs.resolve(d).ok())
    .filter(|d| d != Path::new("/"))
    .collect();
    let mut out = Vec::new();
    for change in plan.changes.iter().filter(|c| c.as_user.is_some()) {
        if !own_dirs.iter().any(|d| change.path.starts_with(d)) {
            out.push((
                change.path.clone(),
                format!(
                    "{} is outside {}'s own directories (a symlink there leads to it); docker-harden writes the files of {}'s daemon as {} and only in {}'s directories",
                    change.path.display(),
                    user.name,
                    user.name,
                    user.name,
                    user.name
                ),
            ));
        } else if let Some((uid, gid)) = change.after.owner
            && (uid, gid) != (user.uid, user.gid)
        {
            out.push((
                change.path.clone(),
                format!(
                    "{} is owned by {}:{}, and {} cannot keep it another's: docker-harden changes the files of {}'s daemon as {}; give the file to {} first (its ownership item) or by hand",
                    change.path.display(),
                    uid,
                    gid,
                    user.name,
                    user.name,
                    user.name,
                    user.name
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine_release::RELEASES;

    #[test]
    fn written_keys_are_known_to_every_release() {
        for release in RELEASES {
            for (key, _) in WRITTEN_KEYS_SINCE {
                assert!(release.accepts(key), "{} {key}", release.name);
            }
        }
    }
}
