//! Analysis of rsyslog configuration text, and planning of the smallest edit
//! that makes rsyslog receive what Docker's syslog log driver sends.
//!
//! Everything here is a pure function on strings: the caller reads files,
//! expands include globs and writes the planned edits. The text is lexed
//! (`lexer`) into statements, which `statement` interprets; `inputs` and
//! `bind` say where rsyslog listens; `plan` decides the edit, reviving
//! commented lines (`commented`), binding wide inputs (`narrow`) and writing
//! new statements (`written`), rendered by `edit`.

mod bind;
mod commented;
mod config;
mod edit;
#[cfg(test)]
mod fixtures;
mod includes;
mod inputs;
mod lexer;
mod narrow;
mod plan;
#[cfg(test)]
mod plan_properties;
mod proto;
mod statement;
mod syslog_address;
mod written;

pub(crate) use bind::{Bind, bind_address};
pub use config::ConfFile;
pub(crate) use includes::include_patterns;
pub(crate) use inputs::{
    Input, in_own_block, inputs, inputs_started, listens, module_loaded, woken_by_load,
};
pub(crate) use narrow::plan_narrow;
pub(crate) use plan::plan_listen;
pub(crate) use proto::Proto;
pub(crate) use syslog_address::{is_local_host, parse_syslog_address};
