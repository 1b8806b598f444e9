//! The statements docker-harden writes into rsyslog configuration.

use super::bind::bind_address;
use super::proto::Proto;
use super::statement::Style;

/// Header written above statements this module adds, so a person reading the
/// config later knows where they came from.
pub(crate) const HEADER: &str =
    "# docker-harden: receive syslog from Docker's syslog log driver (CIS 2.13)";

pub(super) fn module_stmt(proto: Proto, style: Style) -> String {
    match style {
        Style::Rainer => format!("module(load=\"{}\")", proto.module()),
        Style::Legacy => format!("$ModLoad {}", proto.module()),
    }
}

/// Always RainerScript: the legacy `$InputTCPServerRun` has no way to name an address (imtcp
/// knows no legacy directive for it; rsyslogd 8.2302 rejects `$InputTCPServerAddress`), so an
/// input written in it listens on every interface.
pub(super) fn input_stmt(proto: Proto, port: u16, host: &str) -> String {
    format!(
        "input(type=\"{}\" port=\"{port}\" address=\"{}\")",
        proto.module(),
        bind_address(host)
    )
}
