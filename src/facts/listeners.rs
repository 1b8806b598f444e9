//! TCP sockets listening on the live host, from /proc/net/tcp and /proc/net/tcp6 (what `ss -lnt`
//! reads), for the swarm item that asks which address the manager port is bound to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The kernel's code for a listening socket.
const LISTEN: &str = "0A";

/// Listening addresses in one /proc/net/tcp{,6} table; lines that do not parse are skipped.
pub fn parse(table: &str) -> Vec<SocketAddr> {
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
}
