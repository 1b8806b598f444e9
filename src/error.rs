//! The one error type: every failure the tool reports, with its message and exit code.

use std::path::PathBuf;

/// Exit code for a clean run (no WARN).
pub(crate) const EXIT_CLEAN: i32 = 0;
/// Exit code when findings (WARN items, pending changes) remain.
pub(crate) const EXIT_FINDINGS: i32 = 1;
/// Exit code for any error.
pub(crate) const EXIT_ERROR: i32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}:{line}:{column}: not valid JSON: {message}")]
    InvalidJson {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    InvalidFile { path: PathBuf, message: String },
    #[error("{path}: invalid playbook: {message}")]
    Playbook { path: String, message: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: symlink to {target} leads out of the root {root}; refusing to follow it")]
    SymlinkEscape {
        path: PathBuf,
        target: PathBuf,
        root: PathBuf,
    },
    #[error(
        "another docker-harden run is in progress (lock {path} is held{holder}); try again when it has finished"
    )]
    Locked { path: PathBuf, holder: String },
    #[error(
        "`fix` asks before each change and needs a terminal; run `docker-harden diff` to preview, or `docker-harden fix --yes` to apply unattended"
    )]
    NoTerminal,
    #[error("{0}")]
    Selector(String),
    #[error("rollback of run {run} refused: {reason}")]
    Rollback { run: String, reason: String },
    #[error("`{command}` failed: {message}")]
    Command { command: String, message: String },
    #[error("dockerd did not come back: {message}")]
    DockerDown { message: String },
    #[error(
        "{cause}\ndocker-harden rolled back run {run}: its files are restored and {restarted}.\nThe last lines of dockerd's journal:\n{journal}"
    )]
    RolledBack {
        cause: String,
        run: String,
        restarted: String,
        journal: String,
    },
    #[error("{0}")]
    Usage(String),
    #[error(
        "refusing `{command}`: the Docker engine in use is {address} ({origin}), not this host's daemon, and `{command}` works on this host's files.\nTo use this host's daemon, {hint}. To harden that engine's host, run docker-harden there; --root DIR works on an offline root filesystem."
    )]
    RemoteEngine {
        command: String,
        address: String,
        origin: String,
        hint: String,
    },
    #[error(
        "Docker context \"{name}\" ({named_by}) does not exist: there is no {path}; `docker context ls` lists the contexts"
    )]
    UnknownContext {
        name: String,
        named_by: String,
        path: PathBuf,
    },
    #[error("interactive prompt failed: {0}")]
    Prompt(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(
        "{path} is a symlink (in a place where docker-harden expects a real {expected}); refusing to follow it: {why}"
    )]
    SymlinkRefused {
        path: PathBuf,
        expected: &'static str,
        why: &'static str,
    },
    #[error("{path}: expected a regular file, found {found}")]
    NotRegularFile { path: PathBuf, found: &'static str },
    #[error("{path}: {size} bytes, more than the {limit} bytes docker-harden reads from one file")]
    FileTooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error(
        "{cause}\ndocker-harden undid run {run}: every file it had written is back as it was, and nothing else changed"
    )]
    ApplyUndone { cause: String, run: String },
    #[error(
        "{cause}\ndocker-harden could NOT undo all of run {run}: {undo}\nEvery file is at its state before or after the run; `docker-harden rollback {run}` puts them all back once the cause is mended"
    )]
    ApplyHalfDone {
        cause: String,
        run: String,
        undo: String,
    },
    #[error(
        "run {run} was interrupted while applying (killed, or the machine went down), so some of its files may be written and some not; `{command} rollback {run}` puts every file back as it was, then run `{command} {next}` again"
    )]
    Interrupted {
        run: String,
        command: String,
        next: String,
    },
    #[error(
        "{path} holds a JSON object but not an Ansible module's arguments: it lacks {missing}, which Ansible passes to every module it runs. docker-harden takes a lone file argument only as the args file Ansible hands its modules; nothing was done. To audit this host run `docker-harden check`, to fix it `docker-harden fix` (`docker-harden --help` lists the commands)"
    )]
    NotModuleArgs { path: PathBuf, missing: String },
    #[error(
        "cannot write to {stream}: {source}; the run went on to its end, but its output from there on is lost"
    )]
    Stream {
        stream: &'static str,
        source: std::io::Error,
    },
    #[error(
        "after docker restarted (run {run}), running containers did not all keep running:\n  {lost}\nThe new configuration is in effect and dockerd is healthy; it stays, since undoing it would restart docker again"
    )]
    ContainersLost { run: String, lost: String },
    #[error(
        "restarting docker would stop {count} running container(s) ({names}): {why}; nothing was written. Run it on a terminal to be asked, or pass --allow-container-restart (playbook: `allow_container_restart: true`) to let them be stopped and started again"
    )]
    WouldStopContainers {
        count: usize,
        names: String,
        why: String,
    },
    #[error(
        "after rsyslog's restart, tcp port {port} is open at {opened}, not only at {host} where dockerd sends: the configuration this run wrote opened a listener wider than its one client needs, so docker was not restarted"
    )]
    SyslogListenerWide {
        port: u16,
        host: String,
        opened: String,
    },
    // Why a run's record cannot be read (records.rs): shown beside the run in
    // `rollback --list`, and as the reason a rollback of it is refused.
    #[error("not a directory")]
    RunNotADirectory,
    #[error("no manifest.json (a run stopped before it changed any file leaves this)")]
    ManifestMissing,
    #[error("manifest.json is damaged: {0}")]
    ManifestDamaged(serde_json::Error),
    #[error("manifest.json names run {named}, not the directory's own")]
    ManifestOfAnotherRun { named: String },

    // The seams to the outside world, the health check and the Ansible module's arguments:
    // what used to travel as bare strings.
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("{start}; reaping its stale task failed: {reap}")]
    StaleTask { start: EngineError, reap: String },
    #[error("dockerd was not healthy within {seconds}s: {last}")]
    NotHealthy { seconds: u64, last: String },
    #[error("`{pattern}`: label:KEY=VALUE needs a key")]
    LabelWithoutKey { pattern: String },
    #[error("an empty pattern matches no container name")]
    EmptyPattern,
    #[error(
        "Unsupported parameters for (docker_harden) module: {unknown}. Supported parameters include: {known}."
    )]
    UnsupportedParameters { unknown: String, known: String },
    #[error("state: `{state}` is not one of fixed, checked, rolled_back")]
    UnknownState { state: String },
    #[error("playbook and playbook_content are mutually exclusive: give one")]
    PlaybookTwice,
    #[error("variables: {message}")]
    InvalidVariables { message: String },
    #[error("root: `{root}` must be an absolute path")]
    RelativeRoot { root: PathBuf },
    #[error("{key}: expected {expected}, got {value}")]
    WrongType {
        key: String,
        expected: &'static str,
        value: String,
    },
    #[error("{key}: `{value}` is not a boolean")]
    NotBoolean { key: String, value: String },
    #[error(
        "{key}: {number} is a number, and a number loses digits (2.10 is 2.1); quote item IDs: \"{number}\""
    )]
    NumberAsItemId { key: String, number: String },
}

/// Why the Docker Engine API did not answer as asked. Apart from `Error` because the engine's
/// answers are kept and handed out again (the facts, a fixed engine), so it is `Clone`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("cannot connect to {socket}: {reason}")]
    Connect { socket: String, reason: String },
    #[error("Docker API at {socket} did not answer: {reason}")]
    NoAnswer { socket: String, reason: String },
    #[error("Docker API at {socket} timed out")]
    TimedOut { socket: String },
    /// `request` names what was asked: "info", "container list", "inspect of image ID"...
    #[error("Docker API {request} failed: {reason}")]
    Request { request: String, reason: String },
    #[error("{address} is not a local Unix socket; docker-harden inspects the local daemon only")]
    NotLocal { address: String },
    #[error("no Docker API socket at {socket}")]
    NoSocket { socket: String },
    #[error("cannot start the async runtime: {reason}")]
    Runtime { reason: String },
    #[error("cannot start container {id}: {reason}")]
    Start { id: String, reason: String },
    #[error("cannot start container {id}: this engine cannot")]
    CannotStart { id: String },
}

/// Why an external command could not be started at all (not installed, not executable).
/// `Clone`, as `EngineError`, for a scripted runner that gives the same answer again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("cannot run {program}: {reason}")]
    NotStarted { program: String, reason: String },
    /// A scripted runner's answer (tests), said as given.
    #[error("{0}")]
    Scripted(String),
}

impl Error {
    /// Every error exits 2, so scripts can tell "findings" (1) from "could not run" (2).
    pub fn exit_code(&self) -> i32 {
        EXIT_ERROR
    }
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;
