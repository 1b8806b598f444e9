//! The five commands. Each gathers facts once, runs the pure core, and talks to the user.

pub mod args;
pub mod check;
pub mod diff;
pub mod fix;
pub mod list;
pub mod rollback;
pub(crate) mod system;

use std::io::Write;

use crate::assess::{self, Finding, Selection};
use crate::containers::ContainerFilter;
use crate::daemons::{self, Daemon};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::facts::Facts;
use crate::plan::{FileChange, ServiceAction};
use crate::render;
use crate::run::{self, Console, Host};
use crate::runner::Runner;
use crate::settings::Settings;
use args::Selectors;

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
        if self.settings.daemon.is_none()
            && let Some(daemon) = self.engine_daemon(&found)
        {
            return Ok(vec![daemon]);
        }
        daemons::select(found, self.settings.daemon.as_deref())
    }

    /// The rootless daemon whose socket -H, DOCKER_HOST or the docker context names (what a
    /// rootless user's shell usually sets): the user asked about that daemon, not all of them.
    fn engine_daemon(&self, found: &[Daemon]) -> Option<Daemon> {
        let host = self.settings.engine.host.as_deref()?;
        let path = host.strip_prefix("unix://").unwrap_or(host);
        found
            .iter()
            .find(|d| d.rootless().is_some() && d.default_socket() == std::path::Path::new(path))
            .cloned()
    }

    /// The one daemon `diff`, `fix` and `rollback` work on: the one --daemon names, else the
    /// system daemon (or the only daemon found). Others found are listed, so nobody believes
    /// a rootless daemon was fixed when it was not.
    pub fn daemon(&mut self) -> Result<Daemon> {
        let found = daemons::discover(&self.settings.rootfs, self.settings.live)?;
        if self.settings.daemon.is_some() || self.engine_daemon(&found).is_some() {
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
        self.host().gather_with(daemon, containers)
    }

    pub fn selection(&self, selectors: &Selectors) -> Result<Selection> {
        Selection::from_tokens(&self.settings.playbook, &selectors.only, &selectors.skip)
    }

    pub fn evaluate(&self, facts: &Facts, selection: &Selection) -> Vec<Finding> {
        assess::evaluate(
            &self.settings.playbook,
            facts,
            selection,
            today(),
            self.settings.invoked_as,
        )
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

impl<'a> Env<'a> {
    /// The host a run plans for and changes, in the run layer's terms.
    pub(crate) fn host(&self) -> Host<'a> {
        let settings = self.settings;
        Host {
            rootfs: &settings.rootfs,
            live: settings.live,
            playbook: &settings.playbook,
            invoked_as: settings.invoked_as,
            runner: self.runner,
            engine: self.engine,
        }
    }

    /// Refuses to plan on top of a run that was interrupted while applying (see
    /// `run::refuse_interrupted`); `next` is this command.
    pub fn refuse_interrupted(&self, next: &str) -> Result<()> {
        run::refuse_interrupted(&self.settings.rootfs, self.settings.invoked_as, next)
    }

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

/// The CLI's and the module's console for a run: their streams, a prompt on the terminal, and
/// diffs and service lists as `diff` shows them.
impl Console for Env<'_> {
    fn out(&mut self) -> &mut dyn Write {
        &mut *self.out
    }

    fn err(&mut self) -> &mut dyn Write {
        &mut *self.err
    }

    fn confirm(&mut self, prompt: &str) -> Result<bool> {
        dialoguer::Confirm::new()
            .with_prompt(prompt)
            .default(false)
            .interact()
            .map_err(|e| Error::Prompt(e.to_string()))
    }

    fn show_changes(&mut self, changes: &[FileChange]) -> Result<()> {
        // Diffs only need the account names; facts of the live host are not gathered for them.
        let names = Facts::names_only(&self.settings.rootfs)?;
        for change in changes {
            render::file_change(self.out, change, &names, self.settings.paint)?;
        }
        Ok(())
    }

    fn services_deferred(&mut self, actions: &[ServiceAction]) -> Result<()> {
        if !actions.is_empty() {
            writeln!(
                self.out,
                "services: none touched under --root; when this root boots: {}",
                render::actions_line(actions)
            )?;
        }
        Ok(())
    }
}

pub fn today() -> jiff::civil::Date {
    jiff::ZonedDateTime::now().date()
}
