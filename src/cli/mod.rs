//! Entry point: parse flags once, run one command, map the result to an exit code; or, run as
//! an Ansible module, answer the module's arguments.

pub mod flags;

use std::ffi::OsString;
use std::io::{ErrorKind, Write};

use clap::{CommandFactory, FromArgMatches};

use crate::ansible;
use crate::commands::{self, Env};
use crate::endpoint::{self, Endpoint};
use crate::error::{EXIT_CLEAN, EXIT_ERROR, Error, Result};
use crate::playbook::{RawVariables, Source};
use crate::plugin;
use crate::settings::{self, Settings};
use crate::shell;

use flags::{Cli, Command};

pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let mut args: Vec<OsString> = args.into_iter().collect();
    let mut command = Cli::command();
    // Ansible runs a binary module as `<binary> <args file>`: answer in JSON, not as the CLI.
    match ansible::invocation(&args, &command) {
        Ok(Some(raw)) => return ansible::run(raw),
        Ok(None) => {}
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "docker-harden: error: {e}");
            return e.exit_code();
        }
    }
    // docker asks every installed plugin for this whenever it lists commands; it must answer
    // at once, as any user, whatever the host's state.
    if plugin::is_metadata_request(&args) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", plugin::metadata()).and_then(|_| out.flush());
        return EXIT_CLEAN;
    }
    let mut invoked_as = settings::BIN_NAME;
    if plugin::run_by_docker()
        && let Some(translated) = plugin::translate(&args)
    {
        args = translated;
        command = command.bin_name(plugin::BIN_NAME);
        invoked_as = plugin::BIN_NAME;
    }
    let parsed = command
        .try_get_matches_from_mut(args)
        .and_then(|mut matches| {
            Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut command))
        });
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                EXIT_ERROR
            } else {
                EXIT_CLEAN
            };
        }
    };
    let stdout = std::io::stdout();
    let mut out = Stream::new(stdout.lock(), "standard output");
    // Not locked for the whole run: the health check's spinner draws on stderr from its own
    // thread, and a held lock would deadlock it. The spinner draws only on a terminal and
    // ignores its own write errors, so a closed stderr cannot stop it either.
    let mut err = Stream::new(std::io::stderr(), "standard error");
    let result = without_settings(&cli.command, &mut out).unwrap_or_else(|| {
        settings_from(&cli).and_then(|settings| {
            let settings = settings.invoked_as(invoked_as);
            commands::system::on_the_host(&settings, &mut out, &mut err, |env| {
                dispatch(env, &cli.command)
            })
        })
    });
    let _ = out.flush();
    let mut code = match result {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "docker-harden: error: {e}");
            e.exit_code()
        }
    };
    // The run is over and earned its code; a stream that failed otherwise than by being
    // closed lost output someone was keeping (a full disk behind `>`), which makes it an error.
    for lost in [out.take_failure(), err.take_failure()]
        .into_iter()
        .flatten()
    {
        let _ = writeln!(err, "docker-harden: error: {lost}");
        code = lost.exit_code();
    }
    code
}

/// Runs `completions` and `man`, which need no settings (no root, no playbook, no engine);
/// `None` for every other command.
fn without_settings(command: &Command, out: &mut dyn Write) -> Option<Result<i32>> {
    match command {
        Command::Completions(args) => {
            Some(shell::completions(&mut Cli::command(), args.shell, out))
        }
        Command::Man(args) => Some(shell::man(Cli::command(), args.command.as_deref(), out)),
        _ => None,
    }
}

/// The settings the global flags ask for.
fn settings_from(cli: &Cli) -> Result<Settings> {
    // Under --root no engine is asked, so the client's contexts are not read either. Asked
    // before the root and the playbook are read, so a run with two faults reports the same one
    // it always has.
    let engine = if cli.root.is_none() && cli.command.asks_engine() {
        endpoint::Choice {
            context: cli.context.clone(),
            host: cli.docker_host.clone(),
            config_dir: cli.docker_config.clone(),
            env: endpoint::ClientEnv::from_process(),
        }
        .resolve()?
    } else {
        Endpoint::local()
    };
    let playbook = match &cli.playbook {
        Some(path) => Source::File(path.clone()),
        None => Source::Default,
    };
    Ok(Settings::new(
        cli.root.as_deref(),
        &playbook,
        RawVariables::default(),
        cli.benchmark,
    )?
    .with_colour(cli.color)
    .with_daemon(cli.daemon.clone())
    .with_engine(engine))
}

/// A standard stream whose failure never cuts a run short. The first write error is kept and
/// everything after it is dropped as if written, so the command goes on to its end (files,
/// services, health check, run record) and returns the exit code it earned: a `fix --yes |
/// head -n 1` must not stop between writing /etc and restarting the services. A reader that
/// went away (EPIPE) is not a failure of the run, as with ripgrep; any other error is reported
/// when the run is over.
struct Stream<W> {
    inner: W,
    name: &'static str,
    failure: Option<std::io::Error>,
}

impl<W: Write> Stream<W> {
    fn new(inner: W, name: &'static str) -> Stream<W> {
        Stream {
            inner,
            name,
            failure: None,
        }
    }

    /// The error the stream failed with, unless its reader just went away.
    fn take_failure(&mut self) -> Option<Error> {
        let source = self.failure.take()?;
        (source.kind() != ErrorKind::BrokenPipe).then_some(Error::Stream {
            stream: self.name,
            source,
        })
    }

    /// Keeps the first failure; an interrupted write is retried by the caller as usual.
    fn absorb<T>(&mut self, result: std::io::Result<T>, dropped: T) -> std::io::Result<T> {
        match result {
            Err(e) if e.kind() != ErrorKind::Interrupted => {
                self.failure = Some(e);
                Ok(dropped)
            }
            other => other,
        }
    }
}

impl<W: Write> Write for Stream<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.failure.is_some() {
            return Ok(buf.len());
        }
        let result = self.inner.write(buf);
        self.absorb(result, buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.failure.is_some() {
            return Ok(());
        }
        let result = self.inner.flush();
        self.absorb(result, ())
    }
}

pub fn dispatch(env: &mut Env<'_>, command: &Command) -> Result<i32> {
    match command {
        Command::Check(args) => commands::check::run(env, args),
        Command::Diff(args) => commands::diff::run(env, args),
        Command::Fix(args) => commands::fix::run(env, args),
        Command::Rollback(args) => commands::rollback::run(env, args),
        Command::List => commands::list::run(env),
        Command::Completions(args) => shell::completions(&mut Cli::command(), args.shell, env.out),
        Command::Man(args) => shell::man(Cli::command(), args.command.as_deref(), env.out),
    }
}
