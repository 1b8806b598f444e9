//! Helpers shared by the tests of this module.

use super::args::{ParsedArgs, parse_dockerd_args};
use super::systemd_unit::UnitFile;

pub(super) fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

pub(super) fn pairs(p: &ParsedArgs) -> Vec<(&str, &str)> {
    p.flags
        .iter()
        .map(|f| (f.name.as_str(), f.value.as_str()))
        .collect()
}

pub(super) fn parse(v: &[&str]) -> ParsedArgs {
    parse_dockerd_args(&s(v))
}

pub(super) fn unit(path: &str, text: &str) -> UnitFile {
    UnitFile {
        path: path.into(),
        text: text.into(),
    }
}
