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
    /// The facts every item but the container items needs.
    pub fn gather(&self) -> Result<Facts> {
        self.gather_with(None)
    }

    /// The facts, and the containers `filter` keeps when a selected item judges containers.
    pub fn gather_for(&self, selection: &Selection, filter: &ContainerFilter) -> Result<Facts> {
        let judges_containers = self
            .settings
            .playbook
            .items
            .iter()
            .any(|i| i.kind.needs_workloads() && selection.includes(&i.id));
        self.gather_with(judges_containers.then(|| filter.clone()))
    }

    fn gather_with(&self, containers: Option<ContainerFilter>) -> Result<Facts> {
        let sources = Sources {
            rootfs: self.settings.rootfs.clone(),
            live: self.settings.live.then_some(LiveSources {
                runner: self.runner,
                engine: self.engine,
                containers,
            }),
        };
        Facts::gather(&sources, &self.settings.playbook)
    }

    pub fn selection(&self, selectors: &Selectors) -> Result<Selection> {
        Selection::from_tokens(&self.settings.playbook, &selectors.only, &selectors.skip)
    }

    pub fn evaluate(&self, facts: &Facts, selection: &Selection) -> Vec<Finding> {
        assess::evaluate(&self.settings.playbook, facts, selection, today())
    }

    /// Names the root under --root, so nobody mistakes a fixture for the live host, and the
    /// engine when something other than the default chose it.
    pub fn header(&mut self, what: &str) -> Result<()> {
        let settings = self.settings;
        let place = if settings.live {
            match &settings.engine.host {
                Some(host) => format!(
                    "this host (Docker engine {host}, {})",
                    settings.engine.origin
                ),
                None => "this host".to_string(),
            }
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

impl Env<'_> {
    /// Refuses a command that works on this host's files when the engine in use is another
    /// host's. Under --root no engine is asked, so there is nothing to mistake.
    pub fn local_engine_only(&self, command: &str) -> Result<()> {
        if self.settings.live {
            self.settings.engine.refuse_remote(command)?;
        }
        Ok(())
    }

    /// `check` still runs against a remote engine, since reading this host's files is
    /// harmless, but says in every format that the engine was not judged.
    pub fn remote_engine_note(&mut self) -> Result<()> {
        let engine = &self.settings.engine;
        if let (true, Some(host)) = (self.settings.live && engine.is_remote(), &engine.host) {
            writeln!(
                self.err,
                "docker-harden: the Docker engine {host} ({}) is remote and was not asked: the items judged through the Docker API are INFO, and every other item judges this host, not the engine's",
                engine.origin
            )?;
        }
        Ok(())
    }
}

pub fn today() -> jiff::civil::Date {
    jiff::ZonedDateTime::now().date()
}
