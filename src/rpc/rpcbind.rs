//! rpcbind and the portmapper (RFC 1833): a client for set, unset, getport,
//! getaddr and dump, and an embedded directory server (`xipc rpcbind`)
//! speaking portmap v2 and rpcbind v3/v4 on program 100000.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::client::{lock, resolve, Client, Protocol};
use super::server::{CallInfo, Outcome, Peer, Server};
use crate::xdr::{Decoder, Encoder};
use crate::{Error, Result};

/// The rpcbind program number.
pub const PROGRAM: u32 = 100000;
/// rpcbind's well-known port.
pub const PORT: u16 = 111;
/// IPPROTO_TCP, as portmap v2 names it.
pub const IPPROTO_TCP: u32 = 6;
/// IPPROTO_UDP, as portmap v2 names it.
pub const IPPROTO_UDP: u32 = 17;

/// Procedures (the same numbers in v2, v3 and v4 for 0–4).
pub mod proc {
    /// NULL: does nothing; checks that rpcbind answers.
    pub const NULL: u32 = 0;
    /// SET: registers a program, version and transport.
    pub const SET: u32 = 1;
    /// UNSET: removes a registration.
    pub const UNSET: u32 = 2;
    /// GETPORT in v2, GETADDR in v3/v4.
    pub const GETADDR: u32 = 3;
    /// DUMP: lists every registration.
    pub const DUMP: u32 = 4;
    /// CALLIT in v2 and v3, BCAST in v4: forwards a call, silent on failure.
    pub const CALLIT: u32 = 5;
    /// GETTIME: rpcbind's clock, in seconds since 1970 (v3 and v4).
    pub const GETTIME: u32 = 6;
    /// UADDR2TADDR: a universal address as a transport address (v3 and v4).
    pub const UADDR2TADDR: u32 = 7;
    /// TADDR2UADDR: a transport address as a universal address (v3 and v4).
    pub const TADDR2UADDR: u32 = 8;
    /// Version 4 only from here on.
    pub const GETVERSADDR: u32 = 9;
    /// Forwards a call and reports failures.
    pub const INDIRECT: u32 = 10;
    /// GETADDRLIST: every address of a program and version.
    pub const GETADDRLIST: u32 = 11;
    /// GETSTAT: rpcbind's call statistics.
    pub const GETSTAT: u32 = 12;
}

/// A portmap v2 mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// The program number.
    pub prog: u32,
    /// The program's version.
    pub vers: u32,
    /// IPPROTO_TCP (6) or IPPROTO_UDP (17).
    pub prot: u32,
    /// The port the service listens on (unused in UNSET and GETPORT queries).
    pub port: u32,
}

impl Mapping {
    fn encode(&self, enc: &mut Encoder) {
        enc.put_uint(self.prog);
        enc.put_uint(self.vers);
        enc.put_uint(self.prot);
        enc.put_uint(self.port);
    }

    fn decode(dec: &mut Decoder<'_>) -> Result<Mapping> {
        Ok(Mapping {
            prog: dec.get_uint()?,
            vers: dec.get_uint()?,
            prot: dec.get_uint()?,
            port: dec.get_uint()?,
        })
    }
}

/// An rpcbind v3/v4 registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rpcb {
    /// The program number (`r_prog`).
    pub prog: u32,
    /// The program's version (`r_vers`).
    pub vers: u32,
    /// "tcp", "udp", "tcp6", "udp6", "local".
    pub netid: String,
    /// The universal address ("h1.h2.h3.h4.p1.p2" for IPv4).
    pub addr: String,
    /// Who registered it: "superuser", a uid, or "unknown". The embedded
    /// server sets it from the caller and ignores what a SET carries.
    pub owner: String,
}

/// Longest netid, address or owner string accepted.
const MAX_RPCB_STRING: u32 = 1024;

impl Rpcb {
    fn encode(&self, enc: &mut Encoder) -> Result<()> {
        enc.put_uint(self.prog);
        enc.put_uint(self.vers);
        enc.put_string(&self.netid)?;
        enc.put_string(&self.addr)?;
        enc.put_string(&self.owner)
    }

    fn decode(dec: &mut Decoder<'_>) -> Result<Rpcb> {
        Ok(Rpcb {
            prog: dec.get_uint()?,
            vers: dec.get_uint()?,
            netid: lossy(dec.get_string_bytes(Some(MAX_RPCB_STRING))?),
            addr: lossy(dec.get_string_bytes(Some(MAX_RPCB_STRING))?),
            owner: lossy(dec.get_string_bytes(Some(MAX_RPCB_STRING))?),
        })
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The universal address of an IPv4 or IPv6 endpoint.
///
/// ```
/// use xipc::rpc::rpcbind::{format_uaddr, parse_uaddr};
/// let nfs = "127.0.0.1:2049".parse().unwrap();
/// assert_eq!(format_uaddr(nfs), "127.0.0.1.8.1");
/// assert_eq!(parse_uaddr("127.0.0.1.8.1")?, nfs);
/// assert_eq!(format_uaddr("[::1]:111".parse().unwrap()), "::1.0.111");
/// # Ok::<(), xipc::Error>(())
/// ```
pub fn format_uaddr(addr: SocketAddr) -> String {
    let port = addr.port();
    format!("{}.{}.{}", addr.ip(), port >> 8, port & 0xff)
}

/// Parses a universal address ("h1.h2.h3.h4.p1.p2", or an IPv6 one).
pub fn parse_uaddr(uaddr: &str) -> Result<SocketAddr> {
    let bad = || Error::InvalidArgument(format!("not a universal address: {uaddr:?}"));
    let mut parts = uaddr.rsplitn(3, '.');
    let lo: u16 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let hi: u16 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let host: IpAddr = parts.next().and_then(|h| h.parse().ok()).ok_or_else(bad)?;
    if lo > 255 || hi > 255 {
        return Err(bad());
    }
    Ok(SocketAddr::new(host, hi << 8 | lo))
}

/// The netid of `proto` over IPv4 or IPv6 ("tcp", "udp6", ...).
pub fn netid_for(proto: Protocol, ipv6: bool) -> &'static str {
    match (proto, ipv6) {
        (Protocol::Tcp, true) => "tcp6",
        (Protocol::Udp, true) => "udp6",
        _ => proto.netid(),
    }
}

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
pub struct Rpcbind {
    host: String,
    port: u16,
    proto: Protocol,
    timeout: Duration,
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
            timeout: Duration::from_secs(5),
        }
    }

    /// This machine's rpcbind: through its Unix socket ([`LOCAL_SOCKET`])
    /// when it has one, where rpcbind learns who is asking (so what this
    /// process registers, only it or root may remove), else on
    /// 127.0.0.1:111 (checked now, with a short timeout).
    pub fn local() -> Result<Rpcbind> {
        let mut rb = if std::os::unix::net::UnixStream::connect(LOCAL_SOCKET).is_ok() {
            Rpcbind::with_port(LOCAL_SOCKET, 0, Protocol::Unix)
        } else {
            let addr: SocketAddr = (Ipv4Addr::LOCALHOST, PORT).into();
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300))
                .map_err(|e| Error::os("connect to rpcbind on 127.0.0.1:111", e))?;
            Rpcbind::new("127.0.0.1")
        };
        rb.timeout = Duration::from_secs(2);
        Ok(rb)
    }

    /// The per-call timeout (default 5 s).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    fn client(&self, vers: u32) -> Result<Client> {
        let c = Client::connect(&self.host, self.port, PROGRAM, vers, self.proto)?;
        c.set_timeout(self.timeout)?;
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
        let host = resolve(&self.host, self.port)?;
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
    let rb = Rpcbind::new(host);
    let netid = netid_for(proto, resolve(host, PORT)?.is_ipv6());
    let Some(uaddr) = rb.getaddr(prog, vers, netid)? else {
        return Err(Error::NotFound(format!(
            "program {prog} version {vers} is not registered with rpcbind on {host} ({netid})"
        )));
    };
    let mut addr = parse_uaddr(&uaddr)?;
    if addr.ip().is_unspecified() {
        addr.set_ip(resolve(host, PORT)?.ip());
    }
    Ok(addr)
}

/// Most registrations the embedded rpcbind holds by default (see
/// [`serve_with_limit`]).
pub const DEFAULT_MAX_REGISTRATIONS: usize = 4096;
/// How long a CALLIT or INDIRECT waits for the service it forwards to.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(5);
/// Most entries each GETSTAT list keeps.
const MAX_STAT_ENTRIES: usize = 256;
/// Procedures GETSTAT counts (rpcbind v4's highest plus one).
const STAT_PROCS: usize = 13;

/// Who is asking, as rpcbind sees it.
struct Caller {
    /// On this machine: a Unix socket or a loopback address.
    local: bool,
    /// "superuser" (uid 0), a uid, or "unknown" when the socket does not
    /// tell (TCP and UDP: a credential in the call is not proof).
    owner: String,
}

impl Caller {
    fn of(info: &CallInfo) -> Caller {
        let local = match &info.peer {
            Peer::Unix(_) => true,
            Peer::Tcp(a) | Peer::Udp(a) => is_loopback(a.ip()),
        };
        let owner = match info.peer_credentials.map(|c| c.uid) {
            Some(0) => "superuser".to_string(),
            Some(uid) => uid.to_string(),
            None => "unknown".to_string(),
        };
        Caller { local, owner }
    }

    /// May this caller remove an entry `owner` made?
    fn owns(&self, owner: &str) -> bool {
        self.owner == "superuser" || self.owner == owner
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Lookups of one (program, version, netid) for GETSTAT.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddrStat {
    /// The program number.
    pub prog: u32,
    /// The program's version.
    pub vers: u32,
    /// Lookups that found an address.
    pub success: i32,
    /// Lookups that found none.
    pub failure: i32,
    /// The transport looked up.
    pub netid: String,
}

/// Forwarded calls (CALLIT, BCAST, INDIRECT) of one procedure, for GETSTAT.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RmtCallStat {
    /// The program number.
    pub prog: u32,
    /// The program's version.
    pub vers: u32,
    /// The procedure number.
    pub procedure: u32,
    /// Calls forwarded and answered.
    pub success: i32,
    /// Calls that could not be forwarded or failed.
    pub failure: i32,
    /// How many of them came through INDIRECT.
    pub indirect: i32,
    /// The transport the calls came in on.
    pub netid: String,
}

/// What rpcbind reports about one of its versions (RPCBPROC_GETSTAT).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RpcbStat {
    /// Calls of each procedure (0 to 12).
    pub info: [i32; STAT_PROCS],
    /// Successful SETs and UNSETs.
    pub setinfo: i32,
    /// Successful UNSETs.
    pub unsetinfo: i32,
    /// Address lookups, per program, version and transport.
    pub addrinfo: Vec<AddrStat>,
    /// Forwarded calls, per procedure and transport.
    pub rmtinfo: Vec<RmtCallStat>,
}

impl RpcbStat {
    fn encode(&self, enc: &mut Encoder) -> Result<()> {
        for n in self.info {
            enc.put_int(n);
        }
        enc.put_int(self.setinfo);
        enc.put_int(self.unsetinfo);
        for a in &self.addrinfo {
            enc.put_optional(true);
            enc.put_uint(a.prog);
            enc.put_uint(a.vers);
            enc.put_int(a.success);
            enc.put_int(a.failure);
            enc.put_string(&a.netid)?;
        }
        enc.put_optional(false);
        for r in &self.rmtinfo {
            enc.put_optional(true);
            enc.put_uint(r.prog);
            enc.put_uint(r.vers);
            enc.put_uint(r.procedure);
            enc.put_int(r.success);
            enc.put_int(r.failure);
            enc.put_int(r.indirect);
            enc.put_string(&r.netid)?;
        }
        enc.put_optional(false);
        Ok(())
    }

    fn decode(dec: &mut Decoder<'_>) -> Result<RpcbStat> {
        let mut s = RpcbStat::default();
        for n in s.info.iter_mut() {
            *n = dec.get_int()?;
        }
        s.setinfo = dec.get_int()?;
        s.unsetinfo = dec.get_int()?;
        while dec.get_optional()? {
            dec.charge(24)?;
            s.addrinfo.push(AddrStat {
                prog: dec.get_uint()?,
                vers: dec.get_uint()?,
                success: dec.get_int()?,
                failure: dec.get_int()?,
                netid: lossy(dec.get_string_bytes(Some(MAX_RPCB_STRING))?),
            });
        }
        while dec.get_optional()? {
            dec.charge(32)?;
            s.rmtinfo.push(RmtCallStat {
                prog: dec.get_uint()?,
                vers: dec.get_uint()?,
                procedure: dec.get_uint()?,
                success: dec.get_int()?,
                failure: dec.get_int()?,
                indirect: dec.get_int()?,
                netid: lossy(dec.get_string_bytes(Some(MAX_RPCB_STRING))?),
            });
        }
        Ok(s)
    }

    fn count_lookup(&mut self, prog: u32, vers: u32, netid: &str, found: bool) {
        let at = self
            .addrinfo
            .iter()
            .position(|a| a.prog == prog && a.vers == vers && a.netid == netid);
        let entry = match at {
            Some(i) => &mut self.addrinfo[i],
            None if self.addrinfo.len() < MAX_STAT_ENTRIES => {
                self.addrinfo.push(AddrStat {
                    prog,
                    vers,
                    netid: netid.to_string(),
                    ..AddrStat::default()
                });
                self.addrinfo.last_mut().expect("just pushed")
            }
            None => return,
        };
        if found {
            entry.success = entry.success.saturating_add(1);
        } else {
            entry.failure = entry.failure.saturating_add(1);
        }
    }

    fn count_forward(&mut self, call: &RmtCall, netid: &str, ok: bool, indirect: bool) {
        let at = self.rmtinfo.iter().position(|r| {
            r.prog == call.prog
                && r.vers == call.vers
                && r.procedure == call.procedure
                && r.netid == netid
        });
        let entry = match at {
            Some(i) => &mut self.rmtinfo[i],
            None if self.rmtinfo.len() < MAX_STAT_ENTRIES => {
                self.rmtinfo.push(RmtCallStat {
                    prog: call.prog,
                    vers: call.vers,
                    procedure: call.procedure,
                    netid: netid.to_string(),
                    ..RmtCallStat::default()
                });
                self.rmtinfo.last_mut().expect("just pushed")
            }
            None => return,
        };
        if ok {
            entry.success = entry.success.saturating_add(1);
        } else {
            entry.failure = entry.failure.saturating_add(1);
        }
        if indirect {
            entry.indirect = entry.indirect.saturating_add(1);
        }
    }
}

/// A call to forward (CALLIT, BCAST, INDIRECT): rpcb_rmtcallargs, which is
/// also portmap v2's call_args.
struct RmtCall {
    prog: u32,
    vers: u32,
    procedure: u32,
    args: Vec<u8>,
}

impl RmtCall {
    fn decode(args: &[u8]) -> Result<RmtCall> {
        let mut dec = Decoder::new(args);
        Ok(RmtCall {
            prog: dec.get_uint()?,
            vers: dec.get_uint()?,
            procedure: dec.get_uint()?,
            args: dec.get_opaque(None)?.to_vec(),
        })
    }

    fn encode(&self, enc: &mut Encoder) -> Result<()> {
        enc.put_uint(self.prog);
        enc.put_uint(self.vers);
        enc.put_uint(self.procedure);
        enc.put_opaque(&self.args)
    }
}

/// The embedded directory: its registrations and statistics.
struct Directory {
    entries: Vec<Rpcb>,
    max_entries: usize,
    /// GETSTAT's figures for versions 2, 3 and 4.
    stats: [RpcbStat; 3],
}

impl Directory {
    fn new(max_entries: usize) -> Directory {
        Directory {
            entries: Vec::new(),
            max_entries,
            stats: Default::default(),
        }
    }

    fn stat(&mut self, vers: u32) -> &mut RpcbStat {
        &mut self.stats[(vers.clamp(2, 4) - 2) as usize]
    }

    /// Adds `entry` unless its program, version and netid are taken or the
    /// table is full.
    fn set(&mut self, entry: Rpcb) -> bool {
        let taken = self
            .entries
            .iter()
            .any(|e| e.prog == entry.prog && e.vers == entry.vers && e.netid == entry.netid);
        if taken {
            return false;
        }
        if self.entries.len() >= self.max_entries {
            eprintln!(
                "xipc rpcbind: {} registrations, the most allowed: refusing program {} version {} on {}",
                self.entries.len(),
                entry.prog,
                entry.vers,
                entry.netid
            );
            return false;
        }
        self.entries.push(entry);
        true
    }

    /// Removes the entries of `prog`/`vers` on `netid` (every netid when
    /// empty) that `caller` may remove; true when any went.
    fn unset(&mut self, prog: u32, vers: u32, netids: &[&str], caller: &Caller) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| {
            let hit = e.prog == prog
                && e.vers == vers
                && (netids.is_empty() || netids.contains(&e.netid.as_str()));
            !(hit && caller.owns(&e.owner))
        });
        self.entries.len() != before
    }

    /// The address of `prog`/`vers` on `netid`; with `any_version`, any
    /// version of the program (rpcbind's GETADDR falls back like that).
    fn find(&self, prog: u32, vers: u32, netid: &str, any_version: bool) -> Option<&Rpcb> {
        let on = |e: &&Rpcb| e.prog == prog && (netid.is_empty() || e.netid == netid);
        self.entries
            .iter()
            .filter(on)
            .find(|e| e.vers == vers)
            .or_else(|| any_version.then(|| self.entries.iter().find(on)).flatten())
    }

    /// The UDP address (IPv4 or IPv6) a call to `prog`/`vers` is forwarded to.
    fn forward_target(&self, prog: u32, vers: u32) -> Option<(SocketAddr, String)> {
        ["udp", "udp6"].iter().find_map(|netid| {
            let e = self.find(prog, vers, netid, false)?;
            let mut addr = parse_uaddr(&e.addr).ok()?;
            if addr.ip().is_unspecified() {
                addr.set_ip(match addr {
                    SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
                    SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
                });
            }
            Some((addr, e.addr.clone()))
        })
    }

    /// The lowest and highest registered version of `prog`.
    fn versions(&self, prog: u32) -> Option<(u32, u32)> {
        let vs = self
            .entries
            .iter()
            .filter(|e| e.prog == prog)
            .map(|e| e.vers);
        Some((vs.clone().min()?, vs.max()?))
    }
}

fn netid_of_prot(prot: u32) -> Option<&'static str> {
    match prot {
        IPPROTO_TCP => Some("tcp"),
        IPPROTO_UDP => Some("udp"),
        _ => None,
    }
}

fn garbage(_: Error) -> Error {
    Error::GarbageArgs
}

fn bool_reply(v: bool) -> Vec<u8> {
    vec![0, 0, 0, v as u8]
}

fn string_reply(s: &str) -> Result<Vec<u8>> {
    let mut enc = Encoder::new();
    enc.put_string(s)?;
    Ok(enc.into_bytes())
}

/// Puts the caller-reachable host into an address registered on a wildcard.
fn merge_addr(uaddr: &str, info: &CallInfo) -> String {
    match (parse_uaddr(uaddr), info.local) {
        (Ok(a), Some(local))
            if a.ip().is_unspecified()
                && !local.ip().is_unspecified()
                && a.is_ipv4() == local.is_ipv4() =>
        {
            format_uaddr(SocketAddr::new(local.ip(), a.port()))
        }
        _ => uaddr.to_string(),
    }
}

/// The transport-specific address (a `struct sockaddr` as Linux lays it
/// out) of a universal address; None when it is not an IP one.
///
/// ```
/// use xipc::rpc::rpcbind::{taddr_to_uaddr, uaddr_to_taddr};
/// let taddr = uaddr_to_taddr("10.0.0.1.0.111").unwrap();
/// assert_eq!(taddr.len(), 16); // a sockaddr_in
/// assert_eq!(&taddr[2..8], &[0, 111, 10, 0, 0, 1]);
/// assert_eq!(taddr_to_uaddr(&taddr).as_deref(), Some("10.0.0.1.0.111"));
/// assert_eq!(uaddr_to_taddr("/run/some.sock"), None);
/// ```
pub fn uaddr_to_taddr(uaddr: &str) -> Option<Vec<u8>> {
    let addr = parse_uaddr(uaddr).ok()?;
    let mut b = Vec::with_capacity(28);
    match addr {
        SocketAddr::V4(a) => {
            b.extend((libc::AF_INET as u16).to_ne_bytes());
            b.extend(a.port().to_be_bytes());
            b.extend(a.ip().octets());
            b.extend([0; 8]);
        }
        SocketAddr::V6(a) => {
            b.extend((libc::AF_INET6 as u16).to_ne_bytes());
            b.extend(a.port().to_be_bytes());
            b.extend(a.flowinfo().to_be_bytes());
            b.extend(a.ip().octets());
            b.extend(a.scope_id().to_ne_bytes());
        }
    }
    Some(b)
}

/// The universal address of a `struct sockaddr_in` or `sockaddr_in6`.
pub fn taddr_to_uaddr(taddr: &[u8]) -> Option<String> {
    let family = u16::from_ne_bytes(taddr.get(..2)?.try_into().ok()?);
    let port = u16::from_be_bytes(taddr.get(2..4)?.try_into().ok()?);
    let ip: IpAddr = match family as i32 {
        libc::AF_INET => <[u8; 4]>::try_from(taddr.get(4..8)?).ok()?.into(),
        libc::AF_INET6 => <[u8; 16]>::try_from(taddr.get(8..24)?).ok()?.into(),
        _ => return None,
    };
    Some(format_uaddr(SocketAddr::new(ip, port)))
}

/// Builds an rpcbind server (portmap v2, rpcbind v3 and v4) on `server`,
/// listening on TCP and UDP `host:port`, holding at most
/// [`DEFAULT_MAX_REGISTRATIONS`]; its own registrations are listed.
pub fn serve_on(server: &Server, host: &str, port: u16) -> Result<u16> {
    serve_with_limit(server, host, port, DEFAULT_MAX_REGISTRATIONS)
}

/// [`serve_on`] holding at most `max_registrations` registrations: past
/// them SET answers FALSE (the only refusal rpcbind's protocol has) and the
/// server says why on stderr.
///
/// Changes are guarded as the system rpcbind guards them: SET and UNSET
/// are answered FALSE unless the caller is on this machine (a Unix socket
/// or a loopback address), and UNSET removes only entries the caller owns:
/// the owner is the caller's uid as a Unix socket reports it ("superuser"
/// for root, who may remove any), or "unknown" over TCP and UDP.
pub fn serve_with_limit(
    server: &Server,
    host: &str,
    port: u16,
    max_registrations: usize,
) -> Result<u16> {
    serve_hosts(server, &[host], port, max_registrations)
}

/// Listens on TCP and UDP of the first of `hosts` (and, where possible, of
/// the others, on the same port) and serves rpcbind there, listing itself
/// under "tcp"/"udp" or "tcp6"/"udp6" as each host is IPv4 or IPv6.
fn serve_hosts(server: &Server, hosts: &[&str], port: u16, max: usize) -> Result<u16> {
    server.set_rpcbind_registration(false);
    let mut port = port;
    let mut bound = Vec::new();
    for (i, host) in hosts.iter().enumerate() {
        let listened = server.listen_tcp(host, port).and_then(|tcp| {
            let udp = server.listen_udp(host, tcp)?;
            Ok((tcp, udp, resolve(host, tcp)?.is_ipv6()))
        });
        match listened {
            Ok((tcp, udp, six)) => {
                port = tcp;
                bound.push((tcp, udp, six));
            }
            Err(e) if i == 0 => return Err(e),
            Err(_) => {} // e.g. no IPv6 here
        }
    }
    let dir = Arc::new(Mutex::new(Directory::new(max.max(12))));
    {
        let mut d = lock(&dir);
        for (tcp, udp, six) in bound {
            let (wild, t, u): (IpAddr, _, _) = if six {
                (std::net::Ipv6Addr::UNSPECIFIED.into(), "tcp6", "udp6")
            } else {
                (Ipv4Addr::UNSPECIFIED.into(), "tcp", "udp")
            };
            for vers in [4, 3, 2] {
                for (netid, p) in [(t, tcp), (u, udp)] {
                    d.set(Rpcb {
                        prog: PROGRAM,
                        vers,
                        netid: netid.into(),
                        addr: format_uaddr(SocketAddr::new(wild, p)),
                        owner: "superuser".into(),
                    });
                }
            }
        }
    }
    register_v2(server, dir.clone());
    for vers in [3, 4] {
        register_v34(server, vers, dir.clone());
    }
    Ok(port)
}

/// Registers `handler` for rpcbind version `vers`, counting its calls.
fn serve<F>(server: &Server, dir: &Arc<Mutex<Directory>>, vers: u32, procedure: u32, handler: F)
where
    F: Fn(&CallInfo, &[u8], &Arc<Mutex<Directory>>) -> Result<Outcome> + Send + Sync + 'static,
{
    let dir = dir.clone();
    server.register_outcome(PROGRAM, vers, procedure, move |info, args| {
        if let Some(n) = lock(&dir).stat(vers).info.get_mut(procedure as usize) {
            *n = n.saturating_add(1);
        }
        handler(info, args, &dir)
    });
}

fn results(bytes: Vec<u8>) -> Result<Outcome> {
    Ok(Outcome::Results(bytes))
}

fn register_v2(server: &Server, dir: Arc<Mutex<Directory>>) {
    serve(server, &dir, 2, proc::SET, |info, args, dir| {
        let m = Mapping::decode(&mut Decoder::new(args)).map_err(garbage)?;
        let caller = Caller::of(info);
        let (Some(netid), true) = (netid_of_prot(m.prot), caller.local) else {
            return results(bool_reply(false));
        };
        let port = u16::try_from(m.port).map_err(|_| Error::GarbageArgs)?;
        let entry = Rpcb {
            prog: m.prog,
            vers: m.vers,
            netid: netid.into(),
            addr: format_uaddr(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port)),
            owner: caller.owner,
        };
        let mut d = lock(dir);
        let done = d.set(entry);
        if done {
            d.stat(2).setinfo += 1;
        }
        results(bool_reply(done))
    });
    serve(server, &dir, 2, proc::UNSET, |info, args, dir| {
        let m = Mapping::decode(&mut Decoder::new(args)).map_err(garbage)?;
        let caller = Caller::of(info);
        let mut d = lock(dir);
        let done = caller.local && d.unset(m.prog, m.vers, &["tcp", "udp"], &caller);
        if done {
            d.stat(2).unsetinfo += 1;
        }
        results(bool_reply(done))
    });
    serve(server, &dir, 2, proc::GETADDR, |_, args, dir| {
        let m = Mapping::decode(&mut Decoder::new(args)).map_err(garbage)?;
        let mut d = lock(dir);
        let netid = netid_of_prot(m.prot).unwrap_or("");
        let port = netid_of_prot(m.prot)
            .and_then(|n| d.find(m.prog, m.vers, n, false))
            .and_then(|e| parse_uaddr(&e.addr).ok())
            .map_or(0, |a| a.port() as u32);
        d.stat(2).count_lookup(m.prog, m.vers, netid, port != 0);
        results(port.to_be_bytes().to_vec())
    });
    serve(server, &dir, 2, proc::DUMP, |_, _, dir| {
        let mut enc = Encoder::new();
        for e in &lock(dir).entries {
            let prot = match e.netid.as_str() {
                "tcp" => IPPROTO_TCP,
                "udp" => IPPROTO_UDP,
                _ => continue,
            };
            let Ok(a) = parse_uaddr(&e.addr) else {
                continue;
            };
            enc.put_optional(true);
            Mapping {
                prog: e.prog,
                vers: e.vers,
                prot,
                port: a.port() as u32,
            }
            .encode(&mut enc);
        }
        enc.put_optional(false);
        results(enc.into_bytes())
    });
    serve(server, &dir, 2, proc::CALLIT, |info, args, dir| {
        let call = RmtCall::decode(args).map_err(garbage)?;
        let Ok((addr, res)) = forward(&call, info, dir, 2, false) else {
            return Ok(Outcome::NoReply);
        };
        let mut enc = Encoder::new();
        enc.put_uint(addr.port().into());
        enc.put_opaque(&res)?;
        results(enc.into_bytes())
    });
}

/// Forwards `call` over UDP to where its program is registered and
/// returns that address and the results.
fn forward(
    call: &RmtCall,
    info: &CallInfo,
    dir: &Arc<Mutex<Directory>>,
    vers: u32,
    indirect: bool,
) -> Result<(SocketAddr, Vec<u8>)> {
    let target = {
        let d = lock(dir);
        if call.prog == PROGRAM {
            // Never to rpcbind itself: no loops, no amplification.
            Err(Error::ProgUnavail)
        } else {
            d.forward_target(call.prog, call.vers)
                .ok_or_else(|| match d.versions(call.prog) {
                    Some((low, high)) => Error::ProgMismatch { low, high },
                    None => Error::ProgUnavail,
                })
        }
    };
    let outcome = target.and_then(|(addr, _)| {
        let c = Client::connect_addr(addr, call.prog, call.vers, Protocol::Udp)?;
        c.set_timeout(FORWARD_TIMEOUT)?;
        Ok((addr, c.call(call.procedure, &call.args)?))
    });
    let netid = match &info.peer {
        Peer::Udp(a) if a.is_ipv6() => "udp6",
        Peer::Tcp(a) if a.is_ipv6() => "tcp6",
        Peer::Udp(_) => "udp",
        Peer::Tcp(_) => "tcp",
        Peer::Unix(_) => "local",
    };
    lock(dir)
        .stat(vers)
        .count_forward(call, netid, outcome.is_ok(), indirect);
    outcome
}

fn register_v34(server: &Server, vers: u32, dir: Arc<Mutex<Directory>>) {
    serve(server, &dir, vers, proc::SET, move |info, args, dir| {
        let mut r = Rpcb::decode(&mut Decoder::new(args)).map_err(garbage)?;
        let caller = Caller::of(info);
        if !caller.local {
            return results(bool_reply(false));
        }
        r.owner = caller.owner;
        let mut d = lock(dir);
        let done = d.set(r);
        if done {
            d.stat(vers).setinfo += 1;
        }
        results(bool_reply(done))
    });
    serve(server, &dir, vers, proc::UNSET, move |info, args, dir| {
        let r = Rpcb::decode(&mut Decoder::new(args)).map_err(garbage)?;
        let caller = Caller::of(info);
        let netids: &[&str] = if r.netid.is_empty() { &[] } else { &[&r.netid] };
        let mut d = lock(dir);
        let done = caller.local && d.unset(r.prog, r.vers, netids, &caller);
        if done {
            d.stat(vers).unsetinfo += 1;
        }
        results(bool_reply(done))
    });
    let lookups: &[(u32, bool)] = if vers >= 4 {
        &[(proc::GETADDR, true), (proc::GETVERSADDR, false)]
    } else {
        &[(proc::GETADDR, true)]
    };
    for &(procedure, any_version) in lookups {
        serve(server, &dir, vers, procedure, move |info, args, dir| {
            let r = Rpcb::decode(&mut Decoder::new(args)).map_err(garbage)?;
            let mut d = lock(dir);
            let addr = d
                .find(r.prog, r.vers, &r.netid, any_version)
                .map(|e| merge_addr(&e.addr, info))
                .unwrap_or_default();
            d.stat(vers)
                .count_lookup(r.prog, r.vers, &r.netid, !addr.is_empty());
            results(string_reply(&addr)?)
        });
    }
    serve(server, &dir, vers, proc::DUMP, |_, _, dir| {
        let mut enc = Encoder::new();
        for e in &lock(dir).entries {
            enc.put_optional(true);
            e.encode(&mut enc)?;
        }
        enc.put_optional(false);
        results(enc.into_bytes())
    });
    // CALLIT in v3 and BCAST in v4 stay silent on failure; INDIRECT answers.
    let forwards: &[u32] = if vers >= 4 {
        &[proc::CALLIT, proc::INDIRECT]
    } else {
        &[proc::CALLIT]
    };
    for &procedure in forwards {
        let indirect = procedure == proc::INDIRECT;
        serve(server, &dir, vers, procedure, move |info, args, dir| {
            let call = RmtCall::decode(args).map_err(garbage)?;
            let (addr, res) = match forward(&call, info, dir, vers, indirect) {
                Ok(done) => done,
                Err(_) if !indirect => return Ok(Outcome::NoReply),
                Err(Error::TimedOut(_) | Error::Os { .. }) => return Err(Error::SystemErr),
                Err(e) => return Err(e),
            };
            let mut enc = Encoder::new();
            enc.put_string(&merge_addr(&format_uaddr(addr), info))?;
            enc.put_opaque(&res)?;
            results(enc.into_bytes())
        });
    }
    serve(server, &dir, vers, proc::GETTIME, |_, _, _| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as u32)
            .unwrap_or(0);
        results(now.to_be_bytes().to_vec())
    });
    serve(server, &dir, vers, proc::UADDR2TADDR, |_, args, _| {
        let uaddr = lossy(
            Decoder::new(args)
                .get_string_bytes(Some(MAX_RPCB_STRING))
                .map_err(garbage)?,
        );
        let taddr = uaddr_to_taddr(&uaddr).unwrap_or_default();
        let mut enc = Encoder::new();
        enc.put_uint(taddr.len() as u32);
        enc.put_opaque(&taddr)?;
        results(enc.into_bytes())
    });
    serve(server, &dir, vers, proc::TADDR2UADDR, |_, args, _| {
        let mut dec = Decoder::new(args);
        let _maxlen = dec.get_uint().map_err(garbage)?;
        let taddr = dec.get_opaque(Some(MAX_RPCB_STRING)).map_err(garbage)?;
        results(string_reply(&taddr_to_uaddr(taddr).unwrap_or_default())?)
    });
    if vers < 4 {
        return;
    }
    serve(server, &dir, vers, proc::GETADDRLIST, |info, args, dir| {
        let r = Rpcb::decode(&mut Decoder::new(args)).map_err(garbage)?;
        let mut enc = Encoder::new();
        let d = lock(dir);
        for e in d
            .entries
            .iter()
            .filter(|e| e.prog == r.prog && e.vers == r.vers)
        {
            let entry = RpcbEntry::describe(merge_addr(&e.addr, info), &e.netid);
            enc.put_optional(true);
            entry.encode(&mut enc)?;
        }
        enc.put_optional(false);
        results(enc.into_bytes())
    });
    serve(server, &dir, vers, proc::GETSTAT, |_, _, dir| {
        let mut enc = Encoder::new();
        for s in &lock(dir).stats {
            s.encode(&mut enc)?;
        }
        results(enc.into_bytes())
    });
}

/// One address of a program (RPCBPROC_GETADDRLIST): rpcb_entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcbEntry {
    /// The universal address.
    pub maddr: String,
    /// The transport (netid) the address belongs to.
    pub netid: String,
    /// NC_TPI_CLTS (1) for datagrams, NC_TPI_COTS_ORD (3) for streams.
    pub semantics: u32,
    /// "inet", "inet6" or "loopback".
    pub protofmly: String,
    /// "tcp", "udp" or "-".
    pub proto: String,
}

impl RpcbEntry {
    fn describe(maddr: String, netid: &str) -> RpcbEntry {
        let (semantics, protofmly, proto) = match netid {
            "udp" => (1, "inet", "udp"),
            "tcp" => (3, "inet", "tcp"),
            "udp6" => (1, "inet6", "udp"),
            "tcp6" => (3, "inet6", "tcp"),
            _ => (3, "loopback", "-"),
        };
        RpcbEntry {
            maddr,
            netid: netid.to_string(),
            semantics,
            protofmly: protofmly.into(),
            proto: proto.into(),
        }
    }

    fn encode(&self, enc: &mut Encoder) -> Result<()> {
        enc.put_string(&self.maddr)?;
        enc.put_string(&self.netid)?;
        enc.put_uint(self.semantics);
        enc.put_string(&self.protofmly)?;
        enc.put_string(&self.proto)
    }

    fn decode(dec: &mut Decoder<'_>) -> Result<RpcbEntry> {
        let mut s =
            || -> Result<String> { Ok(lossy(dec.get_string_bytes(Some(MAX_RPCB_STRING))?)) };
        let maddr = s()?;
        let netid = s()?;
        let semantics = dec.get_uint()?;
        let mut s =
            || -> Result<String> { Ok(lossy(dec.get_string_bytes(Some(MAX_RPCB_STRING))?)) };
        Ok(RpcbEntry {
            maddr,
            netid,
            semantics,
            protofmly: s()?,
            proto: s()?,
        })
    }
}

/// Runs an rpcbind server on TCP and UDP `port` of every IPv4 interface
/// and of IPv6 loopback (when there is IPv6) until SIGTERM or SIGINT, then
/// stops gracefully (what `xipc rpcbind` does).
pub fn run_server(port: u16) -> Result<()> {
    use nix::sys::signal::{SigSet, Signal};
    // Blocked before the server's threads start, so they inherit the mask
    // and the signals wait for `set.wait()` below.
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    set.thread_block()
        .map_err(|e| Error::nix("block SIGTERM and SIGINT", e))?;
    let server = Server::new();
    serve_hosts(
        &server,
        &["0.0.0.0", "::1"],
        port,
        DEFAULT_MAX_REGISTRATIONS,
    )
    .map_err(|e| match e {
        Error::Os { ref source, .. } if source.raw_os_error() == Some(libc::EADDRINUSE) => {
            Error::Exists(format!(
                "port {port} is taken (is another rpcbind running?): {e}"
            ))
        }
        e => e,
    })?;
    if port == PORT {
        listen_local_socket(&server);
    }
    server.start()?;
    let waited = set.wait();
    server.stop();
    waited
        .map(|_| ())
        .map_err(|e| Error::nix("wait for a signal", e))
}

/// Where libtirpc looks for the local rpcbind (rpcinfo without a host,
/// clnt_create for this machine).
pub const LOCAL_SOCKET: &str = "/run/rpcbind.sock";

/// Also serves on [`LOCAL_SOCKET`] when nothing else does (a stale file left
/// by a killed server is replaced); silently skipped when impossible. Every
/// user may connect (0666), as to the system rpcbind: changes are checked
/// against the caller's uid, which the socket reports.
fn listen_local_socket(server: &Server) {
    let path = std::path::Path::new(LOCAL_SOCKET);
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return;
    }
    let _ = std::fs::remove_file(path);
    let _ = server.listen_unix_with_mode(path, 0o666);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::Credential;

    fn call_from(peer: Peer, peer_uid: Option<u32>) -> CallInfo {
        CallInfo {
            xid: 1,
            prog: PROGRAM,
            vers: 4,
            procedure: proc::SET,
            cred: Credential::None,
            peer,
            local: None,
            peer_credentials: peer_uid.map(|uid| crate::stream::PeerCredentials {
                pid: 1,
                uid,
                gid: uid,
            }),
        }
    }

    #[test]
    fn only_local_callers_change_and_only_owners_remove() {
        let remote = Caller::of(&call_from(Peer::Tcp("10.1.2.3:700".parse().unwrap()), None));
        assert!(!remote.local);
        let mapped = Caller::of(&call_from(
            Peer::Udp("[::ffff:127.0.0.1]:7".parse().unwrap()),
            None,
        ));
        assert!(mapped.local);
        assert_eq!(mapped.owner, "unknown");
        let root = Caller::of(&call_from(Peer::Unix(1), Some(0)));
        let user = Caller::of(&call_from(Peer::Unix(2), Some(1000)));
        assert!(root.local && user.local);
        assert_eq!(
            (root.owner.as_str(), user.owner.as_str()),
            ("superuser", "1000")
        );

        let mut d = Directory::new(8);
        let entry = |vers, owner: &str| Rpcb {
            prog: 7,
            vers,
            netid: "tcp".into(),
            addr: "0.0.0.0.0.9".into(),
            owner: owner.into(),
        };
        assert!(d.set(entry(1, "1000")));
        assert!(d.set(entry(2, "unknown")));
        assert!(!d.unset(7, 1, &[], &mapped), "not the owner");
        assert!(d.unset(7, 1, &["tcp"], &user));
        assert!(!d.unset(7, 2, &[], &user));
        assert!(d.unset(7, 2, &[], &root));
        assert!(d.entries.is_empty());
    }

    #[test]
    fn universal_addresses() {
        let a: SocketAddr = "127.0.0.1:2049".parse().unwrap();
        assert_eq!(format_uaddr(a), "127.0.0.1.8.1");
        assert_eq!(parse_uaddr("127.0.0.1.8.1").unwrap(), a);
        assert_eq!(parse_uaddr("0.0.0.0.0.111").unwrap().port(), 111);
        assert!(parse_uaddr("127.0.0.1.256.1").is_err());
        assert!(parse_uaddr("nonsense").is_err());
        assert_eq!(
            parse_uaddr("::1.3.233").unwrap(),
            "[::1]:1001".parse::<SocketAddr>().unwrap()
        );
    }
}
