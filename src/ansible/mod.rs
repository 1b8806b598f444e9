//! docker-harden as an Ansible binary module. Ansible copies the binary to the host and runs it
//! with one argument, the path of a JSON file holding the task's arguments; the module answers
//! with one JSON object on stdout. The states `checked`, `fixed` and `rolled_back` run the same
//! code as `check`, `fix --yes` and `rollback`.

pub(crate) mod args;
pub(crate) mod diff;
pub(crate) mod guard;
pub(crate) mod harden;
pub(crate) mod result;
pub(crate) mod rollback;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::commands;
use crate::error::{EXIT_CLEAN, Error, Result};
use crate::settings::Settings;

use args::{ModuleArgs, State};
use result::ModuleResult;

/// The exit code of a failed task, as Ansible's own modules exit.
const EXIT_FAILED: i32 = 1;

/// Keys Ansible adds to every task's arguments before it runs any module, binary ones
/// included (`ActionBase._update_module_args`). A daemon.json, a report or any other JSON
/// object carries neither, so a lone JSON file without them is not Ansible running the
/// module, and is never taken as a task to fix the live host.
pub(crate) const ANSIBLE_KEYS: &[&str] = &["_ansible_module_name", "_ansible_version"];

/// The module's raw arguments, when the command line is exactly one path to a regular file
/// (within `input::MAX_FILE_BYTES`) holding a JSON object with Ansible's own keys: how Ansible runs a binary
/// module. A subcommand or a flag stays the CLI's even when a file of that name happens to
/// exist, and a file that is not a JSON object is left to the CLI to reject. A JSON object
/// without Ansible's keys is an error: run by hand on a config file, the module would fix the
/// live host unasked. `cli` is the CLI's command definition, whose words stay the CLI's.
pub(crate) fn invocation(
    args: &[OsString],
    cli: &clap::Command,
) -> Result<Option<Map<String, Value>>> {
    let [_, arg] = args else { return Ok(None) };
    let text = arg.to_string_lossy();
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
        Err(e) => return ModuleResult::failure(e.to_string()),
    };
    let settings = match settings(&args) {
        Ok(settings) => settings,
        Err(e) => return ModuleResult::failure(e.to_string()),
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    let outcome =
        commands::system::on_the_host(&settings, &mut out, &mut err, |env| match args.state {
            State::Checked | State::Fixed => harden::run(env, &args),
            State::RolledBack => rollback::run(env, &args),
        });
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
/// No colour (the output is the result's log), and the local engine: the module runs on the
/// host Ansible reached, its own daemons, never a client's DOCKER_HOST or context.
fn settings(args: &ModuleArgs) -> Result<Settings> {
    Ok(Settings::new(
        args.root.as_deref(),
        &args.playbook,
        args.variables.clone(),
        args.benchmark,
    )?
    .with_daemon(args.daemon.clone()))
}
