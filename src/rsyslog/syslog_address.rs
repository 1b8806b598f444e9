//! Docker's `syslog-address` option.

use std::net::IpAddr;

use super::bind::bare_host;
use super::proto::Proto;

/// (proto, host, port) of a tcp:// or udp:// syslog-address, port 514 by
/// default; None for unix://, tcp+tls:// and anything malformed, since no
/// local plain listener can serve those.
pub(crate) fn parse_syslog_address(addr: &str) -> Option<(Proto, String, u16)> {
    let (scheme, rest) = addr.trim().split_once("://")?;
    let proto = match scheme.to_ascii_lowercase().as_str() {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        _ => return None,
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#', '@']) {
        return None;
    }
    let (host, port) = if let Some(r) = rest.strip_prefix('[') {
        let (h, after) = r.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (h, port)
    } else {
        match rest.split_once(':') {
            // Unbracketed IPv6 is ambiguous: Docker rejects it too.
            Some((_, p)) if p.contains(':') => return None,
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() || host.contains(['[', ']']) {
        return None;
    }
    let port = match port {
        None => 514,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n != 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return None,
        },
    };
    Some((proto, host.to_string(), port))
}

/// True for a host that names this machine: 127.0.0.0/8, ::1, localhost.
pub(crate) fn is_local_host(host: &str) -> bool {
    let h = bare_host(host);
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match h.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback(),
        Ok(IpAddr::V6(v6)) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rsyslog::proto::Proto;
    use proptest::prelude::*;

    #[test]
    fn syslog_address() {
        assert_eq!(
            parse_syslog_address("tcp://127.0.0.1:514"),
            Some((Proto::Tcp, "127.0.0.1".into(), 514))
        );
        assert_eq!(
            parse_syslog_address("udp://host:1514"),
            Some((Proto::Udp, "host".into(), 1514))
        );
        assert_eq!(
            parse_syslog_address("tcp://[::1]:514"),
            Some((Proto::Tcp, "::1".into(), 514))
        );
        assert_eq!(
            parse_syslog_address("udp://[::1]"),
            Some((Proto::Udp, "::1".into(), 514))
        );
        assert_eq!(
            parse_syslog_address("tcp://localhost"),
            Some((Proto::Tcp, "localhost".into(), 514))
        );
        assert_eq!(parse_syslog_address("unix:///dev/log"), None);
        assert_eq!(parse_syslog_address("tcp+tls://127.0.0.1:6514"), None);
        assert_eq!(parse_syslog_address("tcp://127.0.0.1:99999"), None);
        assert_eq!(parse_syslog_address("tcp://:514"), None);
        assert_eq!(parse_syslog_address("tcp://::1"), None);
        assert_eq!(parse_syslog_address("127.0.0.1:514"), None);
    }

    #[test]
    fn local_hosts() {
        for h in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
            "localhost",
            "LOCALHOST.",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_local_host(h), "{h}");
        }
        for h in [
            "10.0.0.1",
            "128.0.0.1",
            "example.com",
            "",
            "::2",
            "localhost.example.com",
        ] {
            assert!(!is_local_host(h), "{h}");
        }
    }

    proptest! {
        #[test]
        fn address_roundtrip(udp in any::<bool>(), a in any::<[u8; 4]>(), port in 1u16..) {
            let host = format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]);
            let scheme = if udp { "udp" } else { "tcp" };
            let (p, h, n) = parse_syslog_address(&format!("{scheme}://{host}:{port}")).unwrap();
            prop_assert_eq!(p, if udp { Proto::Udp } else { Proto::Tcp });
            prop_assert_eq!(n, port);
            prop_assert_eq!(is_local_host(&h), a[0] == 127);
        }
    }
}
