//! Running containers across a dockerd restart. Before the services are touched, the running
//! containers are noted; after docker restarts, each must still run: with live restore held,
//! the very same process (its PID unchanged); without it (a restart the operator allowed),
//! running again. One that does not is started again where it can be (a containerd task left
//! behind by the old daemon is reaped first), and named either way.

use crate::engine::{ContainerState, Engine};
use crate::error::{Error, Result};
use crate::runner::Runner;

/// The running containers before a restart, and whether live restore is to keep them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guard {
    pub(crate) running: Vec<ContainerState>,
    /// Live restore is on in the daemon running now.
    pub(crate) live_restore_on: bool,
    /// Live restore is on in the daemon the restart starts: one starting without it shuts down
    /// every container it finds alive (moby's `restore`), whatever the old daemon kept.
    pub(crate) next_keeps: bool,
    /// Containers already named as losing something the run takes away (their log receiver):
    /// their not starting again is reported, not a failure.
    pub(crate) expected_to_stop: Vec<String>,
    /// Enable live restore with a reload before the restart (the plan turns it on, and the
    /// running daemon has it off): dockerd applies `live-restore` on SIGHUP.
    pub(crate) live_restore_first: bool,
}

impl Guard {
    /// The running containers of `states`.
    pub fn new(
        states: Vec<ContainerState>,
        live_restore_on: bool,
        live_restore_first: bool,
        next_keeps: bool,
    ) -> Guard {
        Guard {
            running: states.into_iter().filter(|c| c.running).collect(),
            live_restore_on,
            live_restore_first,
            next_keeps,
            expected_to_stop: Vec::new(),
        }
    }
}

/// What became of one container that was running before the restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fate {
    /// The same process runs (live restore held).
    Kept,
    /// Running again after a restart that was allowed to stop it.
    Restarted,
    /// It did not survive: its name, what happened, and what was done.
    Lost(String),
}

/// Judges each container of `guard` against `after` (the states after the restart), starting
/// again the ones that stopped. `held` says whether live restore was on in the daemon that
/// stopped. Returns one line per container for the log, and the lost ones.
pub(crate) fn judge(
    guard: &Guard,
    after: &[ContainerState],
    held: bool,
    socket: &str,
    engine: &dyn Engine,
    runner: &dyn Runner,
) -> (Vec<String>, Vec<String>) {
    let mut log = Vec::new();
    let mut lost = Vec::new();
    for before in &guard.running {
        let label = format!("{} ({})", before.name, short(&before.id));
        let now = after.iter().find(|c| c.id == before.id);
        let fate = match now {
            None => Fate::Lost(format!("{label}: gone after the restart")),
            Some(c) if c.running && held && c.pid != before.pid => Fate::Lost(format!(
                "{label}: its process was replaced (pid {} is now {}): live restore did not keep it",
                before.pid, c.pid
            )),
            Some(c) if c.running && held => Fate::Kept,
            Some(c) if c.running => Fate::Restarted,
            Some(c) => {
                let started = start_again(&before.id, socket, engine, runner);
                let done = match &started {
                    Ok(()) => "started again".to_string(),
                    Err(e) => format!("could not be started again: {e}"),
                };
                match (held, started) {
                    // A restart the operator allowed: running again is what was asked for.
                    (false, Ok(())) => Fate::Restarted,
                    (_, Err(_)) if guard.expected_to_stop.contains(&before.id) => {
                        log.push(format!(
                            "container {label}: {} after the restart; {done} (as warned above)",
                            c.status
                        ));
                        continue;
                    }
                    _ => Fate::Lost(format!("{label}: {} after the restart; {done}", c.status)),
                }
            }
        };
        match fate {
            Fate::Kept => log.push(format!(
                "container {label} kept running (pid {})",
                before.pid
            )),
            Fate::Restarted => log.push(format!("container {label} runs again")),
            Fate::Lost(why) => {
                log.push(format!("container {why}"));
                lost.push(why);
            }
        }
    }
    (log, lost)
}

/// Starts a stopped container. dockerd 20.10 can leave the container's containerd task behind
/// when it force-stops it at shutdown; `docker start` then fails with "already exists" until
/// the stale task is deleted.
fn start_again(id: &str, socket: &str, engine: &dyn Engine, runner: &dyn Runner) -> Result<()> {
    match engine.start_container(socket, id) {
        Err(start) if start.to_string().contains("already exists") => {
            let reaped = runner.run(
                "ctr",
                &["--namespace", "moby", "task", "delete", "--force", id],
            );
            let reap = match reaped {
                Ok(out) if out.success => return Ok(engine.start_container(socket, id)?),
                Ok(out) => out.stderr.trim().to_string(),
                Err(reap) => reap.to_string(),
            };
            Err(Error::StaleTask { start, reap })
        }
        started => Ok(started?),
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineInfo;
    use crate::error::EngineError;
    use crate::runner::RecordingRunner;
    use std::sync::Mutex;

    fn state(id: &str, running: bool, pid: u32) -> ContainerState {
        ContainerState {
            id: id.into(),
            name: format!("c-{id}"),
            running,
            pid,
            status: if running { "running" } else { "exited (255)" }.into(),
            ..ContainerState::default()
        }
    }

    struct Starter {
        answer: Mutex<Vec<Result<(), EngineError>>>,
        started: Mutex<Vec<String>>,
    }

    impl Engine for Starter {
        fn info(&self, _: &str) -> Result<EngineInfo, EngineError> {
            Err(EngineError::NoSocket {
                socket: "unused".into(),
            })
        }
        fn start_container(&self, _: &str, id: &str) -> Result<(), EngineError> {
            self.started.lock().unwrap().push(id.into());
            self.answer.lock().unwrap().remove(0)
        }
    }

    fn starter(answers: Vec<Result<(), EngineError>>) -> Starter {
        Starter {
            answer: Mutex::new(answers),
            started: Mutex::new(Vec::new()),
        }
    }

    #[test]
    fn with_live_restore_the_same_process_must_run() {
        let guard = Guard::new(
            vec![
                state("a", true, 10),
                state("b", true, 11),
                state("z", false, 0),
            ],
            false,
            true,
            true,
        );
        assert_eq!(guard.running.len(), 2);
        let engine = starter(vec![Ok(())]);
        let runner = RecordingRunner::new();
        let after = [state("a", true, 10), state("b", true, 99)];
        let (log, lost) = judge(&guard, &after, true, "s", &engine, &runner);
        assert_eq!(log[0], "container c-a (a) kept running (pid 10)");
        assert_eq!(lost.len(), 1);
        assert!(lost[0].contains("pid 11 is now 99"), "{lost:?}");
    }

    #[test]
    fn a_stopped_container_is_started_again_and_still_named_when_it_should_have_been_kept() {
        let guard = Guard::new(vec![state("a", true, 10)], true, false, true);
        let engine = starter(vec![Ok(())]);
        let (_, lost) = judge(
            &guard,
            &[state("a", false, 0)],
            true,
            "s",
            &engine,
            &RecordingRunner::new(),
        );
        assert_eq!(
            lost,
            ["c-a (a): exited (255) after the restart; started again"]
        );
        assert_eq!(*engine.started.lock().unwrap(), ["a"]);
    }

    #[test]
    fn an_allowed_restart_only_needs_them_running_again() {
        let guard = Guard::new(
            vec![state("a", true, 10), state("b", true, 11)],
            false,
            false,
            false,
        );
        let engine = starter(vec![Ok(())]);
        let after = [state("a", true, 50), state("b", false, 0)];
        let (log, lost) = judge(&guard, &after, false, "s", &engine, &RecordingRunner::new());
        assert!(lost.is_empty(), "{lost:?}");
        assert_eq!(
            log,
            [
                "container c-a (a) runs again",
                "container c-b (b) runs again"
            ]
        );
    }

    #[test]
    fn a_stale_task_is_reaped_before_starting_again() {
        let guard = Guard::new(vec![state("a", true, 10)], false, false, false);
        let engine = starter(vec![
            Err(EngineError::Start {
                id: "a".into(),
                reason: "failed to create task for container: task a: already exists".into(),
            }),
            Ok(()),
        ]);
        let runner = RecordingRunner::new();
        let (_, lost) = judge(
            &guard,
            &[state("a", false, 0)],
            false,
            "s",
            &engine,
            &runner,
        );
        assert!(lost.is_empty(), "{lost:?}");
        assert_eq!(
            runner.calls(),
            ["ctr --namespace moby task delete --force a"]
        );
        assert_eq!(engine.started.lock().unwrap().len(), 2);
    }
}
