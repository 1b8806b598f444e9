//! Entry point: parse flags once, run one command, map the result to an exit code; or, run as
//! an Ansible module, answer the module's arguments.

use std::ffi::OsString;
use std::io::Write;

use clap::{CommandFactory, FromArgMatches};

use crate::ansible;
use crate::commands::{self, Env};
use crate::engine::BollardEngine;
use crate::error::{EXIT_CLEAN, EXIT_ERROR, Result};
use crate::plugin;
use crate::runner::SystemRunner;
use crate::settings::{Cli, Command, Settings};
use crate::shell;

pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let mut args: Vec<OsString> = args.into_iter().collect();
    // Ansible runs a binary module as `<binary> <args file>`: answer in JSON, not as the CLI.
    if let Some(raw) = ansible::invocation(&args) {
        return ansible::run(raw);
    }
    // docker asks every installed plugin for this whenever it lists commands; it must answer
    // at once, as any user, whatever the host's state.
    if plugin::is_metadata_request(&args) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", plugin::metadata()).and_then(|_| out.flush());
        return EXIT_CLEAN;
    }
    let mut command = Cli::command();
    let mut invoked_as = crate::settings::BIN_NAME;
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
    let stderr = std::io::stderr();
    let mut out = stdout.lock();
    // Not locked for the whole run: the health check's spinner draws on stderr from its own
    // thread, and a held lock would deadlock it.
    let mut err = stderr;
    let result = shell::run(&cli.command, &mut out).unwrap_or_else(|| {
        Settings::from_cli(&cli).and_then(|mut settings| {
            settings.invoked_as = invoked_as;
            let engine = BollardEngine::new(settings.engine.host.clone());
            let mut env = Env {
                settings: &settings,
                runner: &SystemRunner,
                engine: &engine,
                out: &mut out,
                err: &mut err,
            };
            dispatch(&mut env, &cli.command)
        })
    });
    let _ = out.flush();
    match result {
        Ok(code) => code,
        Err(e) if e.is_broken_pipe() => EXIT_CLEAN,
        Err(e) => {
            let _ = writeln!(err, "docker-harden: error: {e}");
            e.exit_code()
        }
    }
}

pub fn dispatch(env: &mut Env<'_>, command: &Command) -> Result<i32> {
    match command {
        Command::Check(args) => commands::check::run(env, args),
        Command::Diff(args) => commands::diff::run(env, args),
        Command::Fix(args) => commands::fix::run(env, args),
        Command::Rollback(args) => commands::rollback::run(env, args),
        Command::List => commands::list::run(env),
        Command::Completions(args) => shell::completions(args.shell, env.out),
        Command::Man(args) => shell::man(args.command.as_deref(), env.out),
    }
}
