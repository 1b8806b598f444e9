//! The two transports rsyslog receives Docker's syslog on, and the input module for each.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub(crate) fn module(self) -> &'static str {
        match self {
            Proto::Tcp => "imtcp",
            Proto::Udp => "imudp",
        }
    }
}
