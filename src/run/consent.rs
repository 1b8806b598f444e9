//! Whether a docker restart stops running containers, and the leave it needs: never silently.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::facts::Facts;
use crate::plan::ServiceAction;

use super::host::{Console, Host};

/// Whether restarting docker stops containers, how many, and why. They are kept only when the
/// stopping daemon has live restore (on now, or turned on by a reload first where dockerd
/// allows it: not in swarm mode) and the daemon that starts has it too (one that starts without
/// it shuts down every container it finds alive).
pub(crate) fn containers_stopped_by_restart(
    facts: &Facts,
    actions: &[ServiceAction],
    next: &Map<String, Value>,
) -> Option<(u64, &'static str)> {
    let info = facts.daemon.engine_info()?;
    if !actions.contains(&ServiceAction::RestartDocker) || info.containers_running == 0 {
        return None;
    }
    if !next_live_restore(facts, info.live_restore, next) {
        return Some((
            info.containers_running,
            "the configuration docker restarts with has live restore off",
        ));
    }
    match (info.live_restore, info.swarm_active) {
        (true, _) | (false, false) => None,
        (false, true) => Some((
            info.containers_running,
            "this node is in swarm mode, where dockerd does not allow live restore",
        )),
    }
}

/// Whether a docker restart may stop running containers (where live restore cannot be on
/// first): never silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RestartConsent {
    /// `--allow-container-restart`, or the playbook's `allow_container_restart`.
    Allowed,
    /// Interactive: the operator is asked.
    Ask,
    /// Unattended without leave: refused, nothing written.
    Refused,
}

impl RestartConsent {
    pub(crate) fn unattended(allowed: bool) -> RestartConsent {
        if allowed {
            RestartConsent::Allowed
        } else {
            RestartConsent::Refused
        }
    }
}

/// Before anything is written: the restart would stop `count` running containers.
pub(super) fn consent_to_stop(
    host: &Host<'_>,
    console: &mut dyn Console,
    facts: &Facts,
    count: u64,
    why: &str,
    consent: RestartConsent,
) -> Result<()> {
    let socket = facts.instance.api_address(&facts.daemon.api_socket);
    let names: Vec<String> = host
        .engine
        .container_states(&socket)
        .map(|states| {
            states
                .into_iter()
                .filter(|c| c.running)
                .map(|c| c.name)
                .collect()
        })
        .unwrap_or_default();
    let names = if names.is_empty() {
        format!("{count} running")
    } else {
        names.join(", ")
    };
    match consent {
        RestartConsent::Allowed => {
            writeln!(
                console.out(),
                "restarting docker stops {count} running container(s) ({names}): {why}; allowed, so they are started again afterwards"
            )?;
            Ok(())
        }
        RestartConsent::Ask => {
            writeln!(
                console.out(),
                "restarting docker stops {count} running container(s) ({names}): {why}; they are started again afterwards"
            )?;
            match console.confirm("Restart docker anyway?")? {
                true => Ok(()),
                false => Err(Error::Usage(
                    "not applied: docker would stop running containers; nothing was written".into(),
                )),
            }
        }
        RestartConsent::Refused => Err(Error::WouldStopContainers {
            count: count as usize,
            names,
            why: why.to_string(),
        }),
    }
}

/// Whether the dockerd a restart starts has live restore: a flag's value stays (the running
/// one's), else what daemon.json `next` says, else dockerd's default, off.
pub(super) fn next_live_restore(facts: &Facts, running: bool, next: &Map<String, Value>) -> bool {
    if !facts.daemon.flags_for_key("live-restore").is_empty() {
        return running;
    }
    next.get("live-restore").and_then(Value::as_bool) == Some(true)
}
