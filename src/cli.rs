//! Entry point: parse flags once, run one command, map the result to an exit code; or, run as
//! an Ansible module, answer the module's arguments.

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;

use crate::ansible;
use crate::commands::{self, Env};
use crate::engine::BollardEngine;
use crate::error::{EXIT_CLEAN, EXIT_ERROR, Result};
use crate::runner::SystemRunner;
use crate::settings::{Cli, Command, Settings};

pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    // Ansible runs a binary module as `<binary> <args file>`: answer in JSON, not as the CLI.
    if let Some(raw) = ansible::invocation(&args) {
        return ansible::run(raw);
    }
    let cli = match Cli::try_parse_from(args) {
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
    let result = Settings::from_cli(&cli).and_then(|settings| {
        let engine = BollardEngine::new(cli.docker_host.clone());
        let mut env = Env {
            settings: &settings,
            runner: &SystemRunner,
            engine: &engine,
            out: &mut out,
            err: &mut err,
        };
        dispatch(&mut env, &cli.command)
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
    }
}
