//! rpcbind's protocol (RFC 1833): program and procedure numbers, the
//! records its procedures carry, and universal addresses.

use std::net::{IpAddr, SocketAddr};

use crate::rpc::protocol::Protocol;
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
    pub(crate) fn encode(&self, enc: &mut Encoder) {
        enc.put_uint(self.prog);
        enc.put_uint(self.vers);
        enc.put_uint(self.prot);
        enc.put_uint(self.port);
    }

    pub(crate) fn decode(dec: &mut Decoder<'_>) -> Result<Mapping> {
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
pub(crate) const MAX_RPCB_STRING: u32 = 1024;

impl Rpcb {
    pub(crate) fn encode(&self, enc: &mut Encoder) -> Result<()> {
        enc.put_uint(self.prog);
        enc.put_uint(self.vers);
        enc.put_string(&self.netid)?;
        enc.put_string(&self.addr)?;
        enc.put_string(&self.owner)
    }

    pub(crate) fn decode(dec: &mut Decoder<'_>) -> Result<Rpcb> {
        Ok(Rpcb {
            prog: dec.get_uint()?,
            vers: dec.get_uint()?,
            netid: lossy(dec.get_string_bytes(Some(MAX_RPCB_STRING))?),
            addr: lossy(dec.get_string_bytes(Some(MAX_RPCB_STRING))?),
            owner: lossy(dec.get_string_bytes(Some(MAX_RPCB_STRING))?),
        })
    }
}

pub(crate) fn lossy(b: &[u8]) -> String {
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

/// Where libtirpc looks for the local rpcbind (rpcinfo without a host,
/// clnt_create for this machine).
pub const LOCAL_SOCKET: &str = "/run/rpcbind.sock";

/// Procedures GETSTAT counts (rpcbind v4's highest plus one).
const STAT_PROCS: usize = 13;

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
    pub(crate) fn encode(&self, enc: &mut Encoder) -> Result<()> {
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

    pub(crate) fn decode(dec: &mut Decoder<'_>) -> Result<RpcbStat> {
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
}

/// A call to forward (CALLIT, BCAST, INDIRECT): rpcb_rmtcallargs, which is
/// also portmap v2's call_args.
pub(crate) struct RmtCall {
    pub prog: u32,
    pub vers: u32,
    pub procedure: u32,
    pub args: Vec<u8>,
}

impl RmtCall {
    pub(crate) fn decode(args: &[u8]) -> Result<RmtCall> {
        let mut dec = Decoder::new(args);
        Ok(RmtCall {
            prog: dec.get_uint()?,
            vers: dec.get_uint()?,
            procedure: dec.get_uint()?,
            args: dec.get_opaque(None)?.to_vec(),
        })
    }

    pub(crate) fn encode(&self, enc: &mut Encoder) -> Result<()> {
        enc.put_uint(self.prog);
        enc.put_uint(self.vers);
        enc.put_uint(self.procedure);
        enc.put_opaque(&self.args)
    }
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
    pub(crate) fn describe(maddr: String, netid: &str) -> RpcbEntry {
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

    pub(crate) fn encode(&self, enc: &mut Encoder) -> Result<()> {
        enc.put_string(&self.maddr)?;
        enc.put_string(&self.netid)?;
        enc.put_uint(self.semantics);
        enc.put_string(&self.protofmly)?;
        enc.put_string(&self.proto)
    }

    pub(crate) fn decode(dec: &mut Decoder<'_>) -> Result<RpcbEntry> {
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
