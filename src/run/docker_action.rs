//! The docker action a configuration change needs: a reload where dockerd reloads every key
//! that changed, else a restart.

use serde_json::{Map, Value};

use crate::plan::ServiceAction;

/// The docker action that puts `to` in effect in a daemon running with `from`, starting from
/// the `recorded` actions: a reload applies only the keys dockerd reloads, and only those the
/// file sets (moby's `Reload` leaves a setting alone when its key is gone), so a key removed or
/// a key dockerd does not reload needs a restart.
pub(super) fn docker_action_for(
    recorded: &[ServiceAction],
    from: &Map<String, Value>,
    to: &Map<String, Value>,
) -> Vec<ServiceAction> {
    let changed = from
        .keys()
        .chain(to.keys())
        .filter(|k| from.get(*k) != to.get(*k));
    let needs_restart = changed
        .clone()
        .any(|k| !to.contains_key(k) || !RELOADED_KEYS.contains(&k.as_str()));
    let mut actions: Vec<ServiceAction> = recorded.to_vec();
    if needs_restart && actions.contains(&ServiceAction::ReloadDocker) {
        actions.retain(|a| *a != ServiceAction::ReloadDocker);
        actions.push(ServiceAction::RestartDocker);
        actions.sort();
        actions.dedup();
    }
    actions
}

/// daemon.json keys dockerd applies on a reload (SIGHUP), when the file sets them (moby
/// daemon/reload.go and the platform runtimes).
const RELOADED_KEYS: &[&str] = &[
    "debug",
    "labels",
    "live-restore",
    "max-concurrent-downloads",
    "max-concurrent-uploads",
    "max-download-attempts",
    "shutdown-timeout",
    "insecure-registries",
    "registry-mirrors",
    "allow-nondistributable-artifacts",
    "features",
    "network-diagnostic-port",
    "runtimes",
    "default-runtime",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Map<String, Value> {
        crate::daemon_json::settings(Some(text.as_bytes()))
    }

    #[test]
    fn a_reload_cannot_take_a_key_away() {
        let reload = [ServiceAction::ReloadDocker];
        let on = json(r#"{"live-restore": true}"#);
        // Setting a reloadable key: a reload does it.
        assert_eq!(docker_action_for(&reload, &json("{}"), &on), reload);
        assert_eq!(
            docker_action_for(&reload, &json(r#"{"live-restore": false}"#), &on),
            reload
        );
        // Removing it: dockerd keeps the value until it restarts.
        assert_eq!(
            docker_action_for(&reload, &on, &json("{}")),
            [ServiceAction::RestartDocker]
        );
        // A key dockerd does not reload.
        assert_eq!(
            docker_action_for(&reload, &json("{}"), &json(r#"{"icc": false}"#)),
            [ServiceAction::RestartDocker]
        );
        // No docker action recorded: none added.
        assert_eq!(
            docker_action_for(&[ServiceAction::RestartRsyslog], &on, &json("{}")),
            [ServiceAction::RestartRsyslog]
        );
    }
}
