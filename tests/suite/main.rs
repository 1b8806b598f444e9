//! The integration tests, one binary: each module is the tests of one concern (see README,
//! Tests). One binary links the crate once instead of once per file.

mod ansible_module;
mod bad_input;
mod benchmarks;
mod closed_streams;
mod codes;
mod common;
mod containers;
mod cycle;
mod daemon_report;
mod dockerd;
mod engine_keys;
mod engine_release;
mod faults;
mod host_report;
mod hostile;
mod images;
mod interactive;
mod layers;
mod live;
mod parsers;
mod plugin;
mod properties;
mod reports;
mod rootless;
mod rootless_dockerd;
mod rsyslog_bind;
mod shell;
mod snapshots;
mod swarm;
