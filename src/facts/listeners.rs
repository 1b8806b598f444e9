//! TCP sockets listening on the live host, from /proc/net/tcp and /proc/net/tcp6 (what `ss -lnt`
//! reads): for the swarm item that asks which address the manager port is bound to, and for the
//! syslog listener, which must be open where dockerd sends and nowhere else.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

use crate::error::{Error, Result};
use crate::rootfs::RootFs;

/// The kernel's code for a listening socket.
const LISTEN: &str = "0A";

/// Listening addresses in one /proc/net/tcp{,6} table; lines that do not parse are skipped.
pub(crate) fn parse(table: &str) -> Vec<SocketAddr> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.get(3) != Some(&LISTEN) {
                return None;
            }
            let (ip, port) = fields.get(1)?.split_once(':')?;
            let port = u16::from_str_radix(port, 16).ok()?;
            Some(SocketAddr::new(address(ip)?, port))
        })
        .collect()
}

/// The kernel prints each 32-bit word of the address in the host's byte order.
fn address(hex: &str) -> Option<IpAddr> {
    let words: Vec<u32> = (0..hex.len() / 8)
        .map(|i| u32::from_str_radix(hex.get(i * 8..i * 8 + 8)?, 16).ok())
        .collect::<Option<_>>()?;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
    match bytes.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::new(
            bytes[0], bytes[1], bytes[2], bytes[3],
        ))),
        16 => {
            let array: [u8; 16] = bytes.try_into().ok()?;
            let v6 = Ipv6Addr::from(array);
            Some(match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(v6),
            })
        }
        _ => None,
    }
}

/// Listening sockets of both tables in the network namespace whose /proc net directory is
/// `net` (`/proc/net`: ours; `/proc/PID/net`: a process's), read under the root. A table that
/// cannot be read adds nothing: the kernel's files are there on every live host, and a root
/// without them (a fixture) has no listeners to show.
pub fn read(rootfs: &RootFs, net: &str) -> Vec<SocketAddr> {
    ["tcp", "tcp6"]
        .iter()
        .filter_map(|table| rootfs.read(&Path::new(net).join(table)).ok().flatten())
        .flat_map(|bytes| parse(&String::from_utf8_lossy(&bytes)))
        .collect()
}

/// Whether a socket bound to `ip` is where a client of `host` (a syslog-address's host)
/// connects: that address, or any loopback address for `localhost`, which both dockerd and
/// rsyslog resolve through /etc/hosts.
pub(crate) fn at_host(host: &str, ip: IpAddr) -> bool {
    let host = crate::rsyslog::bind_address(host);
    match host.parse::<IpAddr>() {
        Ok(want) => want == ip,
        Err(_) => host == "localhost" && ip.is_loopback(),
    }
}

/// The sockets listening on `port` anywhere but at `host`: a wildcard (0.0.0.0, [::]) or
/// another interface's address.
pub(crate) fn elsewhere(listeners: &[SocketAddr], host: &str, port: u16) -> Vec<SocketAddr> {
    let mut out: Vec<SocketAddr> = listeners
        .iter()
        .filter(|l| l.port() == port && !at_host(host, l.ip()))
        .copied()
        .collect();
    out.sort();
    out.dedup();
    out
}

/// "0.0.0.0:514, [::]:514"
pub(crate) fn names(listeners: &[SocketAddr]) -> String {
    listeners
        .iter()
        .map(SocketAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Judges the syslog port once rsyslog accepts again after its restart: `now` are the
/// listening sockets then, `before` those the run's facts saw. A socket on the port anywhere
/// but at `host` that was not there before was opened by the restart, that is, by the
/// configuration this run wrote: that fails the step (the caller rolls the run back, which
/// restarts rsyslog on the old configuration and closes it), since a fix must never widen what
/// listens. One that was there before is reported: this run did not open it and rolling back
/// would not close it (another program, or an input the operator configured). When
/// `recovering` (the previous configuration is being restored) nothing fails: the old
/// configuration is what was asked for.
pub(crate) fn judge_after_restart(
    now: &[SocketAddr],
    before: &[SocketAddr],
    host: &str,
    port: u16,
    recovering: bool,
) -> Result<Option<String>> {
    let stray = elsewhere(now, host, port);
    let (old, new): (Vec<SocketAddr>, Vec<SocketAddr>) =
        stray.iter().partition(|l| before.contains(l));
    if !new.is_empty() && !recovering {
        return Err(Error::SyslogListenerWide {
            port,
            host: host.to_string(),
            opened: names(&new),
        });
    }
    if stray.is_empty() {
        return Ok(Some(format!(
            "tcp port {port} listens only at {host}, where dockerd sends"
        )));
    }
    let (there, since) = if recovering {
        (stray, "with the restored configuration")
    } else {
        (old, "as before this run; docker-harden did not open it")
    };
    Ok(Some(format!(
        "warning: tcp port {port} is also open at {} besides {host}, {since}; `docker-harden check` reports it under remote logging",
        names(&there)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_listening_sockets_of_both_tables() {
        // As a little-endian kernel writes them.
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:0949 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n   2: 0100007F:0949 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0\n";
        let v6 = "  sl  local_address                         remote_address                        st\n   0: 00000000000000000000000000000000:0949 00000000000000000000000000000000:0000 0A 0\n   1: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 0A 0\n";
        if cfg!(target_endian = "little") {
            assert_eq!(
                parse(v4),
                vec![
                    "127.0.0.1:2377".parse::<SocketAddr>().unwrap(),
                    "0.0.0.0:22".parse().unwrap()
                ]
            );
            assert_eq!(
                parse(v6),
                vec![
                    "[::]:2377".parse::<SocketAddr>().unwrap(),
                    "127.0.0.1:8080".parse().unwrap()
                ]
            );
        }
        assert_eq!(parse("header\ngarbage line\n   0: zz:0949 x 0A\n"), vec![]);
    }

    fn socks(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn listeners_elsewhere_than_the_host() {
        let all = socks(&[
            "127.0.0.1:514",
            "0.0.0.0:514",
            "[::]:514",
            "[::1]:514",
            "10.0.0.5:514",
            "0.0.0.0:22",
        ]);
        assert_eq!(
            elsewhere(&all, "127.0.0.1", 514),
            socks(&["0.0.0.0:514", "10.0.0.5:514", "[::]:514", "[::1]:514"])
        );
        assert_eq!(
            elsewhere(&all, "[::1]", 514),
            socks(&["0.0.0.0:514", "10.0.0.5:514", "127.0.0.1:514", "[::]:514"])
        );
        // localhost may resolve to either loopback address.
        assert_eq!(
            elsewhere(&all, "localhost", 514),
            socks(&["0.0.0.0:514", "10.0.0.5:514", "[::]:514"])
        );
        assert!(elsewhere(&all, "127.0.0.1", 1514).is_empty());
    }

    #[test]
    fn after_restart_a_new_wide_socket_fails_an_old_one_warns() {
        let narrow = socks(&["127.0.0.1:514"]);
        let wide = socks(&["0.0.0.0:514", "[::]:514"]);
        let both: Vec<SocketAddr> = narrow.iter().chain(&wide).copied().collect();
        assert_eq!(
            judge_after_restart(&narrow, &wide, "127.0.0.1", 514, false).unwrap(),
            Some("tcp port 514 listens only at 127.0.0.1, where dockerd sends".into())
        );
        let err = judge_after_restart(&both, &[], "127.0.0.1", 514, false).unwrap_err();
        assert!(
            err.to_string()
                .contains("tcp port 514 is open at 0.0.0.0:514, [::]:514, not only at 127.0.0.1"),
            "{err}"
        );
        let line = judge_after_restart(&both, &wide, "127.0.0.1", 514, false)
            .unwrap()
            .unwrap();
        assert!(
            line.starts_with("warning: tcp port 514 is also open at 0.0.0.0:514, [::]:514 besides 127.0.0.1, as before this run"),
            "{line}"
        );
        // Only what is new fails; restoring an old configuration never does.
        let one_new = judge_after_restart(&both, &wide[..1], "127.0.0.1", 514, false).unwrap_err();
        assert!(
            one_new.to_string().contains("open at [::]:514, not"),
            "{one_new}"
        );
        let restored = judge_after_restart(&both, &[], "127.0.0.1", 514, true)
            .unwrap()
            .unwrap();
        assert!(
            restored.contains("with the restored configuration"),
            "{restored}"
        );
    }
}
