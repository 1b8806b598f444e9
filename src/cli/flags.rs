//! The command line's top: the global flags and the subcommands clap parses, with their help
//! text. Each command's own arguments are the command's (`commands::args`); the global flags
//! become the validated `Settings` in `cli`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::benchmark::Version;
use crate::commands::args::{CheckArgs, DiffArgs, FixArgs, RollbackArgs};
use crate::settings::Colour;

#[derive(Debug, Parser)]
#[command(
    name = "docker-harden",
    version,
    about = "Audit a Docker host against the CIS Docker Benchmark and fix what can be fixed, safely",
    long_about = "Audit a Docker host against the CIS Docker Benchmark (v1.6.0 to v1.8.0) and fix what can be \
fixed on the host: audit watches, daemon.json settings, rsyslog reception, file owners and modes.\n\n\
Every change is shown as a unified diff before it is applied, originals are saved for rollback, \
and writes are atomic. Exit codes: 0 clean, 1 findings (WARN items or pending changes), 2 error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Operate on a root filesystem mounted at DIR (an image, a chroot, a test fixture).
    /// Nothing outside DIR is read or written, no service is restarted, no audit rule is
    /// loaded, and the Docker API is not consulted.
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) root: Option<PathBuf>,
    /// Use this playbook instead of the built-in default (it can `include: default`).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) playbook: Option<PathBuf>,
    /// The CIS Docker Benchmark version whose item IDs are printed and accepted (1.6.0, 1.7.0
    /// or 1.8.0). Legacy IDs from older guides are accepted with any.
    #[arg(
        long,
        global = true,
        env = "DOCKER_HARDEN_BENCHMARK",
        value_name = "VERSION",
        default_value_t = Version::V1_8_0,
        value_parser = clap::builder::ValueParser::new(|s: &str| s.parse::<Version>())
    )]
    pub(crate) benchmark: Version,
    /// When to colour the output.
    #[arg(long, global = true, value_enum, default_value_t = Colour::Auto)]
    pub(crate) color: Colour,
    /// The Docker engine to ask, as docker's -H: a unix:// socket (default: DOCKER_HOST, else
    /// the docker context in use, else the daemon's configured -H unix socket, else
    /// /var/run/docker.sock). A remote engine (tcp://, ssh://) is never asked: fix, diff and
    /// rollback refuse to run, check says so.
    #[arg(long, short = 'H', global = true, value_name = "ADDRESS")]
    pub(crate) docker_host: Option<String>,
    /// Which Docker daemon to judge or fix: `system` (the rootful one) or `rootless:USER`
    /// (a user's rootless daemon). `check` judges every daemon found by default; `diff` and
    /// `fix` work on one daemon at a time, the system daemon unless this names another.
    #[arg(long, global = true, value_name = "DAEMON")]
    pub(crate) daemon: Option<String>,
    /// The docker context whose engine to ask, as docker's --context (wins over --docker-host
    /// and DOCKER_HOST; default: DOCKER_CONTEXT, else `docker context use`'s choice).
    #[arg(long, short = 'c', global = true, value_name = "NAME")]
    pub(crate) context: Option<String>,
    /// The docker client's configuration directory, where contexts live, as docker's --config
    /// (default: DOCKER_CONFIG, else ~/.docker).
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) docker_config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Judge every item and print one line each with its evidence (exit 1 when any is WARN).
    Check(CheckArgs),
    /// Show, without writing anything, the diff that `fix --yes` would apply.
    Diff(DiffArgs),
    /// Fix the WARN items: ask about each one on a terminal, or apply all with --yes.
    Fix(FixArgs),
    /// Undo a fix run from its saved backups (the latest, or RUN-ID).
    Rollback(RollbackArgs),
    /// List every item of the playbook: ID, legacy ID, title, fixable or report-only.
    List,
    /// Print the completion script for SHELL (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print a man page (roff) to standard output: docker-harden(1), or docker-harden-COMMAND(1)
    /// with that command's own options.
    Man(ManArgs),
}

impl Command {
    /// Asks the Docker engine (or acts on the host it runs): only these resolve the engine, so
    /// a broken docker context cannot stop `list` or `rollback --list`.
    pub(crate) fn asks_engine(&self) -> bool {
        match self {
            Command::Check(_) | Command::Diff(_) | Command::Fix(_) => true,
            Command::Rollback(args) => !args.list,
            Command::List | Command::Completions(_) | Command::Man(_) => false,
        }
    }
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (check, diff, fix, rollback, list, completions, man).
    #[arg(value_name = "COMMAND")]
    pub(crate) command: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}
