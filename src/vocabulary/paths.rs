//! Where a Debian-style Docker host keeps what docker-harden reads and writes, for the system
//! daemon. A rootless daemon's paths are derived from its user's directories (`crate::daemons`).

/// systemd's unit search path for system units, highest priority first.
pub(crate) const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
];
pub(crate) const DEFAULT_CONFIG_FILE: &str = "/etc/docker/daemon.json";
pub(crate) const DEFAULT_DATA_ROOT: &str = "/var/lib/docker";
pub(crate) const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
pub(crate) const DEFAULT_DOCKER_FILE: &str = "/etc/default/docker";
pub(crate) const SYSCONFIG_DOCKER_FILE: &str = "/etc/sysconfig/docker";

/// The drop-in that carries the dockerd flags docker-harden moves out of ExecStart.
pub const FLAGS_DROPIN: &str = "/etc/systemd/system/docker.service.d/zz-docker-harden.conf";

/// The subordinate ID databases userns-remap draws from.
pub(crate) const SUBUID: &str = "/etc/subuid";
pub(crate) const SUBGID: &str = "/etc/subgid";
pub(crate) const PASSWD: &str = "/etc/passwd";
pub(crate) const GROUP: &str = "/etc/group";
