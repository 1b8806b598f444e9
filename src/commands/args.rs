//! What each command takes from the command line (clap derives its flags here, the help text
//! included); the Ansible module fills the same selectors from its arguments.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::containers::{ContainerFilter, Pattern};

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
