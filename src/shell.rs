//! Shell integration: completion scripts and the man page, generated from the same command
//! definition the parser uses, so they cannot drift from it.

use std::io::Write;

use crate::error::{EXIT_CLEAN, Error, Result};

/// The name completions register for: the installed binary's, which is also what the
/// packaged completion files are named after.
const BIN_NAME: &str = "docker-harden";

/// The completion script for `shell`, from `cli`, the parser's own command definition.
pub fn completions(
    cli: &mut clap::Command,
    shell: clap_complete::Shell,
    out: &mut dyn Write,
) -> Result<i32> {
    clap_complete::generate(shell, cli, BIN_NAME, out);
    out.flush()?;
    Ok(EXIT_CLEAN)
}

/// docker-harden(1): the synopsis, the global options and the list of commands; or, for a
/// command, docker-harden-COMMAND(1) with its own options (git's convention for a tool with
/// subcommands). `cli` is the parser's own command definition.
pub fn man(mut cli: clap::Command, command: Option<&str>, out: &mut dyn Write) -> Result<i32> {
    let page = match command {
        None => cli,
        Some(name) => {
            cli.build();
            let sub = cli
                .find_subcommand(name)
                .filter(|c| c.get_name() != "help")
                .ok_or_else(|| {
                    Error::Selector(format!(
                        "man {name}: no such command (one of {})",
                        man_pages(&cli).join(", ")
                    ))
                })?
                .clone();
            // Titled docker-harden-check(1), used as `docker-harden check`.
            let title = format!("{BIN_NAME}-{}", sub.get_name());
            let usage = format!("{BIN_NAME} {}", sub.get_name());
            sub.name(title).bin_name(usage)
        }
    };
    clap_mangen::Man::new(page).render(out)?;
    out.flush()?;
    Ok(EXIT_CLEAN)
}

/// The commands that have a page of their own, as `man COMMAND` accepts them.
pub fn man_pages(cli: &clap::Command) -> Vec<String> {
    let mut cli = cli.clone();
    cli.build();
    cli.get_subcommands()
        .filter(|c| c.get_name() != "help")
        .map(|c| c.get_name().to_string())
        .collect()
}
