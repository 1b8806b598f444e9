//! What a run works with: the host it changes and the console it talks to.

use std::io::Write;

use crate::containers::ContainerFilter;
use crate::daemons::Daemon;
use crate::engine::Engine;
use crate::error::Result;
use crate::facts::{Facts, LiveSources, Sources};
use crate::plan::{FileChange, ServiceAction};
use crate::playbook::Playbook;
use crate::rootfs::RootFs;
use crate::runner::Runner;

/// The host a run plans for and changes, with the seams to its services and its engine.
#[derive(Clone, Copy)]
pub(crate) struct Host<'a> {
    pub(crate) rootfs: &'a RootFs,
    /// The live host (services are acted on, the engine asked), not a root under --root.
    pub(crate) live: bool,
    pub(crate) playbook: &'a Playbook,
    /// The command name messages tell the operator to run (`docker-harden`).
    pub(crate) invoked_as: &'a str,
    pub(crate) runner: &'a dyn Runner,
    pub(crate) engine: &'a dyn Engine,
}

impl Host<'_> {
    /// The facts of `daemon` every item but the container items needs.
    pub(crate) fn gather(&self, daemon: &Daemon) -> Result<Facts> {
        self.gather_with(daemon, None)
    }

    /// The facts of `daemon`, with the containers `containers` keeps when it is given.
    pub(crate) fn gather_with(
        &self,
        daemon: &Daemon,
        containers: Option<ContainerFilter>,
    ) -> Result<Facts> {
        let sources = Sources {
            rootfs: self.rootfs.clone(),
            live: self.live.then_some(LiveSources {
                runner: self.runner,
                engine: self.engine,
                containers,
            }),
        };
        Facts::gather(&sources, &self.playbook.variables, daemon)
    }
}

/// Where a run reports and asks: the CLI's terminal, or the module's captured streams. The run
/// says what it does on `out` and `err` as it goes; showing diffs and service lists, and asking,
/// are the presentation's.
pub(crate) trait Console {
    fn out(&mut self) -> &mut dyn Write;
    fn err(&mut self) -> &mut dyn Write;
    /// Asks the operator a yes-or-no question whose default is no.
    fn confirm(&mut self, prompt: &str) -> Result<bool>;
    /// Shows file changes about to be made (a rollback's way back).
    fn show_changes(&mut self, changes: &[FileChange]) -> Result<()>;
    /// Says which service actions are left for when the root boots (under --root nothing is
    /// acted on); says nothing when there are none.
    fn services_deferred(&mut self, actions: &[ServiceAction]) -> Result<()>;
}
