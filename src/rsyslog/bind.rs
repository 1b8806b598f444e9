//! The local address an input binds to, and which clients reach it.

use std::net::IpAddr;

/// The local address an input binds to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bind {
    /// No `address`, an empty one, `*` or a wildcard address: rsyslog binds every interface
    /// (0.0.0.0 and [::]), so anyone who can reach the host can send it logs.
    Every,
    /// One address or host name, as written.
    Only(String),
}

impl Bind {
    pub(super) fn of(value: Option<&str>) -> Bind {
        let v = value.map(str::trim).unwrap_or("");
        let unbracketed = v
            .strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(v);
        let wildcard = unbracketed
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_unspecified());
        if v.is_empty() || v == "*" || wildcard {
            Bind::Every
        } else {
            Bind::Only(v.to_string())
        }
    }

    /// Whether a client that connects to `host` (the syslog-address's host) reaches an input
    /// bound here.
    pub(crate) fn serves(&self, host: &str) -> bool {
        match self {
            Bind::Every => true,
            Bind::Only(bound) => same_host(bound, host),
        }
    }
}

impl std::fmt::Display for Bind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bind::Every => f.write_str("every interface"),
            Bind::Only(a) => f.write_str(a),
        }
    }
}

/// An address as rsyslog's `address` parameter takes it: no brackets, no trailing dot, an
/// IPv4-mapped IPv6 address as the IPv4 one (what the kernel binds for it), names in lower
/// case.
pub(crate) fn bind_address(host: &str) -> String {
    let h = bare_host(host);
    match h.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        Ok(ip) => ip.to_string(),
        Err(_) => h.to_ascii_lowercase(),
    }
}

/// A host without the brackets of an IPv6 literal and the trailing dot of a fully qualified
/// name, which name the same address.
pub(super) fn bare_host(host: &str) -> &str {
    let h = host.trim();
    let h = h
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(h);
    h.strip_suffix('.').unwrap_or(h)
}

/// Two spellings of one local address. `localhost` stands for every loopback address: rsyslog
/// and dockerd both resolve it through /etc/hosts, to 127.0.0.1, ::1 or both, and dockerd
/// tries each.
pub(super) fn same_host(a: &str, b: &str) -> bool {
    let (a, b) = (bind_address(a), bind_address(b));
    let loopback =
        |h: &str| h == "localhost" || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    a == b || ((a == "localhost" || b == "localhost") && loopback(&a) && loopback(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_bind_serves_which_host() {
        let only = |a: &str| Bind::Only(a.into());
        assert!(Bind::Every.serves("127.0.0.1"));
        assert!(only("127.0.0.1").serves("127.0.0.1"));
        assert!(only("127.0.0.1").serves("::ffff:127.0.0.1"));
        assert!(!only("127.0.0.1").serves("::1"));
        assert!(!only("127.0.0.1").serves("127.0.0.2"));
        assert!(only("::1").serves("[::1]"));
        assert!(only("0:0:0:0:0:0:0:1").serves("::1"));
        assert!(only("localhost").serves("127.0.0.1"));
        assert!(only("LOCALHOST.").serves("::1"));
        assert!(only("127.0.0.1").serves("localhost"));
        assert!(!only("10.0.0.5").serves("localhost"));
        assert!(!only("10.0.0.5").serves("127.0.0.1"));
        assert_eq!(bind_address("[::1]"), "::1");
        assert_eq!(bind_address("::ffff:127.0.0.1"), "127.0.0.1");
        assert_eq!(bind_address("LocalHost."), "localhost");
    }
}
