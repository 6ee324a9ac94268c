//! rpcbind and the portmapper (RFC 1833): a client for set, unset, getport,
//! getaddr and dump, and an embedded directory server (`xipc rpcbind`)
//! speaking portmap v2 and rpcbind v3/v4 on program 100000.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::client::{lock, resolve, Client, Protocol};
use super::server::{CallInfo, Server};
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
    pub const NULL: u32 = 0;
    pub const SET: u32 = 1;
    pub const UNSET: u32 = 2;
    /// GETPORT in v2, GETADDR in v3/v4.
    pub const GETADDR: u32 = 3;
    pub const DUMP: u32 = 4;
    pub const GETTIME: u32 = 6;
    pub const GETVERSADDR: u32 = 9;
}

/// A portmap v2 mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub prog: u32,
    pub vers: u32,
    /// IPPROTO_TCP (6) or IPPROTO_UDP (17).
    pub prot: u32,
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
    pub prog: u32,
    pub vers: u32,
    /// "tcp", "udp", "tcp6", "udp6", "local".
    pub netid: String,
    /// The universal address ("h1.h2.h3.h4.p1.p2" for IPv4).
    pub addr: String,
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

    /// rpcbind at `host:port` over `proto`.
    pub fn with_port(host: &str, port: u16, proto: Protocol) -> Rpcbind {
        Rpcbind {
            host: host.to_string(),
            port,
            proto,
            timeout: Duration::from_secs(5),
        }
    }

    /// This machine's rpcbind, when one accepts connections on
    /// 127.0.0.1:111 (checked now, with a short timeout).
    pub fn local() -> Result<Rpcbind> {
        let addr: SocketAddr = (Ipv4Addr::LOCALHOST, PORT).into();
        std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300))
            .map_err(|e| Error::os("connect to rpcbind on 127.0.0.1:111", e))?;
        let mut rb = Rpcbind::new("127.0.0.1");
        rb.timeout = Duration::from_secs(2);
        Ok(rb)
    }

    /// The per-call timeout (default 5 s).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    fn client(&self, vers: u32) -> Result<Client> {
        let c = Client::connect(&self.host, self.port, PROGRAM, vers, self.proto)?;
        c.set_timeout(self.timeout);
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
}

fn decode_bool(reply: &[u8]) -> Result<bool> {
    Decoder::new(reply).get_bool()
}

/// Finds where `prog`/`vers` listens on `host` over `proto`.
pub fn lookup(host: &str, prog: u32, vers: u32, proto: Protocol) -> Result<SocketAddr> {
    let rb = Rpcbind::new(host);
    let Some(uaddr) = rb.getaddr(prog, vers, proto.netid())? else {
        return Err(Error::NotFound(format!(
            "program {prog} version {vers} is not registered with rpcbind on {host} ({})",
            proto.netid()
        )));
    };
    let mut addr = parse_uaddr(&uaddr)?;
    if addr.ip().is_unspecified() {
        addr.set_ip(resolve(host, PORT)?.ip());
    }
    Ok(addr)
}

/// The embedded directory: the registrations it holds.
#[derive(Default)]
struct Directory {
    entries: Vec<Rpcb>,
}

impl Directory {
    fn set(&mut self, entry: Rpcb) -> bool {
        let taken = self
            .entries
            .iter()
            .any(|e| e.prog == entry.prog && e.vers == entry.vers && e.netid == entry.netid);
        if !taken {
            self.entries.push(entry);
        }
        !taken
    }

    fn unset(&mut self, prog: u32, vers: u32, netid: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| {
            !(e.prog == prog && e.vers == vers && (netid.is_empty() || e.netid == netid))
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

/// The owner string for registrations made over portmap v2 or by uid.
fn owner_of(info: &CallInfo) -> String {
    match &info.cred {
        super::auth::Credential::Sys(sys) => sys.uid.to_string(),
        _ => "unknown".into(),
    }
}

/// Puts the caller-reachable host into an address registered on a wildcard.
fn merge_addr(uaddr: &str, info: &CallInfo) -> String {
    match (parse_uaddr(uaddr), info.local) {
        (Ok(a), Some(local)) if a.ip().is_unspecified() && !local.ip().is_unspecified() => {
            format_uaddr(SocketAddr::new(local.ip(), a.port()))
        }
        _ => uaddr.to_string(),
    }
}

/// Builds an rpcbind server (portmap v2, rpcbind v3 and v4) on `server`,
/// listening on TCP and UDP `host:port`; its own registrations are listed.
pub fn serve_on(server: &Server, host: &str, port: u16) -> Result<u16> {
    server.set_rpcbind_registration(false);
    let tcp = server.listen_tcp(host, port)?;
    let udp = server.listen_udp(host, tcp)?;
    let dir = Arc::new(Mutex::new(Directory::default()));
    {
        let mut d = lock(&dir);
        let wild = |p| format_uaddr(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), p));
        for vers in [4, 3, 2] {
            for (netid, p) in [("tcp", tcp), ("udp", udp)] {
                d.set(Rpcb {
                    prog: PROGRAM,
                    vers,
                    netid: netid.into(),
                    addr: wild(p),
                    owner: "superuser".into(),
                });
            }
        }
    }
    register_v2(server, dir.clone());
    for vers in [3, 4] {
        register_v34(server, vers, dir.clone());
    }
    Ok(tcp)
}

fn register_v2(server: &Server, dir: Arc<Mutex<Directory>>) {
    let d = dir.clone();
    server.register(PROGRAM, 2, proc::SET, move |info, args| {
        let m = Mapping::decode(&mut Decoder::new(args)).map_err(garbage)?;
        let Some(netid) = netid_of_prot(m.prot) else {
            return Ok(bool_reply(false));
        };
        let port = u16::try_from(m.port).map_err(|_| Error::GarbageArgs)?;
        let entry = Rpcb {
            prog: m.prog,
            vers: m.vers,
            netid: netid.into(),
            addr: format_uaddr(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port)),
            owner: owner_of(info),
        };
        Ok(bool_reply(lock(&d).set(entry)))
    });
    let d = dir.clone();
    server.register(PROGRAM, 2, proc::UNSET, move |_, args| {
        let m = Mapping::decode(&mut Decoder::new(args)).map_err(garbage)?;
        let mut d = lock(&d);
        let tcp = d.unset(m.prog, m.vers, "tcp");
        let udp = d.unset(m.prog, m.vers, "udp");
        Ok(bool_reply(tcp || udp))
    });
    let d = dir.clone();
    server.register(PROGRAM, 2, proc::GETADDR, move |_, args| {
        let m = Mapping::decode(&mut Decoder::new(args)).map_err(garbage)?;
        let port = netid_of_prot(m.prot)
            .and_then(|n| {
                lock(&d)
                    .find(m.prog, m.vers, n, false)
                    .and_then(|e| parse_uaddr(&e.addr).ok())
            })
            .map_or(0, |a| a.port() as u32);
        Ok(port.to_be_bytes().to_vec())
    });
    let d = dir;
    server.register(PROGRAM, 2, proc::DUMP, move |_, _| {
        let mut enc = Encoder::new();
        for e in &lock(&d).entries {
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
        Ok(enc.into_bytes())
    });
}

fn register_v34(server: &Server, vers: u32, dir: Arc<Mutex<Directory>>) {
    let d = dir.clone();
    server.register(PROGRAM, vers, proc::SET, move |info, args| {
        let mut r = Rpcb::decode(&mut Decoder::new(args)).map_err(garbage)?;
        if r.owner.is_empty() {
            r.owner = owner_of(info);
        }
        Ok(bool_reply(lock(&d).set(r)))
    });
    let d = dir.clone();
    server.register(PROGRAM, vers, proc::UNSET, move |_, args| {
        let r = Rpcb::decode(&mut Decoder::new(args)).map_err(garbage)?;
        Ok(bool_reply(lock(&d).unset(r.prog, r.vers, &r.netid)))
    });
    for (procedure, any_version) in [(proc::GETADDR, true), (proc::GETVERSADDR, false)] {
        if procedure == proc::GETVERSADDR && vers < 4 {
            continue;
        }
        let d = dir.clone();
        server.register(PROGRAM, vers, procedure, move |info, args| {
            let r = Rpcb::decode(&mut Decoder::new(args)).map_err(garbage)?;
            let addr = lock(&d)
                .find(r.prog, r.vers, &r.netid, any_version)
                .map(|e| merge_addr(&e.addr, info))
                .unwrap_or_default();
            let mut enc = Encoder::new();
            enc.put_string(&addr)?;
            Ok(enc.into_bytes())
        });
    }
    let d = dir;
    server.register(PROGRAM, vers, proc::DUMP, move |_, _| {
        let mut enc = Encoder::new();
        for e in &lock(&d).entries {
            enc.put_optional(true);
            e.encode(&mut enc)?;
        }
        enc.put_optional(false);
        Ok(enc.into_bytes())
    });
    server.register(PROGRAM, vers, proc::GETTIME, |_, _| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as u32)
            .unwrap_or(0);
        Ok(now.to_be_bytes().to_vec())
    });
}

/// Runs an rpcbind server on TCP and UDP `port` of every interface until
/// SIGTERM or SIGINT, then stops gracefully (what `xipc rpcbind` does).
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
    serve_on(&server, "0.0.0.0", port).map_err(|e| match e {
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
