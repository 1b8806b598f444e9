//! docker-harden: audits a Docker host against the CIS Docker Benchmark and fixes what can be
//! fixed on the host, showing every change as a diff first and keeping backups for rollback.

pub mod accounts;
pub mod ansible;
pub mod assess;
pub mod audit_rules;
pub mod benchmark;
pub mod cli;
pub mod commands;
pub mod containers;
pub mod daemon_flags;
pub mod daemon_json;
pub mod daemons;
pub mod endpoint;
pub mod engine;
pub mod error;
pub mod facts;
pub mod health;
pub mod images;
pub mod interactive;
pub mod kinds;
pub mod plan;
pub mod playbook;
pub mod plugin;
pub mod preflight;
pub mod render;
pub mod reports;
pub mod rootfs;
pub mod rsyslog;
pub mod runner;
pub mod safe_write;
pub mod services;
pub mod settings;
pub mod shell;
pub mod transaction;
pub mod workloads;
