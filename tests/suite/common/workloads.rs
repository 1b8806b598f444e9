//! Containers, images and networks on a private dockerd (tests/suite/common/dockerd.rs), and
//! docker-harden's `check` run live against it through the real CLI parser: the report and the
//! Engine API requests the run made.

#![allow(dead_code)]

use clap::Parser;
use docker_harden::cli::flags::Cli;
pub use docker_harden::engine::RequestCounts;

use super::Run;
use super::dockerd::*;
use serde_json::json;

/// `docker-harden ARGS` (parsed by the real CLI) run live against the sandbox's dockerd: the
/// run and the requests the engine made.
pub fn harden(sandbox: &Sandbox, args: &[&str]) -> (Run, RequestCounts) {
    harden_with(live_settings(), sandbox, args)
}

/// `harden` with other settings (a root whose /proc shows no container, say).
pub fn harden_with(
    settings: docker_harden::settings::Settings,
    sandbox: &Sandbox,
    args: &[&str],
) -> (Run, RequestCounts) {
    let cli = Cli::try_parse_from(std::iter::once("docker-harden").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("docker-harden {args:?}: {e}"));
    let runner = recording_runner();
    let engine = sandbox.engine();
    let run = super::dispatch(&settings, &runner, &engine, &cli.command);
    assert!(run.code == 0 || run.code == 1, "check failed: {run:?}");
    assert_eq!(acting_calls(&runner), Vec::<String>::new(), "check acted");
    (run, engine.requests())
}

/// `check --format json` with these extra arguments.
pub fn check_json(sandbox: &Sandbox, extra: &[&str]) -> (Run, RequestCounts) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    harden(sandbox, &args)
}

/// A dockerd with the busybox image, and nothing else.
pub fn sandbox() -> Sandbox {
    let mut sandbox = Sandbox::new(json!({}));
    sandbox.start(Net::Host, &[]);
    sandbox.import_busybox();
    sandbox
}

/// `docker run -d --name NAME [--network none] EXTRA dh-busybox COMMAND`; returns the full ID.
pub fn run_container(sandbox: &Sandbox, name: &str, extra: &[&str], command: &[&str]) -> String {
    let mut args = vec!["run", "-d", "--stop-timeout", "1", "--name", name];
    if !extra.iter().any(|a| a.starts_with("--network")) {
        args.extend_from_slice(&["--network", "none"]);
    }
    args.extend_from_slice(extra);
    args.push("dh-busybox");
    args.extend_from_slice(command);
    sandbox.docker_ok(&args).trim().to_string()
}

pub const SLEEP: &[&str] = &["/bin/busybox", "sleep", "300"];

/// `docker create --name NAME --network none dh-busybox sleep 300`: created, not started.
pub fn create_sleeper(sandbox: &Sandbox, name: &str) -> String {
    let mut args = vec!["create", "--name", name, "--network", "none", "dh-busybox"];
    args.extend_from_slice(SLEEP);
    sandbox.docker_ok(&args).trim().to_string()
}

pub fn sleeper(sandbox: &Sandbox, name: &str, extra: &[&str]) -> String {
    run_container(sandbox, name, extra, SLEEP)
}

/// The containers (or images) an item's evidence names, one a line, sorted; a finding that
/// names any also says what to change.
pub fn offenders(run: &Run, id: &str) -> Vec<String> {
    let evidence = run.item(id)["evidence"].as_array().unwrap().clone();
    let lines: Vec<&str> = evidence.iter().map(|e| e.as_str().unwrap()).collect();
    if run.status(id) == "PASS" {
        assert!(
            run.item(id)["remediation"].is_null(),
            "{id}: a PASS with a fix"
        );
        return Vec::new();
    }
    let fix = run.remediation(id);
    assert!(!fix.is_empty(), "{id}: no remediation");
    let mut names: Vec<String> = lines
        .iter()
        .map(|l| {
            l.split_once(" (")
                .unwrap_or_else(|| panic!("{id}: {l:?} names no container"))
                .0
                .to_string()
        })
        .collect();
    names.sort();
    names
}

pub fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// Every name in `all` but those in `but`.
pub fn all_but(all: &[&str], but: &[&str]) -> Vec<String> {
    sorted(
        &all.iter()
            .copied()
            .filter(|n| !but.contains(n))
            .collect::<Vec<_>>(),
    )
}

/// Removes every container before dockerd stops (also when the test fails).
pub struct Cleanup<'a>(pub &'a Sandbox);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let ids = String::from_utf8(self.0.docker(&["ps", "-a", "-q"]).stdout).unwrap_or_default();
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(ids);
            let _ = self.0.docker(&args);
        }
    }
}

/// A sandbox whose dockerd a test restarts: it owns the sandbox so the test can stop and start
/// dockerd, and on drop removes every container with a dockerd answering. Containers kept
/// running by live-restore outlive a stopped dockerd, so if the test stopped it (and failed
/// before starting it again), dockerd is started once more to remove them; nothing here may
/// panic, since it runs while a failed test unwinds.
pub struct Restartable(pub Sandbox);

impl std::ops::Deref for Restartable {
    type Target = Sandbox;
    fn deref(&self) -> &Sandbox {
        &self.0
    }
}

impl std::ops::DerefMut for Restartable {
    fn deref_mut(&mut self) -> &mut Sandbox {
        &mut self.0
    }
}

impl Drop for Restartable {
    fn drop(&mut self) {
        let sandbox = &mut self.0;
        if sandbox.child.is_none() {
            let Ok(child) = sandbox
                .command(Net::Host, &[])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
            else {
                return;
            };
            sandbox.child = Some(child);
            let deadline = std::time::Instant::now() + READY_TIMEOUT;
            while !ping(&sandbox.socket()) && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        drop(Cleanup(sandbox));
    }
}

/// The PID of a running container's first process.
pub fn container_pid(sandbox: &Sandbox, name: &str) -> u32 {
    let pid = sandbox.docker_ok(&["inspect", "--format", "{{.State.Pid}}", name]);
    pid.trim()
        .parse()
        .unwrap_or_else(|e| panic!("{name}: pid {pid:?}: {e}"))
}

/// The `NoNewPrivs:` value of a process, from the host's /proc.
pub fn no_new_privs(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("NoNewPrivs:"))
        .unwrap_or_else(|| panic!("no NoNewPrivs line in /proc/{pid}/status:\n{status}"))
        .trim()
        .to_string()
}
