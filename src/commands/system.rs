//! The environment of a real run: the host's own commands and the Docker engine the settings
//! chose. The CLI and the Ansible module run their commands in the same one.

use std::io::Write;

use crate::commands::Env;
use crate::engine::BollardEngine;
use crate::runner::SystemRunner;
use crate::settings::Settings;

/// Runs `work` with the system runner and the engine `settings` names, writing to `out` and
/// `err`.
pub(crate) fn on_the_host<T>(
    settings: &Settings,
    out: &mut dyn Write,
    err: &mut dyn Write,
    work: impl FnOnce(&mut Env<'_>) -> T,
) -> T {
    let engine = BollardEngine::new(settings.engine.host.clone());
    let mut env = Env {
        settings,
        runner: &SystemRunner,
        engine: &engine,
        out,
        err,
    };
    work(&mut env)
}
