//! The command-line surface: every flag and subcommand clap parses, with its help text.
//! Parsed once; `cli::settings` turns the global flags into the validated `Settings`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::benchmark::Version;
use crate::containers::{ContainerFilter, Pattern};
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

#[derive(Debug, Clone, Default, Args)]
pub struct Selectors {
    /// Only these items: IDs of the chosen benchmark version (1.1.3), legacy IDs (1.5) or sections (2, 1.1); comma-separated or repeated.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Leave out these items (same forms as --only).
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub skip: Vec<String>,
}

/// Which containers the section 5 items judge.
#[derive(Debug, Clone, Default, Args)]
pub struct ContainerArgs {
    /// Judge stopped and created containers too (default: running containers only). The
    /// container filters choose what 4.1 and section 5 judge; the sprawl counts of section 6
    /// always cover the whole host.
    #[arg(long)]
    pub(crate) all_containers: bool,
    /// Only containers whose name matches this glob (`web-*`) or that carry this label
    /// (`label:KEY=VALUE`, `label:KEY`); repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub(crate) include: Vec<Pattern>,
    /// Leave out containers matching this pattern (same forms as --include); repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub(crate) exclude: Vec<Pattern>,
}

impl ContainerArgs {
    pub(crate) fn filter(&self) -> ContainerFilter {
        ContainerFilter {
            all: self.all_containers,
            include: self.include.clone(),
            exclude: self.exclude.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per item, coloured on a terminal.
    Text,
    /// The documented JSON report (docs/report-schema.json).
    Json,
    /// JUnit XML: one test case per item, WARN is a failure.
    Junit,
    /// SARIF 2.1.0: one rule per item, for code-scanning views.
    Sarif,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub selectors: Selectors,
    #[command(flatten)]
    pub containers: ContainerArgs,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub selectors: Selectors,
}

#[derive(Debug, Args)]
pub struct FixArgs {
    #[command(flatten)]
    pub selectors: Selectors,
    /// Apply every selected fix without asking. Disruptive fixes (userns-remap) still need to
    /// be named with --only or enabled in the playbook.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// How long to wait for dockerd to come back healthy after a restart before restoring the
    /// previous configuration.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub health_timeout: u64,
    /// Let docker's restart stop running containers where live restore cannot be on first
    /// (a swarm node); they are started again afterwards. Without it `--yes` refuses such a
    /// restart (interactively, fix asks).
    #[arg(long)]
    pub allow_container_restart: bool,
    /// Test-only: apply fixes that pre-flight refuses (to prove the automatic rollback).
    #[arg(long, hide = true)]
    pub skip_preflight: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The run to undo (default: the latest run not yet rolled back).
    #[arg(value_name = "RUN-ID")]
    pub run_id: Option<String>,
    /// List the saved runs instead.
    #[arg(long, conflicts_with_all = ["run_id", "force"])]
    pub list: bool,
    /// Restore even files that changed after the run (a copy of each is kept).
    #[arg(long)]
    pub force: bool,
    /// Do not ask before a rollback that leaves containers without their log receiver (they
    /// are named in the output).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Let docker's restart stop running containers where the restored configuration has
    /// live restore off (they are started again afterwards). Without it, a rollback that would
    /// stop them asks on a terminal and refuses otherwise.
    #[arg(long)]
    pub allow_container_restart: bool,
    /// How long to wait for dockerd to come back healthy after the restart.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub health_timeout: u64,
}
