//! docker-harden as an Ansible binary module. Ansible copies the binary to the host and runs it
//! with one argument, the path of a JSON file holding the task's arguments; the module answers
//! with one JSON object on stdout. The states `checked`, `fixed` and `rolled_back` run the same
//! code as `check`, `fix --yes` and `rollback`.

pub mod args;
pub mod diff;
pub mod guard;
pub mod harden;
pub mod result;
pub mod rollback;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::CommandFactory;
use serde_json::{Map, Value};

use crate::commands::Env;
use crate::engine::BollardEngine;
use crate::error::{EXIT_CLEAN, Error, Result};
use crate::playbook::Playbook;
use crate::render::Paint;
use crate::rootfs::RootFs;
use crate::runner::SystemRunner;
use crate::settings::{Cli, Settings};

use args::{ModuleArgs, State};
use result::ModuleResult;

/// The exit code of a failed task, as Ansible's own modules exit.
const EXIT_FAILED: i32 = 1;

/// Keys Ansible adds to every task's arguments before it runs any module, binary ones
/// included (`ActionBase._update_module_args`). A daemon.json, a report or any other JSON
/// object carries neither, so a lone JSON file without them is not Ansible running the
/// module, and is never taken as a task to fix the live host.
pub const ANSIBLE_KEYS: &[&str] = &["_ansible_module_name", "_ansible_version"];

/// The module's raw arguments, when the command line is exactly one path to a regular file
/// (within `input::MAX_FILE_BYTES`) holding a JSON object with Ansible's own keys: how Ansible runs a binary
/// module. A subcommand or a flag stays the CLI's even when a file of that name happens to
/// exist, and a file that is not a JSON object is left to the CLI to reject. A JSON object
/// without Ansible's keys is an error: run by hand on a config file, the module would fix the
/// live host unasked.
pub fn invocation(args: &[OsString]) -> Result<Option<Map<String, Value>>> {
    let [_, arg] = args else { return Ok(None) };
    let text = arg.to_string_lossy();
    let cli = Cli::command();
    if text.starts_with('-')
        || text == "help"
        || cli
            .get_subcommands()
            .any(|c| c.get_name() == text || c.get_all_aliases().any(|a| a == text))
    {
        return Ok(None);
    }
    let Some(map) = json_object(arg) else {
        return Ok(None);
    };
    let missing: Vec<&str> = ANSIBLE_KEYS
        .iter()
        .copied()
        .filter(|k| !map.contains_key(*k))
        .collect();
    if missing.is_empty() {
        Ok(Some(map))
    } else {
        Err(Error::NotModuleArgs {
            path: PathBuf::from(arg),
            missing: missing
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(" and "),
        })
    }
}

/// The JSON object a regular file holds, if it holds one. Read as every input is (a FIFO or a
/// device is not opened for reading, a file over the bound is not read), so naming one never
/// blocks the CLI it would otherwise be.
fn json_object(path: &OsString) -> Option<Map<String, Value>> {
    let bytes = crate::input::read_file(std::path::Path::new(path))
        .ok()
        .flatten()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Runs the module: the result JSON is all it prints. Exit 0, or 1 when the task failed (the
/// code is for people; Ansible reads `failed`).
pub fn run(raw: Map<String, Value>) -> i32 {
    let channel = guard::ResultChannel::open();
    let result = guard::catch_panic(move || execute(&raw));
    let json = serde_json::to_string(&result).unwrap_or_else(|e| {
        format!(
            r#"{{"failed": true, "changed": false, "msg": "cannot serialise the result: {e}"}}"#
        )
    });
    match channel {
        Some(channel) => {
            let _ = channel.send(&json);
        }
        // Not println!, which panics on a closed stdout: nobody is left to read the result.
        None => {
            let _ = writeln!(std::io::stdout(), "{json}");
        }
    }
    if result.failed {
        EXIT_FAILED
    } else {
        EXIT_CLEAN
    }
}

fn execute(raw: &Map<String, Value>) -> ModuleResult {
    let args = match ModuleArgs::parse(raw) {
        Ok(args) => args,
        Err(msg) => return ModuleResult::failure(msg),
    };
    let settings = match settings(&args) {
        Ok(settings) => settings,
        Err(e) => return ModuleResult::failure(e.to_string()),
    };
    let engine = BollardEngine::new(None);
    let mut out = Vec::new();
    let mut err = Vec::new();
    let outcome = {
        let mut env = Env {
            settings: &settings,
            runner: &SystemRunner,
            engine: &engine,
            out: &mut out,
            err: &mut err,
        };
        match args.state {
            State::Checked | State::Fixed => harden::run(&mut env, &args),
            State::RolledBack => rollback::run(&mut env, &args),
        }
    };
    let mut result = outcome.unwrap_or_else(|e| ModuleResult::failure(e.to_string()));
    // What the commands would have printed, for `-v` and the record.
    result.log = [out, err]
        .iter()
        .flat_map(|bytes| {
            String::from_utf8_lossy(bytes)
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|line| !line.trim().is_empty())
        .collect();
    result
}

/// What the CLI's flags give the commands, from the module's arguments.
fn settings(args: &ModuleArgs) -> Result<Settings> {
    let (rootfs, live) = match &args.root {
        Some(dir) => (RootFs::new(dir)?, false),
        None => (RootFs::host(), true),
    };
    let playbook = Playbook::load_source(&args.playbook, args.variables.clone())?
        .for_benchmark(args.benchmark)?;
    Ok(Settings {
        rootfs,
        live,
        playbook,
        paint: Paint { enabled: false },
        invoked_as: crate::settings::BIN_NAME,
        daemon: args.daemon.clone(),
        // The module runs on the host Ansible reached: its own daemons, never a client's
        // DOCKER_HOST or context.
        engine: crate::endpoint::Endpoint::local(),
    })
}
