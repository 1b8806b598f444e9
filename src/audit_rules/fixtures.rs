//! Helpers and values shared by the tests of this module.

use proptest::prelude::*;

use super::rules::is_immutable_line;
use super::validate::line_error;
use super::watch::Watch;

pub(super) fn w(path: &str, perms: &str, key: Option<&str>) -> Watch {
    Watch::new(path, perms, key)
}

pub(super) const PATHS: &[&str] = &[
    "/usr/bin/dockerd",
    "/etc/docker",
    "/etc/docker/",
    "/var/lib/docker",
    "/run/containerd",
    "/usr/bin/runc",
    "/etc/default/docker",
];

pub(super) const PERMS: &[&str] = &["", "r", "w", "a", "wa", "aw", "rwa", "rwxa", "x"];

pub(super) const KEYS: &[&str] = &["docker", "other", "k1"];

pub(super) fn key_strategy() -> impl Strategy<Value = Option<&'static str>> {
    proptest::option::of(proptest::sample::select(KEYS))
}

/// Every line of a rules text auditctl refuses, with its 1-based number and why.
pub(super) fn broken_lines(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| line_error(l).map(|r| (i + 1, r.to_string())))
        .collect()
}

/// True when a rules text makes the configuration immutable.
pub(super) fn sets_immutable(text: &str) -> bool {
    text.lines().any(is_immutable_line)
}
