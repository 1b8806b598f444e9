//! The playbook's variables, validated: the values fixers write.

use super::SyslogAddress;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variables {
    pub syslog_address: SyslogAddress,
    pub userns_remap: String,
    pub audit_key: String,
    pub extra_audit_paths: Vec<String>,
    /// `fix --yes` may restart dockerd even where that stops running containers (live restore
    /// cannot be on first, as on a swarm node).
    pub allow_container_restart: bool,
}
