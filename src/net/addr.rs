//! Host names and addresses to socket addresses.

use std::net::{SocketAddr, ToSocketAddrs};

use crate::{Error, Result};

/// Every address `host` (a name, an IPv4 address or an IPv6 address,
/// bracketed or not) has, with `port`, in the resolver's order. A name that
/// does not resolve, or resolves to nothing, is [`Error::NotFound`].
///
/// ```
/// let addrs = xipc::net::resolve("127.0.0.1", 111)?;
/// assert_eq!(addrs, ["127.0.0.1:111".parse().unwrap()]);
/// assert_eq!(xipc::net::resolve("[::1]", 7)?[0].port(), 7);
/// assert!(matches!(xipc::net::resolve("no-such-host.invalid", 1), Err(xipc::Error::NotFound(_))));
/// # Ok::<(), xipc::Error>(())
/// ```
pub fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let addrs: Vec<SocketAddr> = (bare, port)
        .to_socket_addrs()
        .map_err(|e| Error::NotFound(format!("cannot resolve host {host:?}: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(Error::NotFound(format!("host {host:?} has no address")));
    }
    Ok(addrs)
}

/// One address of `host`: its first IPv4 address when it has one (what a
/// listener bound to an IPv4 wildcard and most ONC RPC peers expect), else
/// its first address.
pub fn resolve_one(host: &str, port: u16) -> Result<SocketAddr> {
    let addrs = resolve(host, port)?;
    Ok(*addrs.iter().find(|a| a.is_ipv4()).unwrap_or(&addrs[0]))
}
