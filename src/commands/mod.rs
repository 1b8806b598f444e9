//! The five commands. Each gathers facts once, runs the pure core, and talks to the user.

pub mod apply;
pub mod check;
pub mod diff;
pub mod fix;
pub mod list;
pub mod rollback;

use std::io::Write;

use crate::assess::{self, Finding, Selection};
use crate::containers::ContainerFilter;
use crate::daemons::{self, Daemon};
use crate::engine::Engine;
use crate::error::Result;
use crate::facts::{Facts, LiveSources, Sources};
use crate::runner::Runner;
use crate::settings::{Selectors, Settings};

/// The outside world a command may touch: the runner and engine seams, and the output streams.
pub struct Env<'a> {
    pub settings: &'a Settings,
    pub runner: &'a dyn Runner,
    pub engine: &'a dyn Engine,
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

impl Env<'_> {
    /// The daemons `check` judges: every one found, or the one --daemon names.
    pub fn daemons(&self) -> Result<Vec<Daemon>> {
        let found = daemons::discover(&self.settings.rootfs, self.settings.live)?;
        daemons::select(found, self.settings.daemon.as_deref())
    }

    /// The one daemon `diff`, `fix` and `rollback` work on: the one --daemon names, else the
    /// system daemon (or the only daemon found). Others found are listed, so nobody believes
    /// a rootless daemon was fixed when it was not.
    pub fn daemon(&mut self) -> Result<Daemon> {
        let found = daemons::discover(&self.settings.rootfs, self.settings.live)?;
        if self.settings.daemon.is_some() {
            return Ok(self.daemons()?.remove(0));
        }
        let chosen = found
            .iter()
            .find(|d| **d == Daemon::System)
            .or(found.first())
            .cloned()
            .unwrap_or(Daemon::System);
        let others: Vec<String> = found
            .iter()
            .filter(|d| **d != chosen)
            .map(Daemon::key)
            .collect();
        if !others.is_empty() {
            writeln!(
                self.err,
                "note: this works on {}; also found {} (choose one with --daemon)",
                chosen.describe(),
                others.join(", ")
            )?;
        }
        Ok(chosen)
    }

    /// The facts of `daemon` every item but the container items needs.
    pub fn gather(&self, daemon: &Daemon) -> Result<Facts> {
        self.gather_with(daemon, None)
    }

    /// The facts of `daemon`, and the containers `filter` keeps when a selected item judges
    /// containers.
    pub fn gather_for(
        &self,
        daemon: &Daemon,
        selection: &Selection,
        filter: &ContainerFilter,
    ) -> Result<Facts> {
        let judges_containers = self
            .settings
            .playbook
            .items
            .iter()
            .any(|i| i.kind.needs_workloads() && selection.includes(&i.id));
        self.gather_with(daemon, judges_containers.then(|| filter.clone()))
    }

    fn gather_with(&self, daemon: &Daemon, containers: Option<ContainerFilter>) -> Result<Facts> {
        let sources = Sources {
            rootfs: self.settings.rootfs.clone(),
            live: self.settings.live.then_some(LiveSources {
                runner: self.runner,
                engine: self.engine,
                containers,
            }),
        };
        Facts::gather(&sources, &self.settings.playbook, daemon)
    }

    pub fn selection(&self, selectors: &Selectors) -> Result<Selection> {
        Selection::from_tokens(&self.settings.playbook, &selectors.only, &selectors.skip)
    }

    pub fn evaluate(&self, facts: &Facts, selection: &Selection) -> Vec<Finding> {
        assess::evaluate(&self.settings.playbook, facts, selection, today())
    }

    /// Names the root under --root, so nobody mistakes a fixture for the live host.
    pub fn header(&mut self, what: &str) -> Result<()> {
        let settings = self.settings;
        let place = if settings.live {
            "this host".to_string()
        } else {
            format!("root {}", settings.rootfs.root().display())
        };
        writeln!(
            self.err,
            "docker-harden {what}: {place}, playbook {} ({}), CIS Docker Benchmark v{} IDs",
            settings.playbook.name, settings.playbook.source, settings.playbook.benchmark
        )?;
        Ok(())
    }
}

pub fn today() -> jiff::civil::Date {
    jiff::ZonedDateTime::now().date()
}
