//! dockerd's flags: which take a value, their shorthands, and the daemon.json key of each.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Bool,
    Value,
}

#[derive(Debug)]
pub(super) struct Spec {
    pub(super) name: &'static str,
    pub(super) short: Option<char>,
    pub(super) kind: Kind,
    pub(super) json: Option<&'static str>,
}

pub(super) const fn b(name: &'static str, json: Option<&'static str>) -> Spec {
    Spec {
        name,
        short: None,
        kind: Kind::Bool,
        json,
    }
}

pub(super) const fn v(name: &'static str, json: Option<&'static str>) -> Spec {
    Spec {
        name,
        short: None,
        kind: Kind::Value,
        json,
    }
}

pub(super) const fn sv(name: &'static str, short: char, json: Option<&'static str>) -> Spec {
    Spec {
        name,
        short: Some(short),
        kind: Kind::Value,
        json,
    }
}

pub(super) const fn sb(name: &'static str, short: char, json: Option<&'static str>) -> Spec {
    Spec {
        name,
        short: Some(short),
        kind: Kind::Bool,
        json,
    }
}

/// dockerd's flags (current and the removed ones that still appear in old
/// configuration files). Whether a flag is boolean decides how the next
/// argument is consumed, so this table must stay complete for booleans;
/// an unknown flag is guessed to take a value (see [`parse_dockerd_args`]).
pub(super) static SPECS: &[Spec] = &[
    // Booleans.
    sb("debug", 'D', Some("debug")),
    sb("help", 'h', None),
    sb("version", 'v', None),
    b("icc", Some("icc")),
    b("iptables", Some("iptables")),
    b("ip6tables", Some("ip6tables")),
    b("ip-forward", Some("ip-forward")),
    b("ip-forward-no-drop", Some("ip-forward-no-drop")),
    b("ip-masq", Some("ip-masq")),
    b("ipv6", Some("ipv6")),
    b("userland-proxy", Some("userland-proxy")),
    b("live-restore", Some("live-restore")),
    b("no-new-privileges", Some("no-new-privileges")),
    b("selinux-enabled", Some("selinux-enabled")),
    b("experimental", Some("experimental")),
    b("tls", Some("tls")),
    b("tlsverify", Some("tlsverify")),
    b("raw-logs", Some("raw-logs")),
    b("init", Some("init")),
    b("rootless", Some("rootless")),
    b("validate", None),
    b("disable-legacy-registry", Some("disable-legacy-registry")),
    // Value flags with shorthands.
    sv("host", 'H', Some("hosts")),
    sv("log-level", 'l', Some("log-level")),
    sv("graph", 'g', Some("data-root")),
    sv("storage-driver", 's', Some("storage-driver")),
    sv("bridge", 'b', Some("bridge")),
    sv("group", 'G', Some("group")),
    sv("pidfile", 'p', Some("pidfile")),
    sv("exec-driver", 'e', None),
    // Value flags.
    v("add-runtime", Some("runtimes")),
    v(
        "allow-nondistributable-artifacts",
        Some("allow-nondistributable-artifacts"),
    ),
    v("api-cors-header", Some("api-cors-header")),
    v("authorization-plugin", Some("authorization-plugins")),
    v("bip", Some("bip")),
    v("cgroup-parent", Some("cgroup-parent")),
    v("cluster-advertise", Some("cluster-advertise")),
    v("cluster-store", Some("cluster-store")),
    v("cluster-store-opt", Some("cluster-store-opts")),
    v("config-file", None),
    v("containerd", Some("containerd")),
    v("containerd-namespace", Some("containerd-namespace")),
    v(
        "containerd-plugins-namespace",
        Some("containerd-plugin-namespace"),
    ),
    v("cpu-rt-period", Some("cpu-rt-period")),
    v("cpu-rt-runtime", Some("cpu-rt-runtime")),
    v("cri-containerd", Some("cri-containerd")),
    v("data-root", Some("data-root")),
    v("default-address-pool", Some("default-address-pools")),
    v("default-cgroupns-mode", Some("default-cgroupns-mode")),
    v("default-gateway", Some("default-gateway")),
    v("default-gateway-v6", Some("default-gateway-v6")),
    v("default-ipc-mode", Some("default-ipc-mode")),
    v("default-runtime", Some("default-runtime")),
    v("default-shm-size", Some("default-shm-size")),
    v("default-ulimit", Some("default-ulimits")),
    v("dns", Some("dns")),
    v("dns-opt", Some("dns-opts")),
    v("dns-search", Some("dns-search")),
    v("exec-opt", Some("exec-opts")),
    v("exec-root", Some("exec-root")),
    v("feature", Some("features")),
    v("fixed-cidr", Some("fixed-cidr")),
    v("fixed-cidr-v6", Some("fixed-cidr-v6")),
    v("host-gateway-ip", Some("host-gateway-ip")),
    // Proxies live in a nested "proxies" object, not a top-level key.
    v("http-proxy", None),
    v("https-proxy", None),
    v("no-proxy", None),
    v("init-path", Some("init-path")),
    v("insecure-registry", Some("insecure-registries")),
    v("ip", Some("ip")),
    v("label", Some("labels")),
    v("log-driver", Some("log-driver")),
    v("log-format", Some("log-format")),
    v("log-opt", Some("log-opts")),
    v("max-concurrent-downloads", Some("max-concurrent-downloads")),
    v("max-concurrent-uploads", Some("max-concurrent-uploads")),
    v("max-download-attempts", Some("max-download-attempts")),
    v("metrics-addr", Some("metrics-addr")),
    v("mtu", Some("mtu")),
    v(
        "network-control-plane-mtu",
        Some("network-control-plane-mtu"),
    ),
    v("node-generic-resource", Some("node-generic-resources")),
    v("oom-score-adjust", Some("oom-score-adjust")),
    v("registry-mirror", Some("registry-mirrors")),
    v("seccomp-profile", Some("seccomp-profile")),
    v("shutdown-timeout", Some("shutdown-timeout")),
    v("storage-opt", Some("storage-opts")),
    v(
        "swarm-default-advertise-addr",
        Some("swarm-default-advertise-addr"),
    ),
    v("tlscacert", Some("tlscacert")),
    v("tlscert", Some("tlscert")),
    v("tlskey", Some("tlskey")),
    v("userland-proxy-path", Some("userland-proxy-path")),
    v("userns-remap", Some("userns-remap")),
];

pub(super) fn spec(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name)
}

pub(super) fn short_spec(c: char) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.short == Some(c))
}

/// Canonical flag name -> daemon.json key. `None` for unknown flags and for
/// flags with no top-level daemon.json equivalent (`config-file`, `help`,
/// proxies, the removed `exec-driver`). The removed `graph` maps to
/// `data-root` because that is the key that now holds the same setting.
pub(crate) fn json_key(flag_name: &str) -> Option<&'static str> {
    spec(flag_name).and_then(|s| s.json)
}

/// Whether dockerd declares `name` as a boolean flag.
pub(crate) fn is_bool_flag(name: &str) -> bool {
    spec(name).is_some_and(|s| s.kind == Kind::Bool)
}

/// Whether `name` is a flag this module knows about.
pub(crate) fn is_known_flag(name: &str) -> bool {
    spec(name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keys() {
        for (flag, key) in [
            ("icc", "icc"),
            ("iptables", "iptables"),
            ("ip-forward", "ip-forward"),
            ("ip-masq", "ip-masq"),
            ("userland-proxy", "userland-proxy"),
            ("live-restore", "live-restore"),
            ("no-new-privileges", "no-new-privileges"),
            ("log-level", "log-level"),
            ("log-driver", "log-driver"),
            ("log-opt", "log-opts"),
            ("host", "hosts"),
            ("data-root", "data-root"),
            ("graph", "data-root"),
            ("storage-driver", "storage-driver"),
            ("storage-opt", "storage-opts"),
            ("userns-remap", "userns-remap"),
            ("insecure-registry", "insecure-registries"),
            ("registry-mirror", "registry-mirrors"),
            ("tlsverify", "tlsverify"),
            ("tls", "tls"),
            ("tlscacert", "tlscacert"),
            ("tlscert", "tlscert"),
            ("tlskey", "tlskey"),
            ("selinux-enabled", "selinux-enabled"),
            ("experimental", "experimental"),
            ("cgroup-parent", "cgroup-parent"),
            ("default-ulimit", "default-ulimits"),
            ("authorization-plugin", "authorization-plugins"),
            ("seccomp-profile", "seccomp-profile"),
            ("bridge", "bridge"),
            ("group", "group"),
            ("pidfile", "pidfile"),
            ("exec-root", "exec-root"),
            ("debug", "debug"),
            ("label", "labels"),
            ("dns", "dns"),
            ("containerd", "containerd"),
            ("default-runtime", "default-runtime"),
            ("exec-opt", "exec-opts"),
        ] {
            assert_eq!(json_key(flag), Some(key), "{flag}");
        }
        assert_eq!(json_key("config-file"), None);
        assert!(is_known_flag("config-file"));
        assert_eq!(json_key("nonsense"), None);
        assert!(is_bool_flag("icc") && is_bool_flag("live-restore"));
        assert!(!is_bool_flag("log-level") && !is_bool_flag("nonsense"));
        assert_eq!(short_spec('H').map(|s| s.name), Some("host"));
    }
}
