//! The embedded rpcbind as a running server: its listeners on the
//! addresses its options name, its Unix socket, and `xipc rpcbind`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::options::{RpcbindOptions, DEFAULT_MAX_REGISTRATIONS};
use super::prot::netid_for;
use super::server::serve_listing;
use crate::net::resolve_one;
use crate::rpc::protocol::Protocol;
use crate::rpc::svc::Service;
use crate::{Error, Result};

/// Builds an rpcbind server (portmap v2, rpcbind v3 and v4) on `server`,
/// listening on TCP and UDP `host:port` only, holding at most
/// [`DEFAULT_MAX_REGISTRATIONS`]; its own registrations are listed.
/// Returns the port.
pub fn serve_on(server: &Service, host: &str, port: u16) -> Result<u16> {
    serve_with_limit(server, host, port, DEFAULT_MAX_REGISTRATIONS)
}

/// [`serve_on`] holding at most `max_registrations` registrations: past
/// them SET answers FALSE (the only refusal rpcbind's protocol has) and the
/// server says why on stderr.
pub fn serve_with_limit(
    server: &Service,
    host: &str,
    port: u16,
    max_registrations: usize,
) -> Result<u16> {
    let options = RpcbindOptions::new()
        .port(port)
        .max_registrations(max_registrations);
    serve_hosts(server, &[(host.to_string(), true)], &options)
}

/// Builds an rpcbind server on `server` as `options` say: TCP and UDP on
/// each of [`RpcbindOptions::listen_addresses`], on one port, which is
/// returned. The Unix socket is left to the caller
/// ([`RpcbindServer`](crate::rpc::rpcbind::RpcbindServer) listens on it).
pub fn serve_with_options(server: &Service, options: &RpcbindOptions) -> Result<u16> {
    let addresses = options.listen_addresses();
    let hosts: Vec<(String, bool)> = addresses
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let required = options.is_given(a) || i == 0;
            (a.clone(), required)
        })
        .collect();
    serve_hosts(server, &hosts, options)
}

/// Listens on TCP and UDP of each of `hosts` on one port (the first
/// binding picks it when the options say 0) and serves rpcbind there,
/// listing itself under "tcp"/"udp" or "tcp6"/"udp6" as each host is IPv4
/// or IPv6. A host marked required that cannot be listened on is an
/// error; the others are skipped (no IPv6 here, an address already
/// covered by a wildcard).
fn serve_hosts(
    server: &Service,
    hosts: &[(String, bool)],
    options: &RpcbindOptions,
) -> Result<u16> {
    let mut port = options.port;
    let mut own = Vec::new();
    for (host, required) in hosts {
        let listened = server.listen_tcp(host, port).and_then(|tcp| {
            let udp = server.listen_udp(host, tcp)?;
            Ok((tcp, udp, resolve_one(host, tcp)?.is_ipv6()))
        });
        match listened {
            Ok((tcp, udp, six)) => {
                port = tcp;
                own.push((tcp, udp, six));
            }
            Err(e) if *required => return Err(e),
            Err(_) => {}
        }
    }
    serve_listing(server.dispatcher(), options, &own);
    Ok(port)
}

/// An embedded rpcbind serving on its own threads, from
/// [`start`](Self::start) until [`stop`](Self::stop) or until it is
/// dropped.
///
/// ```
/// use xipc::rpc::rpcbind::{Rpcbind, RpcbindOptions, RpcbindServer};
/// use xipc::rpc::Protocol;
///
/// let server = RpcbindServer::start(&RpcbindOptions::new().listen("127.0.0.1").port(0))?;
/// let rb = Rpcbind::with_port("127.0.0.1", server.port(), Protocol::Udp);
/// assert!(rb.set(0x2000_0106, 1, Protocol::Udp, 2049)?);
/// assert_eq!(rb.getport(0x2000_0106, 1, Protocol::Udp)?, 2049);
/// assert!(server.listeners().contains(&format!("udp 127.0.0.1 {}", server.port())));
/// server.stop();
/// # Ok::<(), xipc::Error>(())
/// ```
pub struct RpcbindServer {
    service: Service,
    port: u16,
    local_socket: Option<PathBuf>,
}

impl RpcbindServer {
    /// Listens as `options` say and starts serving. A port taken on an
    /// address given (or on the first default one) is [`Error::Exists`],
    /// and so is a file at the Unix socket's path that is not a socket
    /// (it is left as it is); a socket another server listens on there is
    /// left to it, and this server serves on no Unix socket.
    pub fn start(options: &RpcbindOptions) -> Result<RpcbindServer> {
        if options.max_registrations == 0 {
            return Err(Error::InvalidArgument(
                "an rpcbind must hold at least 1 registration".into(),
            ));
        }
        let service = Service::new();
        let port = serve_with_options(&service, options).map_err(|e| match e {
            Error::Os { ref source, .. } if source.raw_os_error() == Some(libc::EADDRINUSE) => {
                Error::Exists(format!(
                    "port {} is taken (is another rpcbind running?): {e}",
                    options.port
                ))
            }
            e => e,
        })?;
        let local_socket = match options.local_socket_path() {
            Some(path) => listen_local_socket(&service, &path)?.then_some(path),
            None => None,
        };
        service.start()?;
        Ok(RpcbindServer {
            service,
            port,
            local_socket,
        })
    }

    /// The TCP and UDP port it serves on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every TCP and UDP address it listens on.
    pub fn addresses(&self) -> Vec<(Protocol, SocketAddr)> {
        self.service.addresses()
    }

    /// The Unix socket it listens on, if any.
    pub fn local_socket(&self) -> Option<&Path> {
        self.local_socket.as_deref()
    }

    /// One line per listener, as `xipc rpcbind` prints them: the netid,
    /// the address and the port (`tcp 0.0.0.0 111`, `udp6 ::1 111`), then
    /// `local PATH` for the Unix socket.
    pub fn listeners(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .addresses()
            .into_iter()
            .map(|(proto, a)| format!("{} {} {}", netid_for(proto, a.is_ipv6()), a.ip(), a.port()))
            .collect();
        if let Some(path) = &self.local_socket {
            lines.push(format!("local {}", path.display()));
        }
        lines
    }

    /// Stops gracefully (see [`Service::stop`]); dropping it does the same.
    pub fn stop(&self) {
        self.service.stop();
    }
}

impl Drop for RpcbindServer {
    fn drop(&mut self) {
        self.service.stop();
    }
}

/// Serves on the Unix socket `path` through the one binder: a socket
/// file left by a server that is gone is replaced; a socket another
/// server listens on is left to it (false: already served); any other
/// file there is [`Error::Exists`] and stays as it is. Every user may
/// connect (0666), as to the system rpcbind: changes are checked against
/// the caller's uid, which the socket reports.
fn listen_local_socket(server: &Service, path: &Path) -> Result<bool> {
    match server.listen_unix_with_mode(path, 0o666) {
        Ok(()) => Ok(true),
        // The binder refuses a socket file only when a server answers on it.
        Err(Error::Exists(_)) if is_socket(path) => Ok(false),
        Err(e) => Err(e),
    }
}

fn is_socket(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket())
}

/// Runs an rpcbind server as `options` say until SIGTERM or SIGINT, then
/// stops gracefully: what `xipc rpcbind` does. Once it serves, it prints
/// [`RpcbindServer::listeners`](crate::rpc::rpcbind::RpcbindServer::listeners) to stdout, one per line, and flushes them,
/// so that a script that asked for port 0 learns the port.
pub fn run_server(options: &RpcbindOptions) -> Result<()> {
    use nix::sys::signal::{SigSet, Signal};
    // Blocked before the server's threads start, so they inherit the mask
    // and the signals wait for `set.wait()` below.
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    set.thread_block()
        .map_err(|e| Error::nix("block SIGTERM and SIGINT", e))?;
    let server = RpcbindServer::start(options)?;
    let mut out = std::io::stdout().lock();
    for line in server.listeners() {
        // A reader that went away is no reason to stop serving.
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
    drop(out);
    let waited = set.wait();
    server.stop();
    waited
        .map(|_| ())
        .map_err(|e| Error::nix("wait for a signal", e))
}
