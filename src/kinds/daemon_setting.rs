//! One daemon.json key (CIS 2.x): judged from the effective configuration (flags win over
//! nothing: a key given both ways stops dockerd), and on the live host from the running daemon.

use super::{ItemKind, LoadContext};
use crate::vocabulary::Variables;
use serde::Deserialize;
use serde_json::Value;

use super::{FixOutcome, Verdict, docker_missing, flag_move, userns};
use crate::daemon_flags;
use crate::daemon_json;
use crate::error::{Error, Result};
use crate::facts::{Facts, SourcedFlag};
use crate::plan::{ServiceAction, Workspace};

/// How a changed daemon setting takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Apply {
    /// dockerd re-reads it on SIGHUP.
    Reload,
    /// dockerd must restart.
    Restart,
}

#[derive(Debug, Clone)]
pub struct DaemonSettingSpec {
    pub key: String,
    pub want: Value,
    /// What dockerd uses when the key is set nowhere.
    pub default: Value,
    pub apply: Apply,
    /// Any value other than the default complies (userns-remap names a user of the operator's
    /// choosing); `want` is what the fix writes.
    pub any_value: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDaemonSetting {
    key: String,
    want: Value,
    default: Value,
    apply: Apply,
    #[serde(default)]
    any_value: bool,
}

/// daemon.json is world-readable on every distribution; it holds no secrets of its own.
pub(crate) const DAEMON_JSON_MODE: u32 = 0o644;

/// A flag's text value in the JSON type the playbook wants, so `--icc=false` equals `false`.
pub(crate) fn coerce(value: &str, like: &Value) -> Value {
    match like {
        Value::Bool(_) => daemon_flags::parse_bool(value)
            .map(Value::Bool)
            .unwrap_or_else(|| Value::String(value.into())),
        Value::Number(_) => value
            .parse::<serde_json::Number>()
            .map(Value::Number)
            .unwrap_or_else(|_| Value::String(value.into())),
        _ => Value::String(value.into()),
    }
}

pub(crate) fn show(value: &Value) -> String {
    match value {
        Value::String(s) if s.is_empty() => "unset".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn flag_list(flags: &[&SourcedFlag]) -> String {
    flags
        .iter()
        .map(|f| format!("{} ({})", f.flag.raw, f.source))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The setting as dockerd will see it at its next start, and where that comes from.
pub(crate) fn configured(facts: &Facts, key: &str, default: &Value) -> (Value, String) {
    let flags = facts.daemon.flags_for_key(key);
    if let Some(last) = flags.last() {
        return (
            coerce(&last.flag.value, default),
            format!("{} on {}", last.flag.raw, last.source),
        );
    }
    match facts.daemon.json_value(key) {
        Some(v) => (
            v.clone(),
            format!("in {}", facts.daemon.config_file.display()),
        ),
        None => (default.clone(), "not set: dockerd's default".into()),
    }
}

/// A boolean flag for `key` written with its value after a space (`--icc false`): dockerd
/// takes the word as an argument and refuses to start.
pub(crate) fn stray_value(facts: &Facts, key: &str) -> Option<String> {
    let (raw, word, source) = flag_move::stray_bool_value(facts, key)?;
    Some(format!(
        "dockerd refuses to start: `{word}` after `{raw}` ({source}) is a stray word, since a boolean flag takes no separate value (\"accepts no argument(s)\"); `{raw}={word}` is the flag with that value"
    ))
}

/// A key given both as a flag and in daemon.json makes dockerd refuse to start.
pub(crate) fn conflict(facts: &Facts, key: &str) -> Option<String> {
    let flags = facts.daemon.flags_for_key(key);
    (facts.daemon.json_value(key).is_some() && !flags.is_empty()).then(|| {
        format!(
            "{key} is set both in {} and as {}: dockerd refuses to start with a setting given twice",
            facts.daemon.config_file.display(),
            flag_list(&flags)
        )
    })
}

fn compliant(spec: &DaemonSettingSpec, value: &Value) -> bool {
    if spec.any_value {
        value != &spec.default && value != &Value::String(String::new())
    } else {
        value == &spec.want
    }
}

/// Whether the running daemon has the value, where that can be told; `None` when unknown.
fn in_effect(spec: &DaemonSettingSpec, facts: &Facts) -> Option<bool> {
    if let Some(info) = facts.daemon.engine_info() {
        match spec.key.as_str() {
            "live-restore" => return Some(Value::Bool(info.live_restore) == spec.want),
            "userns-remap" => return Some(info.userns_enabled()),
            _ => {}
        }
    }
    let running = facts.daemon.running_flags_for_key(&spec.key);
    if let Some(last) = running.last() {
        return Some(compliant(spec, &coerce(&last.flag.value, &spec.default)));
    }
    facts.daemon.running.as_ref()?;
    if facts.daemon.json_value(&spec.key).is_some() && facts.daemon.json_newer_than_daemon() {
        return Some(false);
    }
    None
}

pub(crate) fn check(spec: &DaemonSettingSpec, facts: &Facts) -> Verdict {
    if let Some(v) = docker_missing(facts) {
        return v;
    }
    if let Some(message) = stray_value(facts, &spec.key) {
        return Verdict::warn(message);
    }
    if let Some(message) = conflict(facts, &spec.key) {
        return Verdict::warn(message);
    }
    let (value, source) = configured(facts, &spec.key, &spec.default);
    let key = &spec.key;
    if !compliant(spec, &value) {
        return Verdict::warn(format!(
            "{key} is {} ({source}); want {}",
            show(&value),
            show(&spec.want)
        ));
    }
    if facts.live && in_effect(spec, facts) == Some(false) {
        return Verdict::pending(format!(
            "{key} is {} ({source}) but the running dockerd does not use it yet: pending restart",
            show(&value)
        ));
    }
    Verdict::pass(format!("{key} is {} ({source})", show(&value)))
}

pub(crate) fn action_for(apply: Apply) -> ServiceAction {
    match apply {
        Apply::Reload => ServiceAction::ReloadDocker,
        Apply::Restart => ServiceAction::RestartDocker,
    }
}

/// Sets keys in the workspace's daemon.json, keeping everything else.
pub(crate) fn edit_daemon_json(
    facts: &Facts,
    ws: &mut Workspace,
    edit: impl FnOnce(&mut serde_json::Map<String, Value>),
) -> Result<bool> {
    let path = facts.daemon.config_file_resolved.clone();
    let current = ws.text(&path);
    let new_text = daemon_json::edit(current.as_deref(), edit).map_err(|e| Error::InvalidJson {
        path: facts.daemon.config_file.clone(),
        line: e.line,
        column: e.column,
        message: e.message,
    })?;
    if current.as_deref() == Some(new_text.as_str()) {
        return Ok(false);
    }
    ws.write_daemon_file(&path, new_text, DAEMON_JSON_MODE);
    Ok(true)
}

pub(crate) fn fix(
    spec: &DaemonSettingSpec,
    facts: &Facts,
    ws: &mut Workspace,
) -> Result<FixOutcome> {
    if !facts.daemon.installed {
        return Ok(FixOutcome::blocked("dockerd is not installed"));
    }
    let flags = facts.daemon.flags_for_key(&spec.key);
    let (value, _) = configured(facts, &spec.key, &spec.default);
    let stray = stray_value(facts, &spec.key).is_some();
    if !flags.is_empty()
        && (!compliant(spec, &value) || conflict(facts, &spec.key).is_some() || stray)
    {
        // dockerd refuses a setting given twice: take it off the command line first.
        let moved = match flag_move::plan(facts, ws, &spec.key) {
            Ok(action) => action,
            Err(reason) => return Ok(FixOutcome::blocked(reason)),
        };
        let left = facts
            .daemon
            .json_value(&spec.key)
            .cloned()
            .unwrap_or_else(|| spec.default.clone());
        if !compliant(spec, &left) {
            let (key, want) = (spec.key.clone(), spec.want.clone());
            edit_daemon_json(facts, ws, |map| {
                map.insert(key, want);
            })?;
        }
        let mut outcome = FixOutcome::action(ServiceAction::RestartDocker);
        outcome.actions.extend(moved);
        return Ok(outcome);
    }
    if !compliant(spec, &value) {
        if spec.key == "userns-remap" {
            // dockerd refuses to start without subordinate IDs for the remapped user.
            if let Err(reason) = userns::plan(facts, ws, spec.want.as_str().unwrap_or("default")) {
                return Ok(FixOutcome::blocked(reason.to_string()));
            }
        }
        let (key, want) = (spec.key.clone(), spec.want.clone());
        edit_daemon_json(facts, ws, |map| {
            map.insert(key, want);
        })?;
        return Ok(FixOutcome::action(action_for(spec.apply)));
    }
    if facts.live && in_effect(spec, facts) == Some(false) {
        return Ok(FixOutcome::action(action_for(spec.apply)));
    }
    Ok(FixOutcome::default())
}

impl ItemKind for DaemonSettingSpec {
    type Raw = RawDaemonSetting;

    fn from_raw(raw: RawDaemonSetting, load: &LoadContext<'_>) -> Result<DaemonSettingSpec> {
        Ok(DaemonSettingSpec {
            want: load.substitute_value(raw.want)?,
            default: raw.default,
            key: raw.key,
            apply: raw.apply,
            any_value: raw.any_value,
        })
    }
    fn check(&self, facts: &Facts) -> Verdict {
        check(self, facts)
    }
    fn fix(&self, facts: &Facts, _: &Variables, ws: &mut Workspace) -> Result<FixOutcome> {
        fix(self, facts, ws)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::facts::builder::FactsBuilder;
    use crate::kinds::Status;

    /// CIS 2.2: no traffic between containers on the default bridge.
    fn icc() -> DaemonSettingSpec {
        DaemonSettingSpec {
            key: "icc".into(),
            want: json!(false),
            default: json!(true),
            apply: Apply::Restart,
            any_value: false,
        }
    }

    #[test]
    fn a_key_set_as_wanted_passes() {
        let facts = FactsBuilder::new().daemon_json(r#"{"icc": false}"#).build();
        let verdict = check(&icc(), &facts);
        assert_eq!(verdict.status, Status::Pass, "{:?}", verdict.evidence);
        assert_eq!(
            verdict.evidence,
            ["icc is false (in /etc/docker/daemon.json)"]
        );
    }

    #[test]
    fn a_key_left_to_dockerds_default_warns() {
        let facts = FactsBuilder::new().daemon_json("{}").build();
        let verdict = check(&icc(), &facts);
        assert_eq!(verdict.status, Status::Warn);
        assert_eq!(
            verdict.evidence,
            ["icc is true (not set: dockerd's default); want false"]
        );
    }

    #[test]
    fn a_flag_wins_over_dockerds_default() {
        let facts = FactsBuilder::new()
            .unit("[Service]\nExecStart=/usr/bin/dockerd -H fd:// --icc=false\n")
            .build();
        let verdict = check(&icc(), &facts);
        assert_eq!(verdict.status, Status::Pass, "{:?}", verdict.evidence);
        assert_eq!(
            verdict.evidence,
            ["icc is false (--icc=false on ExecStart in /lib/systemd/system/docker.service)"]
        );
    }

    #[test]
    fn a_key_set_both_ways_warns_that_dockerd_refuses_to_start() {
        let facts = FactsBuilder::new()
            .daemon_json(r#"{"icc": false}"#)
            .unit("[Service]\nExecStart=/usr/bin/dockerd -H fd:// --icc=false\n")
            .build();
        let verdict = check(&icc(), &facts);
        assert_eq!(verdict.status, Status::Warn);
        assert_eq!(
            verdict.evidence,
            [
                "icc is set both in /etc/docker/daemon.json and as --icc=false (ExecStart in /lib/systemd/system/docker.service): dockerd refuses to start with a setting given twice"
            ]
        );
    }

    #[test]
    fn without_dockerd_nothing_is_judged_or_fixed() {
        let facts = FactsBuilder::new().without_dockerd().build();
        assert_eq!(check(&icc(), &facts).status, Status::Info);
        let mut ws = Workspace::new(&facts);
        let outcome = fix(&icc(), &facts, &mut ws).unwrap();
        assert_eq!(outcome.blocked.as_deref(), Some("dockerd is not installed"));
        assert!(ws.changes().is_empty());
    }

    #[test]
    fn the_fix_adds_the_key_keeps_the_others_and_restarts_dockerd() {
        let facts = FactsBuilder::new()
            .daemon_json("{\n  \"log-level\": \"info\"\n}\n")
            .build();
        let mut ws = Workspace::new(&facts);
        let outcome = fix(&icc(), &facts, &mut ws).unwrap();
        assert_eq!(
            outcome.actions,
            BTreeSet::from([ServiceAction::RestartDocker])
        );
        let text = ws.text(Path::new("/etc/docker/daemon.json")).unwrap();
        let json = daemon_json::parse(&text).unwrap();
        assert_eq!(json.get("icc"), Some(&json!(false)));
        assert_eq!(json.get("log-level"), Some(&json!("info")));
        assert_eq!(ws.changes().len(), 1);
    }
}
