//! Shell integration: completion scripts and the man page, generated from the same command
//! definition the parser uses, so they cannot drift from it.

use std::io::Write;

use clap::CommandFactory;

use crate::error::{EXIT_CLEAN, Result};
use crate::settings::{Cli, Command};

/// The name completions register for: the installed binary's, which is also what the
/// packaged completion files are named after.
const BIN_NAME: &str = "docker-harden";

/// Runs `completions` and `man`, which need no settings (no root, no playbook, no engine);
/// `None` for every other command.
pub fn run(command: &Command, out: &mut dyn Write) -> Option<Result<i32>> {
    match command {
        Command::Completions(args) => Some(completions(args.shell, out)),
        Command::Man => Some(man(out)),
        _ => None,
    }
}

pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> Result<i32> {
    clap_complete::generate(shell, &mut Cli::command(), BIN_NAME, out);
    out.flush()?;
    Ok(EXIT_CLEAN)
}

/// One page, docker-harden(1): the synopsis, the global options and the list of commands (each
/// command's own options are in `docker-harden COMMAND --help`).
pub fn man(out: &mut dyn Write) -> Result<i32> {
    clap_mangen::Man::new(Cli::command()).render(out)?;
    out.flush()?;
    Ok(EXIT_CLEAN)
}
