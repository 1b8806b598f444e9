//! Where Docker's syslog log driver sends container logs, validated as dockerd would.

use serde::Deserialize;

/// How Docker's syslog log driver reaches the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyslogTransport {
    Tcp,
    Udp,
    TcpTls,
    Unix,
    Unixgram,
}

/// Where the receiver is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyslogEndpoint {
    /// tcp, udp, tcp+tls: a host name or address (IPv6 without brackets) and a port.
    Net { host: String, port: u16 },
    /// unix, unixgram: an absolute socket path.
    Socket(String),
}

/// A `syslog-address` for Docker's syslog log driver, validated when the playbook loads:
/// dockerd refuses to start with one it cannot use (`tcp//127.0.0.1:514`: "syslog-address
/// should be in form proto://address"), and so would every container with one that names no
/// port it can reach.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct SyslogAddress {
    text: String,
    pub transport: SyslogTransport,
    pub endpoint: SyslogEndpoint,
}

impl SyslogAddress {
    /// As written, which is what daemon.json gets.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// A network address on this machine (127.0.0.0/8, ::1, localhost): something here must
    /// receive on it.
    pub(crate) fn is_local(&self) -> bool {
        match &self.endpoint {
            SyslogEndpoint::Net { host, .. } => crate::rsyslog::is_local_host(host),
            SyslogEndpoint::Socket(_) => true,
        }
    }
}

impl std::fmt::Display for SyslogAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for SyslogAddress {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<SyslogAddress, String> {
        let fail = |why: &str| {
            format!(
                "`{text}` is not an address Docker's syslog log driver can use: {why} (write tcp://HOST:PORT, udp://HOST:PORT, tcp+tls://HOST:PORT or unix:///PATH)"
            )
        };
        // dockerd takes these schemes exactly as written here, in lower case, and refuses to
        // start on anything else.
        let (transport, rest) = [
            ("tcp://", SyslogTransport::Tcp),
            ("udp://", SyslogTransport::Udp),
            ("tcp+tls://", SyslogTransport::TcpTls),
            ("unix://", SyslogTransport::Unix),
            ("unixgram://", SyslogTransport::Unixgram),
        ]
        .into_iter()
        .find_map(|(scheme, t)| text.strip_prefix(scheme).map(|rest| (t, rest)))
        .ok_or_else(|| {
            fail("it must start with tcp://, udp://, tcp+tls://, unix:// or unixgram://")
        })?;
        let endpoint = match transport {
            SyslogTransport::Unix | SyslogTransport::Unixgram => {
                if !rest.starts_with('/') || rest.chars().any(char::is_whitespace) {
                    return Err(fail("the socket path must be absolute, without spaces"));
                }
                SyslogEndpoint::Socket(rest.to_string())
            }
            _ => {
                let rest = rest.strip_suffix('/').unwrap_or(rest);
                if rest.contains(['/', '?', '#', '@']) || rest.chars().any(char::is_whitespace) {
                    return Err(fail("only HOST or HOST:PORT may follow the scheme"));
                }
                let (host, port) = match rest.strip_prefix('[') {
                    Some(bracketed) => {
                        let (host, after) = bracketed
                            .split_once(']')
                            .ok_or_else(|| fail("an IPv6 address needs its closing `]`"))?;
                        if host.parse::<std::net::Ipv6Addr>().is_err() {
                            return Err(fail("only an IPv6 address goes in brackets"));
                        }
                        match after {
                            "" => (host, None),
                            _ => match after.strip_prefix(':') {
                                Some(port) => (host, Some(port)),
                                None => return Err(fail("a port follows `]:`")),
                            },
                        }
                    }
                    None => match rest.split_once(':') {
                        Some((_, p)) if p.contains(':') => {
                            return Err(fail("an IPv6 address goes in brackets: tcp://[::1]:514"));
                        }
                        Some((h, p)) => (h, Some(p)),
                        None => (rest, None),
                    },
                };
                if host.is_empty() || host.contains(['[', ']']) {
                    return Err(fail("it names no host"));
                }
                let port = match port {
                    None => 514,
                    Some(p) => p
                        .parse::<u16>()
                        .ok()
                        .filter(|n| *n != 0 && p.bytes().all(|b| b.is_ascii_digit()))
                        .ok_or_else(|| {
                            fail(&format!("port `{p}` is not a number from 1 to 65535"))
                        })?,
                };
                SyslogEndpoint::Net {
                    host: host.to_string(),
                    port,
                }
            }
        };
        Ok(SyslogAddress {
            text: text.to_string(),
            transport,
            endpoint,
        })
    }
}

/// How the playbook's `syslog_address` variable is read.
impl TryFrom<String> for SyslogAddress {
    type Error = String;

    fn try_from(text: String) -> std::result::Result<SyslogAddress, String> {
        text.parse().map_err(|e| format!("syslog_address: {e}"))
    }
}
