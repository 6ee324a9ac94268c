//! A client of rpcbind: registering, looking up and listing services, and
//! having rpcbind forward calls.

use std::net::SocketAddr;
use std::time::Duration;

use super::prot::{
    format_uaddr, lossy, netid_for, parse_uaddr, proc, Mapping, RmtCall, Rpcb, RpcbEntry, RpcbStat,
    IPPROTO_TCP, IPPROTO_UDP, LOCAL_SOCKET, MAX_RPCB_STRING, PORT, PROGRAM,
};
use crate::net::{connect_tcp, connect_unix, resolve_one, Deadline, TlsConfig};
use crate::rpc::client::{Client, DEFAULT_TIMEOUT};
use crate::rpc::protocol::Protocol;
use crate::xdr::{Decoder, Encoder};
use crate::{Error, Result};

/// How long [`Rpcbind::local`] waits for this machine's rpcbind to accept
/// a connection, on its Unix socket and then on TCP: a local rpcbind
/// answers at once, and a server starting without one should not wait.
const LOCAL_PROBE_TIMEOUT: Duration = Duration::from_millis(300);

/// Where [`Rpcbind::local`] looks for rpcbind over TCP.
const LOOPBACK: &str = "127.0.0.1";

fn prot_of(proto: Protocol) -> Result<u32> {
    match proto {
        Protocol::Tcp => Ok(IPPROTO_TCP),
        Protocol::Udp => Ok(IPPROTO_UDP),
        Protocol::Unix => Err(Error::InvalidArgument(
            "portmap v2 knows only TCP and UDP".into(),
        )),
    }
}

/// A client of one rpcbind server.
///
/// ```
/// use xipc::rpc::rpcbind::{self, Rpcbind};
/// use xipc::rpc::{Protocol, Server};
///
/// // An embedded rpcbind on a free port (port 111 is the usual one).
/// let server = Server::new();
/// let port = rpcbind::serve_on(&server, "127.0.0.1", 0)?;
/// server.start()?;
///
/// let rb = Rpcbind::with_port("127.0.0.1", port, Protocol::Tcp);
/// assert!(rb.set(0x2000_0105, 1, Protocol::Tcp, 2049)?);
/// assert_eq!(rb.getport(0x2000_0105, 1, Protocol::Tcp)?, 2049);
/// assert_eq!(rb.getaddr(0x2000_0105, 1, "tcp")?.as_deref(), Some("127.0.0.1.8.1"));
/// assert!(rb.unset(0x2000_0105, 1)?);
/// assert_eq!(rb.getaddr(0x2000_0105, 1, "tcp")?, None);
/// server.stop();
/// # Ok::<(), xipc::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Rpcbind {
    host: String,
    port: u16,
    proto: Protocol,
    timeout: Option<Duration>,
    tls: Option<TlsConfig>,
    /// When every query must have ended (a lookup's deadline), besides
    /// each query's own timeout.
    until: Deadline,
}

impl Rpcbind {
    /// rpcbind on `host`, port 111, over TCP.
    pub fn new(host: &str) -> Rpcbind {
        Rpcbind::with_port(host, PORT, Protocol::Tcp)
    }

    /// rpcbind at `host:port` over `proto` (for [`Protocol::Unix`], `host`
    /// is the socket's path).
    pub fn with_port(host: &str, port: u16, proto: Protocol) -> Rpcbind {
        Rpcbind {
            host: host.to_string(),
            port,
            proto,
            timeout: Some(Duration::from_secs(5)),
            tls: None,
            until: Deadline::NEVER,
        }
    }

    /// This machine's rpcbind: through its Unix socket ([`LOCAL_SOCKET`])
    /// when it has one, where rpcbind learns who is asking (so what this
    /// process registers, only it or root may remove), else on
    /// 127.0.0.1:111 (each checked now, waiting at most 300 ms for a
    /// connection).
    pub fn local() -> Result<Rpcbind> {
        let probe = || Deadline::after(Some(LOCAL_PROBE_TIMEOUT));
        let mut rb = if connect_unix(LOCAL_SOCKET, probe()).is_ok() {
            Rpcbind::with_port(LOCAL_SOCKET, 0, Protocol::Unix)
        } else {
            connect_tcp(LOOPBACK, PORT, probe())?;
            Rpcbind::new(LOOPBACK)
        };
        rb.timeout = Some(Duration::from_secs(2));
        Ok(rb)
    }

    /// The timeout of each query, connecting included (default 5 s;
    /// `None`: no limit).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// Asks over RPC-with-TLS (RFC 9289) under `tls`'s policy (`None`: in
    /// the clear, the default). rpcbind itself seldom speaks TLS; an xipc
    /// server carrying the rpcbind program on a TLS listener does.
    pub fn set_tls(&mut self, tls: Option<TlsConfig>) {
        self.tls = tls;
    }

    /// A client for one query, connected and with its call timeout within
    /// the query's timeout and the handle's deadline.
    fn client(&self, vers: u32) -> Result<Client> {
        let query = Deadline::after(self.timeout).earliest(self.until);
        let late = || Error::TimedOut(format!("rpcbind on {} did not answer in time", self.host));
        let left = |d: Deadline| match d.remaining() {
            Some(t) if t.is_zero() => Err(late()),
            t => Ok(t),
        };
        let (host, tls) = (&self.host, self.tls.as_ref());
        let c = Client::connect_timeout(
            host,
            self.port,
            PROGRAM,
            vers,
            self.proto,
            tls,
            left(query)?,
        )?;
        c.set_timeout(left(query)?)?;
        Ok(c)
    }

    /// Portmap v2 SET: registers `prog`/`vers` on `port`; false when a
    /// mapping for them and the protocol exists already.
    pub fn set(&self, prog: u32, vers: u32, proto: Protocol, port: u16) -> Result<bool> {
        let mut enc = Encoder::new();
        Mapping {
            prog,
            vers,
            prot: prot_of(proto)?,
            port: port as u32,
        }
        .encode(&mut enc);
        decode_bool(&self.client(2)?.call(proc::SET, enc.as_bytes())?)
    }

    /// Portmap v2 UNSET: removes every mapping of `prog`/`vers`.
    pub fn unset(&self, prog: u32, vers: u32) -> Result<bool> {
        let mut enc = Encoder::new();
        Mapping {
            prog,
            vers,
            prot: 0,
            port: 0,
        }
        .encode(&mut enc);
        decode_bool(&self.client(2)?.call(proc::UNSET, enc.as_bytes())?)
    }

    /// Portmap v2 GETPORT: the port, or 0 when not registered.
    pub fn getport(&self, prog: u32, vers: u32, proto: Protocol) -> Result<u16> {
        let mut enc = Encoder::new();
        Mapping {
            prog,
            vers,
            prot: prot_of(proto)?,
            port: 0,
        }
        .encode(&mut enc);
        let reply = self.client(2)?.call(proc::GETADDR, enc.as_bytes())?;
        let mut dec = Decoder::new(&reply);
        let port = dec.get_uint()?;
        u16::try_from(port).map_err(|_| Error::Protocol(format!("port {port} out of range")))
    }

    /// Portmap v2 DUMP: every mapping.
    pub fn dump(&self) -> Result<Vec<Mapping>> {
        let reply = self.client(2)?.call(proc::DUMP, &[])?;
        let mut dec = Decoder::new(&reply);
        let mut out = Vec::new();
        while dec.get_optional()? {
            dec.charge(16)?;
            out.push(Mapping::decode(&mut dec)?);
        }
        Ok(out)
    }

    /// rpcbind v3/v4 SET (`vers` 3 or 4).
    pub fn rpcb_set(&self, vers: u32, entry: &Rpcb) -> Result<bool> {
        let mut enc = Encoder::new();
        entry.encode(&mut enc)?;
        decode_bool(&self.client(vers)?.call(proc::SET, enc.as_bytes())?)
    }

    /// rpcbind v3/v4 UNSET; an empty netid removes every transport.
    pub fn rpcb_unset(&self, vers: u32, entry: &Rpcb) -> Result<bool> {
        let mut enc = Encoder::new();
        entry.encode(&mut enc)?;
        decode_bool(&self.client(vers)?.call(proc::UNSET, enc.as_bytes())?)
    }

    /// rpcbind GETADDR: tries v4, then v3, then portmap v2 GETPORT; returns
    /// the universal address, or None when the program is not registered.
    pub fn getaddr(&self, prog: u32, vers: u32, netid: &str) -> Result<Option<String>> {
        let query = Rpcb {
            prog,
            vers,
            netid: netid.to_string(),
            addr: String::new(),
            owner: String::new(),
        };
        let mut enc = Encoder::new();
        query.encode(&mut enc)?;
        for rb_vers in [4, 3] {
            match self
                .client(rb_vers)
                .and_then(|c| c.call(proc::GETADDR, enc.as_bytes()))
            {
                Ok(reply) => {
                    let mut dec = Decoder::new(&reply);
                    let addr = lossy(dec.get_string_bytes(Some(MAX_RPCB_STRING))?);
                    return Ok((!addr.is_empty()).then_some(addr));
                }
                Err(Error::ProgMismatch { .. }) | Err(Error::ProcUnavail) => continue,
                Err(e) => return Err(e),
            }
        }
        let proto = match netid {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            other => {
                return Err(Error::Unsupported(format!(
                    "rpcbind has no v3/v4 and portmap v2 cannot look up netid {other:?}"
                )))
            }
        };
        let port = self.getport(prog, vers, proto)?;
        let host = resolve_one(&self.host, self.port)?;
        Ok((port != 0).then(|| format_uaddr(SocketAddr::new(host.ip(), port))))
    }

    /// rpcbind v3/v4 DUMP: every registration.
    pub fn rpcb_dump(&self, vers: u32) -> Result<Vec<Rpcb>> {
        let reply = self.client(vers)?.call(proc::DUMP, &[])?;
        let mut dec = Decoder::new(&reply);
        let mut out = Vec::new();
        while dec.get_optional()? {
            dec.charge(64)?;
            out.push(Rpcb::decode(&mut dec)?);
        }
        Ok(out)
    }

    /// Portmap v2 CALLIT: has rpcbind forward a call to `prog`/`vers` (over
    /// UDP, where it is registered) and returns the service's port and the
    /// results. rpcbind stays silent when the call fails, so a failure shows
    /// as a timeout.
    pub fn callit(
        &self,
        prog: u32,
        vers: u32,
        procedure: u32,
        args: &[u8],
    ) -> Result<(u16, Vec<u8>)> {
        let reply = self.forwarded(2, proc::CALLIT, prog, vers, procedure, args)?;
        let mut dec = Decoder::new(&reply);
        let port = dec.get_uint()?;
        let res = dec.get_opaque(None)?.to_vec();
        let port = u16::try_from(port)
            .map_err(|_| Error::Protocol(format!("port {port} out of range")))?;
        Ok((port, res))
    }

    /// rpcbind v3 CALLIT (`vers` 3) or v4 BCAST (`vers` 4): like
    /// [`callit`](Self::callit), answering the service's universal address.
    pub fn rpcb_callit(
        &self,
        vers: u32,
        prog: u32,
        prog_vers: u32,
        procedure: u32,
        args: &[u8],
    ) -> Result<(String, Vec<u8>)> {
        let reply = self.forwarded(vers, proc::CALLIT, prog, prog_vers, procedure, args)?;
        decode_rmtcallres(&reply)
    }

    /// rpcbind v4 INDIRECT: forwards a call like CALLIT, but a failure
    /// comes back as its error (PROG_UNAVAIL when the program is not
    /// registered, the service's own error status otherwise).
    pub fn indirect(
        &self,
        prog: u32,
        vers: u32,
        procedure: u32,
        args: &[u8],
    ) -> Result<(String, Vec<u8>)> {
        let reply = self.forwarded(4, proc::INDIRECT, prog, vers, procedure, args)?;
        decode_rmtcallres(&reply)
    }

    fn forwarded(
        &self,
        rb_vers: u32,
        rb_proc: u32,
        prog: u32,
        vers: u32,
        procedure: u32,
        args: &[u8],
    ) -> Result<Vec<u8>> {
        let mut enc = Encoder::new();
        RmtCall {
            prog,
            vers,
            procedure,
            args: args.to_vec(),
        }
        .encode(&mut enc)?;
        self.client(rb_vers)?.call(rb_proc, enc.as_bytes())
    }

    /// rpcbind GETTIME (v4, else v3): the server's clock, in seconds since 1970.
    pub fn gettime(&self) -> Result<u32> {
        let reply = self.newest(|c| c.call(proc::GETTIME, &[]))?;
        Decoder::new(&reply).get_uint()
    }

    /// rpcbind UADDR2TADDR: the `struct sockaddr` bytes of a universal
    /// address (empty when rpcbind cannot convert it).
    pub fn uaddr2taddr(&self, uaddr: &str) -> Result<Vec<u8>> {
        let mut enc = Encoder::new();
        enc.put_string(uaddr)?;
        let reply = self.newest(|c| c.call(proc::UADDR2TADDR, enc.as_bytes()))?;
        let mut dec = Decoder::new(&reply);
        let _maxlen = dec.get_uint()?;
        Ok(dec.get_opaque(Some(MAX_RPCB_STRING))?.to_vec())
    }

    /// rpcbind TADDR2UADDR: the universal address of `struct sockaddr`
    /// bytes (empty when rpcbind cannot convert them).
    pub fn taddr2uaddr(&self, taddr: &[u8]) -> Result<String> {
        let mut enc = Encoder::new();
        enc.put_uint(taddr.len() as u32);
        enc.put_opaque(taddr)?;
        let reply = self.newest(|c| c.call(proc::TADDR2UADDR, enc.as_bytes()))?;
        Ok(lossy(
            Decoder::new(&reply).get_string_bytes(Some(MAX_RPCB_STRING))?,
        ))
    }

    /// rpcbind v4 GETVERSADDR: like [`getaddr`](Self::getaddr), but only
    /// for exactly version `vers`.
    pub fn getversaddr(&self, prog: u32, vers: u32, netid: &str) -> Result<Option<String>> {
        let reply = self
            .client(4)?
            .call(proc::GETVERSADDR, &rpcb_query(prog, vers, netid)?)?;
        let addr = lossy(Decoder::new(&reply).get_string_bytes(Some(MAX_RPCB_STRING))?);
        Ok((!addr.is_empty()).then_some(addr))
    }

    /// rpcbind v4 GETADDRLIST: every address of `prog`/`vers`, one per
    /// transport.
    pub fn getaddrlist(&self, prog: u32, vers: u32) -> Result<Vec<RpcbEntry>> {
        let reply = self
            .client(4)?
            .call(proc::GETADDRLIST, &rpcb_query(prog, vers, "")?)?;
        let mut dec = Decoder::new(&reply);
        let mut out = Vec::new();
        while dec.get_optional()? {
            dec.charge(64)?;
            out.push(RpcbEntry::decode(&mut dec)?);
        }
        Ok(out)
    }

    /// rpcbind v4 GETSTAT: the statistics of versions 2, 3 and 4, in that
    /// order (what `rpcinfo -m` shows).
    pub fn getstat(&self) -> Result<Vec<RpcbStat>> {
        let reply = self.client(4)?.call(proc::GETSTAT, &[])?;
        let mut dec = Decoder::new(&reply);
        (0..3).map(|_| RpcbStat::decode(&mut dec)).collect()
    }

    /// Calls through rpcbind v4, falling back to v3.
    fn newest(&self, call: impl Fn(&Client) -> Result<Vec<u8>>) -> Result<Vec<u8>> {
        match call(&self.client(4)?) {
            Err(Error::ProgMismatch { .. }) | Err(Error::ProcUnavail) => call(&self.client(3)?),
            other => other,
        }
    }
}

fn rpcb_query(prog: u32, vers: u32, netid: &str) -> Result<Vec<u8>> {
    let mut enc = Encoder::new();
    Rpcb {
        prog,
        vers,
        netid: netid.to_string(),
        addr: String::new(),
        owner: String::new(),
    }
    .encode(&mut enc)?;
    Ok(enc.into_bytes())
}

fn decode_rmtcallres(reply: &[u8]) -> Result<(String, Vec<u8>)> {
    let mut dec = Decoder::new(reply);
    let addr = lossy(dec.get_string_bytes(Some(MAX_RPCB_STRING))?);
    Ok((addr, dec.get_opaque(None)?.to_vec()))
}

fn decode_bool(reply: &[u8]) -> Result<bool> {
    Decoder::new(reply).get_bool()
}

/// Finds where `prog`/`vers` listens on `host` over `proto`.
/// Over IPv6 (a host that resolves only to IPv6) it asks for the "tcp6" or
/// "udp6" netid.
pub fn lookup(host: &str, prog: u32, vers: u32, proto: Protocol) -> Result<SocketAddr> {
    lookup_until(host, prog, vers, proto, Deadline::NEVER)
}

/// [`lookup`], every query to rpcbind ended by `until`.
fn lookup_until(
    host: &str,
    prog: u32,
    vers: u32,
    proto: Protocol,
    until: Deadline,
) -> Result<SocketAddr> {
    let mut rb = Rpcbind::new(host);
    rb.until = until;
    let netid = netid_for(proto, resolve_one(host, PORT)?.is_ipv6());
    let Some(uaddr) = rb.getaddr(prog, vers, netid)? else {
        return Err(Error::NotFound(format!(
            "program {prog} version {vers} is not registered with rpcbind on {host} ({netid})"
        )));
    };
    let mut addr = parse_uaddr(&uaddr)?;
    if addr.ip().is_unspecified() {
        addr.set_ip(resolve_one(host, PORT)?.ip());
    }
    Ok(addr)
}

impl Client {
    /// Looks the program's port up through rpcbind on `host` (GETADDR v4,
    /// then v3, then portmap GETPORT), then connects.
    pub fn lookup(host: &str, prog: u32, vers: u32, proto: Protocol) -> Result<Client> {
        Client::lookup_timeout(host, prog, vers, proto, None, Some(DEFAULT_TIMEOUT))
    }

    /// [`Client::lookup`], then RPC-with-TLS as [`Client::connect_tls`]
    /// (the rpcbind query itself is in the clear, as rpcbind speaks no
    /// TLS; the server's certificate must still name `host`).
    pub fn lookup_tls(
        host: &str,
        prog: u32,
        vers: u32,
        proto: Protocol,
        tls: &TlsConfig,
    ) -> Result<Client> {
        Client::lookup_timeout(host, prog, vers, proto, Some(tls), Some(DEFAULT_TIMEOUT))
    }

    /// [`Client::lookup`], or with `tls` [`Client::lookup_tls`], the whole
    /// of it bounded by `timeout`: the queries to rpcbind, the connect and
    /// under TLS the probe and the handshake (`None`: as long as it takes;
    /// the other two allow [`DEFAULT_TIMEOUT`]). Past it,
    /// [`Error::TimedOut`]. The calls' own timeout is set apart.
    pub fn lookup_timeout(
        host: &str,
        prog: u32,
        vers: u32,
        proto: Protocol,
        tls: Option<&TlsConfig>,
        timeout: Option<Duration>,
    ) -> Result<Client> {
        if proto == Protocol::Unix {
            return Err(Error::InvalidArgument(
                "a Unix-socket client needs a path, not a lookup".into(),
            ));
        }
        let setup = Deadline::after(timeout);
        let addr = lookup_until(host, prog, vers, proto, setup)?;
        Client::connect_addr_until(addr, host, prog, vers, proto, tls, setup)
    }
}
