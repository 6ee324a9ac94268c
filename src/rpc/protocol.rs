//! The transports ONC RPC runs on, as clients, servers and rpcbind name them.

use crate::{Error, Result};

/// The transport a client or listener uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// TCP: calls and replies as records (RFC 5531 record marking).
    Tcp,
    /// UDP: one call or reply per datagram.
    Udp,
    /// A Unix stream socket; the "host" is its path.
    Unix,
}

impl Protocol {
    /// Parses "tcp", "udp" or "unix" (also "local").
    ///
    /// ```
    /// use xipc::rpc::Protocol;
    /// assert_eq!(Protocol::parse("udp")?, Protocol::Udp);
    /// assert_eq!(Protocol::parse("local")?.netid(), "local");
    /// assert!(Protocol::parse("sctp").is_err());
    /// # Ok::<(), xipc::Error>(())
    /// ```
    pub fn parse(name: &str) -> Result<Protocol> {
        match name {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            "unix" | "local" => Ok(Protocol::Unix),
            other => Err(Error::InvalidArgument(format!(
                "unknown protocol {other:?}; use \"tcp\", \"udp\" or \"unix\""
            ))),
        }
    }

    /// The rpcbind netid ("tcp", "udp", "local").
    pub fn netid(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Unix => "local",
        }
    }
}

/// Largest UDP payload (IPv4).
pub const MAX_UDP_MESSAGE: usize = 65507;
