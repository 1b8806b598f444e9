//! Which settings dockerd receives as command-line flags.
//!
//! A setting given both as a flag and in daemon.json makes dockerd refuse to
//! start, and a flag silently wins over nothing else, so the auditor must know
//! the flags before it can judge or rewrite daemon.json. The flags come from
//! three places: the running process (`/proc/PID/cmdline`), the systemd unit
//! (with drop-ins and environment files), and the distribution's environment
//! file (`/etc/default/docker`, `/etc/sysconfig/docker`).
//!
//! Everything here is a pure function on strings so that it can be tested
//! without a Docker host; the caller reads the files.

mod args;
mod command_line;
mod env_file;
#[cfg(test)]
mod fixtures;
mod flag_table;
#[cfg(test)]
mod properties;
mod systemd_unit;

pub use args::{Flag, ParsedArgs, parse_dockerd_args};
pub(crate) use args::{cmdline_args, parse_bool};
pub(crate) use env_file::{env_file_flags, parse_env_file, split_words};
pub(crate) use flag_table::{is_bool_flag, json_key};
pub(crate) use systemd_unit::{
    UnitFile, effective_exec_start, environment_files, raw_exec_start, unit_words,
};
