//! After dockerd restarts: wait, with a bound, until the unit is active, the API answers and the
//! new settings are in effect.

use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::engine::{Engine, EngineInfo};
use crate::error::{Error, Result};
use crate::runner::Runner;

/// What `docker info` must show once the planned daemon.json is in effect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    pub(crate) live_restore: Option<bool>,
    pub(crate) logging_driver: Option<String>,
    pub(crate) userns: Option<bool>,
}

impl Expected {
    /// From the daemon.json dockerd will read (settings given as flags are left to dockerd).
    pub(crate) fn from_json(json: &Map<String, Value>) -> Expected {
        Expected {
            live_restore: json.get("live-restore").and_then(Value::as_bool),
            logging_driver: json
                .get("log-driver")
                .and_then(Value::as_str)
                .map(str::to_string),
            userns: json
                .get("userns-remap")
                .and_then(Value::as_str)
                .map(|v| !v.is_empty()),
        }
    }

    /// What `docker info` must show after daemon.json changed from `before` to `after`: for
    /// each key the change touched that docker info reports, its value in `after`, or
    /// dockerd's default where `after` no longer sets it (unless a flag sets it: then the
    /// flag's value is dockerd's, whatever the file says).
    pub(crate) fn for_change(
        before: &Map<String, Value>,
        after: &Map<String, Value>,
        set_by_flag: &dyn Fn(&str) -> bool,
    ) -> Expected {
        let touched = |key: &str| before.get(key) != after.get(key) && !set_by_flag(key);
        let mut expected = Expected::from_json(after);
        if !touched("live-restore") {
            expected.live_restore = None;
        } else if expected.live_restore.is_none() {
            expected.live_restore = Some(false);
        }
        if !touched("log-driver") {
            expected.logging_driver = None;
        } else if expected.logging_driver.is_none() {
            expected.logging_driver = Some("json-file".into());
        }
        if !touched("userns-remap") {
            expected.userns = None;
        } else if expected.userns.is_none() {
            expected.userns = Some(false);
        }
        expected
    }

    /// What differs between the running daemon and this expectation.
    pub(crate) fn mismatches(&self, info: &EngineInfo) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(want) = self.live_restore
            && info.live_restore != want
        {
            out.push(format!(
                "live restore is {}, want {want}",
                info.live_restore
            ));
        }
        if let Some(want) = &self.logging_driver
            && &info.logging_driver != want
        {
            out.push(format!(
                "logging driver is {}, want {want}",
                info.logging_driver
            ));
        }
        if let Some(want) = self.userns
            && info.userns_enabled() != want
        {
            out.push(format!(
                "user namespaces are {}, want {}",
                on_off(info.userns_enabled()),
                on_off(want)
            ));
        }
        out
    }
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

/// Polls until dockerd is healthy with the expected settings, or `timeout` passes. `progress`
/// hears what is being waited for (a spinner on a terminal).
pub(crate) fn wait_for_docker(
    runner: &dyn Runner,
    engine: &dyn Engine,
    systemctl: &[String],
    socket: &str,
    expected: &Expected,
    timeout: Duration,
    progress: &dyn Fn(&str),
) -> Result<EngineInfo> {
    let start = Instant::now();
    loop {
        let (program, first) = systemctl.split_first().expect("a systemctl command line");
        let mut args: Vec<&str> = first.iter().map(String::as_str).collect();
        args.extend(["is-active", "docker"]);
        let state = runner
            .run(program, &args)
            .map(|o| o.stdout.trim().to_string())
            .unwrap_or_else(|e| e.to_string());
        let last = if state == "active" {
            match engine.info(socket) {
                Ok(info) => {
                    let wrong = expected.mismatches(&info);
                    if wrong.is_empty() {
                        return Ok(info);
                    }
                    format!("dockerd is up but {}", wrong.join(", "))
                }
                Err(e) => format!("the unit is active but the API does not answer: {e}"),
            }
        } else {
            format!("docker.service is {state}")
        };
        progress(&last);
        if start.elapsed() >= timeout {
            return Err(Error::NotHealthy {
                seconds: timeout.as_secs(),
                last,
            });
        }
        runner.pause(Duration::from_secs(1));
        // Tests answer without pausing; count their polls so the loop still ends.
        if start.elapsed() < Duration::from_millis(1) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// The last lines dockerd wrote to the journal, for the operator to see why it failed.
pub(crate) fn journal_tail(runner: &dyn Runner) -> String {
    match runner.run("journalctl", &["-u", "docker", "-n", "20", "--no-pager"]) {
        Ok(out) if out.success => out.stdout,
        Ok(out) => format!("(journalctl failed: {})", out.stderr.trim()),
        Err(e) => format!("(no journal: {e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Map<String, Value> {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_key_the_change_removes_is_expected_at_dockerds_default() {
        let no_flags = |_: &str| false;
        let e = Expected::for_change(
            &json(r#"{"live-restore": true, "log-driver": "syslog", "icc": false}"#),
            &json("{}"),
            &no_flags,
        );
        assert_eq!(e.live_restore, Some(false));
        assert_eq!(e.logging_driver.as_deref(), Some("json-file"));
        assert_eq!(e.userns, None, "untouched");
    }

    #[test]
    fn only_the_keys_the_change_touches_are_expected() {
        let no_flags = |_: &str| false;
        let e = Expected::for_change(
            &json(r#"{"log-driver": "journald"}"#),
            &json(r#"{"log-driver": "journald", "live-restore": true}"#),
            &no_flags,
        );
        assert_eq!(e.live_restore, Some(true));
        assert_eq!(e.logging_driver, None);
        // A key a flag sets is the flag's.
        let flagged = |k: &str| k == "live-restore";
        let e = Expected::for_change(&json("{}"), &json(r#"{"live-restore": true}"#), &flagged);
        assert_eq!(e.live_restore, None);
    }
}
