//! The embedded rpcbind's procedures: portmap v2 and rpcbind v3/v4 on
//! program 100000, as handlers on a [`Dispatcher`], over one directory of
//! registrations. Listening is [`super::embedded`]'s.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::options::RpcbindOptions;
use super::prot::{
    format_uaddr, lossy, parse_uaddr, proc, taddr_to_uaddr, uaddr_to_taddr, AddrStat, Mapping,
    RmtCall, RmtCallStat, Rpcb, RpcbEntry, RpcbStat, IPPROTO_TCP, IPPROTO_UDP, MAX_RPCB_STRING,
    PROGRAM,
};
use crate::rpc::client::Client;
use crate::rpc::protocol::Protocol;
use crate::rpc::svc::{Answer, CallInfo, Dispatcher, Peer};
use crate::sync::lock;
use crate::xdr::{Decoder, Encoder};
use crate::{Error, Result};

/// How long a CALLIT or INDIRECT waits for the service it forwards to.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(5);
/// Most entries each GETSTAT list keeps.
const MAX_STAT_ENTRIES: usize = 256;
/// Over UDP, a caller that is not on this machine gets a reply of at most
/// this many times the size of its call: rpcbind cannot be used to
/// amplify a datagram sent with a forged source address. A larger reply
/// (a DUMP, GETADDRLIST or GETSTAT list, a big forwarded result) becomes
/// SYSTEM_ERR, smaller than any call, telling the caller to ask over TCP.
pub const UDP_REPLY_FACTOR: usize = 2;
/// The fixed part of a call message: xid, message type, RPC version,
/// program, version, procedure, and the credential's and verifier's flavor
/// and length.
const CALL_HEADER: usize = 40;
/// An accepted reply's header with an AUTH_NONE verifier: xid, message
/// type, reply status, verifier flavor and length, accept status.
const REPLY_HEADER: usize = 24;

/// Who is asking, as rpcbind sees it.
struct Asker {
    /// On this machine: a Unix socket or a loopback address.
    local: bool,
    /// "superuser" (uid 0), a uid, or "unknown" when the socket does not
    /// tell (TCP and UDP: a credential in the call is not proof).
    owner: String,
}

impl Asker {
    fn of(info: &CallInfo) -> Asker {
        let local = is_local(info);
        let owner = match info.peer_credentials.map(|c| c.uid) {
            Some(0) => "superuser".to_string(),
            Some(uid) => uid.to_string(),
            None => "unknown".to_string(),
        };
        Asker { local, owner }
    }

    /// May this caller remove an entry `owner` made?
    fn owns(&self, owner: &str) -> bool {
        self.owner == "superuser" || self.owner == owner
    }
}

/// Whether the caller is on this machine: a Unix socket or a loopback
/// address (which the kernel accepts only from this machine).
fn is_local(info: &CallInfo) -> bool {
    match &info.peer {
        Peer::Unix(_) => true,
        Peer::Tcp(a) | Peer::Udp(a) => is_loopback(a.ip()),
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

impl RpcbStat {
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

/// The embedded directory: its registrations and statistics.
struct Directory {
    entries: Vec<Rpcb>,
    max_entries: usize,
    /// Whether calls are forwarded for callers on other machines.
    remote_calls: bool,
    /// GETSTAT's figures for versions 2, 3 and 4.
    stats: [RpcbStat; 3],
}

impl Directory {
    fn new(max_entries: usize, remote_calls: bool) -> Directory {
        Directory {
            entries: Vec::new(),
            // Room for rpcbind's own entries (3 versions, 4 netids).
            max_entries: max_entries.max(12),
            remote_calls,
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
    fn unset(&mut self, prog: u32, vers: u32, netids: &[&str], caller: &Asker) -> bool {
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
                    SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
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

/// Serves rpcbind's procedures (portmap v2, rpcbind v3 and v4) from
/// `dispatcher` as `options` say (forwarding for other machines, the most
/// registrations; its addresses are not used). No listener is involved:
/// [`serve_with_options`](super::serve_with_options) and
/// [`RpcbindServer`](super::RpcbindServer) add those; tests and fuzzers
/// call the dispatcher directly.
///
/// Changes are guarded as the system rpcbind guards them: SET and UNSET
/// are answered FALSE unless the caller is on this machine (a Unix socket
/// or a loopback address), and UNSET removes only entries the caller owns:
/// the owner is the caller's uid as a Unix socket reports it ("superuser"
/// for root, who may remove any), or "unknown" over TCP and UDP.
pub fn serve_directory(dispatcher: &Dispatcher, options: &RpcbindOptions) {
    serve_listing(dispatcher, options, &[]);
}

/// [`serve_directory`], with rpcbind itself registered (versions 2 to 4)
/// on each of `own`: its TCP port, its UDP port, and whether it is IPv6
/// ("tcp6"/"udp6") or IPv4 ("tcp"/"udp").
pub(super) fn serve_listing(
    dispatcher: &Dispatcher,
    options: &RpcbindOptions,
    own: &[(u16, u16, bool)],
) {
    let mut d = Directory::new(options.max_registrations, options.remote_calls);
    for &(tcp, udp, six) in own {
        let (wild, t, u): (IpAddr, _, _) = if six {
            (Ipv6Addr::UNSPECIFIED.into(), "tcp6", "udp6")
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
    let dir = Arc::new(Mutex::new(d));
    register_v2(dispatcher, dir.clone());
    for vers in [3, 4] {
        register_v34(dispatcher, vers, dir.clone());
    }
}

/// What an rpcbind procedure answers: its results, or nothing at all.
type Reply = Result<Option<Vec<u8>>>;

/// Registers `handler` for rpcbind version `vers`, counting its calls.
fn serve<F>(d: &Dispatcher, dir: &Arc<Mutex<Directory>>, vers: u32, procedure: u32, handler: F)
where
    F: Fn(&CallInfo, &[u8], &Arc<Mutex<Directory>>) -> Reply + Send + Sync + 'static,
{
    let dir = dir.clone();
    d.register_answer(PROGRAM, vers, procedure, move |info, args, out| {
        if let Some(n) = lock(&dir).stat(vers).info.get_mut(procedure as usize) {
            *n = n.saturating_add(1);
        }
        let Some(bytes) = handler(info, args, &dir)? else {
            return Ok(Answer::Silence);
        };
        if !reply_allowed(info, args, bytes.len()) {
            // CALLIT and BCAST stay silent when they fail; the others say so.
            return match procedure {
                proc::CALLIT => Ok(Answer::Silence),
                _ => Err(Error::SystemErr),
            };
        }
        out.put_raw(&bytes);
        Ok(Answer::Results)
    });
}

/// Whether a reply carrying `results` bytes may go to the caller of
/// `info`: always over a stream or to this machine; over UDP to another
/// machine only when the reply is at most [`UDP_REPLY_FACTOR`] times the
/// size of the call, counted as its header, credential and arguments.
fn reply_allowed(info: &CallInfo, args: &[u8], results: usize) -> bool {
    if !matches!(info.peer, Peer::Udp(_)) || is_local(info) {
        return true;
    }
    let cred = info.cred.to_opaque().map_or(0, |c| c.body.len());
    REPLY_HEADER + results <= UDP_REPLY_FACTOR * (CALL_HEADER + cred + args.len())
}

fn results(bytes: Vec<u8>) -> Reply {
    Ok(Some(bytes))
}

fn register_v2(server: &Dispatcher, dir: Arc<Mutex<Directory>>) {
    serve(server, &dir, 2, proc::SET, |info, args, dir| {
        let m = Mapping::decode(&mut Decoder::new(args)).map_err(garbage)?;
        let caller = Asker::of(info);
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
        let caller = Asker::of(info);
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
        if forwarding_refused(info, dir) {
            return Err(Error::ProcUnavail);
        }
        let call = RmtCall::decode(args).map_err(garbage)?;
        let Ok((addr, res)) = forward(&call, info, dir, 2, false) else {
            return Ok(None);
        };
        let mut enc = Encoder::new();
        enc.put_uint(addr.port().into());
        enc.put_opaque(&res)?;
        results(enc.into_bytes())
    });
}

/// Whether a forwarding procedure (CALLIT, BCAST, INDIRECT) is refused to
/// the caller of `info`: one on another machine while remote calls are
/// off. The refusal is PROC_UNAVAIL, before the arguments are read, as
/// rpcbind built without remote calls (the default since 1.2.5) answers
/// these procedures: a small reply that names no service and calls none.
fn forwarding_refused(info: &CallInfo, dir: &Arc<Mutex<Directory>>) -> bool {
    !lock(dir).remote_calls && !is_local(info)
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
        c.set_timeout(Some(FORWARD_TIMEOUT))?;
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

fn register_v34(server: &Dispatcher, vers: u32, dir: Arc<Mutex<Directory>>) {
    serve(server, &dir, vers, proc::SET, move |info, args, dir| {
        let mut r = Rpcb::decode(&mut Decoder::new(args)).map_err(garbage)?;
        let caller = Asker::of(info);
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
        let caller = Asker::of(info);
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
            if forwarding_refused(info, dir) {
                return Err(Error::ProcUnavail);
            }
            let call = RmtCall::decode(args).map_err(garbage)?;
            let (addr, res) = match forward(&call, info, dir, vers, indirect) {
                Ok(done) => done,
                Err(_) if !indirect => return Ok(None),
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
            tls_peer: None,
        }
    }

    #[test]
    fn only_local_callers_change_and_only_owners_remove() {
        let remote = Asker::of(&call_from(Peer::Tcp("10.1.2.3:700".parse().unwrap()), None));
        assert!(!remote.local);
        let mapped = Asker::of(&call_from(
            Peer::Udp("[::ffff:127.0.0.1]:7".parse().unwrap()),
            None,
        ));
        assert!(mapped.local);
        assert_eq!(mapped.owner, "unknown");
        let root = Asker::of(&call_from(Peer::Unix(1), Some(0)));
        let user = Asker::of(&call_from(Peer::Unix(2), Some(1000)));
        assert!(root.local && user.local);
        assert_eq!(
            (root.owner.as_str(), user.owner.as_str()),
            ("superuser", "1000")
        );

        let mut d = Directory::new(8, false);
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

    /// A call to rpcbind `vers` procedure `procedure` with `args`.
    fn rpcbind_call(vers: u32, procedure: u32, args: &[u8]) -> Vec<u8> {
        let mut enc = Encoder::new();
        for word in [7, 0, 2, PROGRAM, vers, procedure, 0, 0, 0, 0] {
            enc.put_uint(word);
        }
        enc.put_raw(args);
        enc.into_bytes()
    }

    /// The accept_stat of an accepted reply with an AUTH_NONE verifier.
    fn accept_stat(reply: &[u8]) -> u32 {
        u32::from_be_bytes(reply[20..24].try_into().unwrap())
    }

    #[test]
    fn other_machines_get_no_forwarding_and_no_large_udp_replies() {
        let dispatcher = Dispatcher::new();
        serve_listing(&dispatcher, &RpcbindOptions::new(), &[(111, 111, false)]);
        let from = |peer: Peer| crate::rpc::svc::Caller {
            peer,
            local: None,
            peer_credentials: None,
            tls_peer: None,
        };
        let remote_udp = from(Peer::Udp("10.1.2.3:700".parse().unwrap()));
        let remote_tcp = from(Peer::Tcp("10.1.2.3:700".parse().unwrap()));
        let local_udp = from(Peer::Udp("127.0.0.1:700".parse().unwrap()));
        let mut rmtcall = Encoder::new();
        for word in [0x2000_0150, 1, 1, 0] {
            rmtcall.put_uint(word);
        }
        // Forwarding is refused to other machines, over UDP and TCP alike.
        for (vers, procedure) in [(2, proc::CALLIT), (3, proc::CALLIT), (4, proc::CALLIT)]
            .into_iter()
            .chain([(4, proc::INDIRECT)])
        {
            for caller in [&remote_udp, &remote_tcp] {
                let call = rpcbind_call(vers, procedure, rmtcall.as_bytes());
                let reply = dispatcher.answer(&call, caller).unwrap();
                assert_eq!(
                    accept_stat(&reply),
                    3,
                    "v{vers} proc {procedure}: PROC_UNAVAIL"
                );
            }
        }
        // Not registered: a local INDIRECT is looked up (and not found).
        let call = rpcbind_call(4, proc::INDIRECT, rmtcall.as_bytes());
        assert_eq!(
            accept_stat(&dispatcher.answer(&call, &local_udp).unwrap()),
            1
        );
        // DUMP lists rpcbind's 6 entries: over UDP to another machine that
        // is more than twice the call, so SYSTEM_ERR; whole over TCP or here.
        let dump = rpcbind_call(4, proc::DUMP, &[]);
        let small = dispatcher.answer(&dump, &remote_udp).unwrap();
        assert_eq!((accept_stat(&small), small.len()), (5, 24));
        assert!(small.len() <= UDP_REPLY_FACTOR * dump.len());
        for caller in [&remote_tcp, &local_udp] {
            let whole = dispatcher.answer(&dump, caller).unwrap();
            assert_eq!(accept_stat(&whole), 0);
            assert!(whole.len() > 6 * 40, "{} bytes", whole.len());
        }
        // A lookup fits and is answered: GETPORT of rpcbind itself.
        let mut getport = Encoder::new();
        for word in [PROGRAM, 2, IPPROTO_UDP, 0] {
            getport.put_uint(word);
        }
        let call = rpcbind_call(2, proc::GETADDR, getport.as_bytes());
        let reply = dispatcher.answer(&call, &remote_udp).unwrap();
        assert_eq!(
            (accept_stat(&reply), &reply[24..]),
            (0, &111u32.to_be_bytes()[..])
        );
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
