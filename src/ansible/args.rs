//! The module's arguments: the raw JSON object Ansible writes, validated into a typed struct
//! before anything is read from the host, the way the CLI's flags become `Settings`.
//!
//! Ansible hands over task arguments as the playbook's YAML typed them, or as strings when
//! they come from `-a 'key=value'`; booleans and numbers are therefore accepted in both forms.

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::benchmark::Version;
use crate::error::{Error, Result};
use crate::playbook::{RawVariables, Source};

/// What the task asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Every selected fixable WARN item fixed (Ansible's usual "make it so" default).
    Fixed,
    /// Only judged: nothing is planned or written.
    Checked,
    /// A fix run undone from its backups.
    RolledBack,
}

/// The validated arguments.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ModuleArgs {
    pub(crate) state: State,
    pub(crate) only: Vec<String>,
    pub(crate) skip: Vec<String>,
    pub(crate) playbook: Source,
    pub(crate) variables: RawVariables,
    /// `None`: the live host (`root: /`).
    pub(crate) root: Option<PathBuf>,
    pub(crate) run_id: Option<String>,
    pub(crate) include_passing: bool,
    pub(crate) benchmark: Version,
    /// `system` or `rootless:USER`: the daemon fixed (`None`: the system daemon, or the only
    /// one found), as the CLI's --daemon.
    pub(crate) daemon: Option<String>,
    /// Roll back files that changed after the run.
    pub(crate) force: bool,
    pub(crate) health_timeout: u64,
    /// `_ansible_check_mode`: plan and report, write nothing.
    pub(crate) check_mode: bool,
    /// `_ansible_diff`: return the changes as Ansible diffs.
    pub(crate) diff: bool,
}

/// The arguments the module takes, for the message about an unknown one.
pub(crate) const KNOWN: &[&str] = &[
    "state",
    "only",
    "skip",
    "playbook",
    "playbook_content",
    "variables",
    "root",
    "run_id",
    "include_passing",
    "benchmark",
    "daemon",
    "force",
    "health_timeout",
];

/// The CLI's default for `--health-timeout`.
const DEFAULT_HEALTH_TIMEOUT: u64 = 120;

impl ModuleArgs {
    pub(crate) fn parse(raw: &Map<String, Value>) -> Result<ModuleArgs> {
        let mut args = ModuleArgs {
            state: State::Fixed,
            only: Vec::new(),
            skip: Vec::new(),
            playbook: Source::Default,
            variables: RawVariables::default(),
            root: None,
            run_id: None,
            include_passing: false,
            benchmark: Version::default(),
            daemon: None,
            force: false,
            health_timeout: DEFAULT_HEALTH_TIMEOUT,
            check_mode: false,
            diff: false,
        };
        let unknown: Vec<&str> = raw
            .keys()
            .map(String::as_str)
            .filter(|k| !k.starts_with("_ansible_") && !KNOWN.contains(k))
            .collect();
        if !unknown.is_empty() {
            return Err(Error::UnsupportedParameters {
                unknown: unknown.join(", "),
                known: KNOWN.join(", "),
            });
        }
        for (key, value) in raw {
            // An argument left out in a task with a variable (`only: "{{ x | default(omit) }}"`
            // aside) arrives as null: the default.
            if value.is_null() {
                continue;
            }
            match key.as_str() {
                "state" => {
                    args.state = match string(key, value)?.as_str() {
                        "fixed" => State::Fixed,
                        "checked" => State::Checked,
                        "rolled_back" => State::RolledBack,
                        other => {
                            return Err(Error::UnknownState {
                                state: other.into(),
                            });
                        }
                    }
                }
                "only" => args.only = selectors(key, value)?,
                "skip" => args.skip = selectors(key, value)?,
                "playbook" => {
                    if raw.get("playbook_content").is_some_and(|v| !v.is_null()) {
                        return Err(Error::PlaybookTwice);
                    }
                    args.playbook = Source::File(PathBuf::from(string(key, value)?));
                }
                "playbook_content" => args.playbook = Source::Text(string(key, value)?),
                "variables" => {
                    args.variables = serde_json::from_value(value.clone()).map_err(|e| {
                        Error::InvalidVariables {
                            message: e.to_string(),
                        }
                    })?;
                }
                "root" => {
                    let root = PathBuf::from(string(key, value)?);
                    if !root.is_absolute() {
                        return Err(Error::RelativeRoot { root });
                    }
                    // `/` is the live host; anything else is a root filesystem like --root.
                    args.root = (root != std::path::Path::new("/")).then_some(root);
                }
                "run_id" => args.run_id = Some(string(key, value)?),
                "include_passing" => args.include_passing = boolean(key, value)?,
                "benchmark" => {
                    args.benchmark = string(key, value)?.parse().map_err(Error::Usage)?
                }
                "daemon" => args.daemon = Some(string(key, value)?),
                "force" => args.force = boolean(key, value)?,
                "health_timeout" => args.health_timeout = integer(key, value)?,
                "_ansible_check_mode" => args.check_mode = boolean(key, value)?,
                "_ansible_diff" => args.diff = boolean(key, value)?,
                // Other versions of Ansible send other keys of their own.
                _ => {}
            }
        }
        Ok(args)
    }
}

fn string(key: &str, value: &Value) -> Result<String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        other => Err(wrong_type(key, "a string", other)),
    }
}

fn wrong_type(key: &str, expected: &'static str, value: &Value) -> Error {
    Error::WrongType {
        key: key.into(),
        expected,
        value: value.to_string(),
    }
}

/// Ansible's boolean spellings (its `boolean()` filter), as YAML or `key=value` give them.
fn boolean(key: &str, value: &Value) -> Result<bool> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(true),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(false),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "yes" | "on" | "true" | "1" | "y" | "t" => Ok(true),
            "no" | "off" | "false" | "0" | "n" | "f" => Ok(false),
            _ => Err(Error::NotBoolean {
                key: key.into(),
                value: s.clone(),
            }),
        },
        other => Err(wrong_type(key, "a boolean", other)),
    }
}

fn integer(key: &str, value: &Value) -> Result<u64> {
    let parsed = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| wrong_type(key, "a whole number of seconds", value))
}

/// Item IDs and sections, as a list or a comma-separated string. A YAML number is refused:
/// `2.10` would arrive as 2.1, another item.
fn selectors(key: &str, value: &Value) -> Result<Vec<String>> {
    let one = |v: &Value| -> Result<Vec<String>> {
        match v {
            Value::String(s) => Ok(s
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect()),
            Value::Number(n) if n.is_u64() => Ok(vec![n.to_string()]),
            Value::Number(n) => Err(Error::NumberAsItemId {
                key: key.into(),
                number: n.to_string(),
            }),
            other => Err(wrong_type(key, "item IDs as strings", other)),
        }
    };
    match value {
        Value::Array(items) => items.iter().try_fold(Vec::new(), |mut all, v| {
            all.extend(one(v)?);
            Ok(all)
        }),
        other => one(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> std::result::Result<ModuleArgs, String> {
        ModuleArgs::parse(v.as_object().unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults() {
        let a = parse(json!({})).unwrap();
        assert_eq!(a.state, State::Fixed);
        assert_eq!(a.playbook, Source::Default);
        assert_eq!(a.root, None);
        assert_eq!(a.benchmark, Version::V1_8_0);
        assert_eq!(a.health_timeout, 120);
        assert!(!a.check_mode && !a.diff && !a.include_passing && !a.force);
    }

    #[test]
    fn typed_values() {
        let a = parse(json!({
            "state": "rolled_back", "only": ["1.1.3", "2"], "skip": "2.10, 3",
            "root": "/srv/host", "run_id": "20240101T000000Z", "include_passing": "yes",
            "benchmark": "1.6.0", "force": true, "health_timeout": "30",
            "variables": {"userns_remap": "dockremap"},
            "playbook_content": "include: default\n",
            "_ansible_check_mode": true, "_ansible_diff": "True",
        }))
        .unwrap();
        assert_eq!(a.state, State::RolledBack);
        assert_eq!(a.only, ["1.1.3", "2"]);
        assert_eq!(a.skip, ["2.10", "3"]);
        assert_eq!(a.root, Some(PathBuf::from("/srv/host")));
        assert_eq!(a.run_id.as_deref(), Some("20240101T000000Z"));
        assert!(a.include_passing && a.force && a.check_mode && a.diff);
        assert_eq!(a.benchmark, Version::V1_6_0);
        assert_eq!(a.health_timeout, 30);
        assert_eq!(a.variables.userns_remap.as_deref(), Some("dockremap"));
        assert_eq!(a.playbook, Source::Text("include: default\n".into()));
    }

    #[test]
    fn slash_is_the_live_host() {
        assert_eq!(parse(json!({"root": "/"})).unwrap().root, None);
        assert!(parse(json!({"root": "srv"})).is_err());
    }

    #[test]
    fn ansible_keys_of_any_version_are_ignored_others_refused() {
        assert!(parse(json!({"_ansible_version": "2.19.14", "_ansible_future_thing": 1})).is_ok());
        let err = parse(json!({"state": "fixed", "sate": "x"})).unwrap_err();
        assert!(
            err.contains("Unsupported parameters for (docker_harden) module: sate."),
            "{err}"
        );
    }

    #[test]
    fn clear_errors_for_wrong_values() {
        let cases = [
            (
                json!({"state": "present"}),
                "state: `present` is not one of",
            ),
            (json!({"only": 2.1}), "only: 2.1 is a number"),
            (
                json!({"only": [true]}),
                "only: expected item IDs as strings",
            ),
            (
                json!({"include_passing": "maybe"}),
                "include_passing: `maybe` is not a boolean",
            ),
            (
                json!({"health_timeout": -1}),
                "health_timeout: expected a whole number",
            ),
            (
                json!({"benchmark": "1.9.0"}),
                "unknown benchmark version `1.9.0`",
            ),
            (
                json!({"variables": {"syslog_adress": "x"}}),
                "variables: unknown field `syslog_adress`",
            ),
            (
                json!({"playbook": "/p.yml", "playbook_content": "x: 1"}),
                "mutually exclusive",
            ),
        ];
        for (args, want) in cases {
            let err = parse(args.clone()).unwrap_err();
            assert!(err.contains(want), "{args}: {err}");
        }
    }

    #[test]
    fn integers_select_sections() {
        assert_eq!(
            parse(json!({"only": [2, "1.1"]})).unwrap().only,
            ["2", "1.1"]
        );
    }
}
