//! The validated settings every command runs with, built one way whoever asks: the CLI from
//! its flags, the Ansible module from its arguments, a test from its fixture.

use std::io::IsTerminal;
use std::path::Path;

use crate::benchmark::Version;
use crate::endpoint::Endpoint;
use crate::error::Result;
use crate::playbook::{Playbook, RawVariables, Source};
use crate::render::Paint;
use crate::rootfs::RootFs;

/// The binary's name, as advice lines spell its commands.
pub(crate) const BIN_NAME: &str = "docker-harden";

/// What every command runs with, validated.
pub struct Settings {
    pub rootfs: RootFs,
    /// False under --root.
    pub(crate) live: bool,
    pub playbook: Playbook,
    pub(crate) paint: Paint,
    /// How the user runs this tool (`docker-harden`, or `docker harden` as a Docker CLI
    /// plugin): the advice lines name commands the same way.
    pub(crate) invoked_as: &'static str,
    /// `--daemon`: `system` or `rootless:USER`; `None` for the command's default.
    pub(crate) daemon: Option<String>,
    /// The engine the live run asks (the local daemon under --root, where none is asked).
    pub(crate) engine: Endpoint,
}

/// When to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Colour {
    /// Colour on a terminal, unless NO_COLOR is set.
    Auto,
    Always,
    Never,
}

impl Settings {
    /// The one constructor: a run on the root filesystem at `root` (`None`: the live host),
    /// with the playbook from `playbook` (`variables` over its own) numbered for `benchmark`.
    /// The rest starts at what suits a program reading the result (no colour, commands named
    /// `docker-harden`, each command's default daemon, the local engine); `with_*` changes it.
    pub fn new(
        root: Option<&Path>,
        playbook: &Source,
        variables: RawVariables,
        benchmark: Version,
    ) -> Result<Settings> {
        let (rootfs, live) = match root {
            Some(dir) => (RootFs::new(dir)?, false),
            None => (RootFs::host(), true),
        };
        let playbook = Playbook::load_source(playbook, variables)?.for_benchmark(benchmark)?;
        Ok(Settings {
            rootfs,
            live,
            playbook,
            paint: Paint { enabled: false },
            invoked_as: BIN_NAME,
            daemon: None,
            engine: Endpoint::local(),
        })
    }

    /// Colour as `--color` asks; `Auto` colours a terminal on standard output unless NO_COLOR
    /// is set.
    pub(crate) fn with_colour(mut self, colour: Colour) -> Settings {
        let enabled = match colour {
            Colour::Always => true,
            Colour::Never => false,
            Colour::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        };
        self.paint = Paint { enabled };
        self
    }

    /// `system` or `rootless:USER`: the daemon to judge or fix (`None`: the command's default).
    pub fn with_daemon(mut self, daemon: Option<String>) -> Settings {
        self.daemon = daemon;
        self
    }

    /// The engine a live run asks, as the user chose it.
    pub fn with_engine(mut self, engine: Endpoint) -> Settings {
        self.engine = engine;
        self
    }

    /// How the advice lines name the commands (`docker harden` when docker runs the plugin).
    pub(crate) fn invoked_as(mut self, name: &'static str) -> Settings {
        self.invoked_as = name;
        self
    }

    /// The live host seen through another root: a test's fixture standing in for `/`, with
    /// the runner and the engine still asked as on the host.
    pub fn with_rootfs(mut self, rootfs: RootFs) -> Settings {
        self.rootfs = rootfs;
        self
    }
}
