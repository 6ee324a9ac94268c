//! The embedded rpcbind server (`xipc rpcbind`): portmap v2 and rpcbind
//! v3/v4 on program 100000, as handlers on a [`Service`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::prot::{
    format_uaddr, lossy, parse_uaddr, proc, taddr_to_uaddr, uaddr_to_taddr, AddrStat, Mapping,
    RmtCall, RmtCallStat, Rpcb, RpcbEntry, RpcbStat, IPPROTO_TCP, IPPROTO_UDP, LOCAL_SOCKET,
    MAX_RPCB_STRING, PORT, PROGRAM,
};
use crate::net::resolve_one;
use crate::rpc::client::Client;
use crate::rpc::protocol::Protocol;
use crate::rpc::svc::{Answer, CallInfo, Dispatcher, Peer, Service};
use crate::xdr::{Decoder, Encoder};
use crate::{Error, Result};

/// Most registrations the embedded rpcbind holds by default (see
/// [`serve_with_limit`]).
pub const DEFAULT_MAX_REGISTRATIONS: usize = 4096;
/// How long a CALLIT or INDIRECT waits for the service it forwards to.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(5);
/// Most entries each GETSTAT list keeps.
const MAX_STAT_ENTRIES: usize = 256;

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
        let local = match &info.peer {
            Peer::Unix(_) => true,
            Peer::Tcp(a) | Peer::Udp(a) => is_loopback(a.ip()),
        };
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

/// Builds an rpcbind server (portmap v2, rpcbind v3 and v4) on `server`,
/// listening on TCP and UDP `host:port`, holding at most
/// [`DEFAULT_MAX_REGISTRATIONS`]; its own registrations are listed.
pub fn serve_on(server: &Service, host: &str, port: u16) -> Result<u16> {
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
    server: &Service,
    host: &str,
    port: u16,
    max_registrations: usize,
) -> Result<u16> {
    serve_hosts(server, &[host], port, max_registrations)
}

/// Listens on TCP and UDP of the first of `hosts` (and, where possible, of
/// the others, on the same port) and serves rpcbind there, listing itself
/// under "tcp"/"udp" or "tcp6"/"udp6" as each host is IPv4 or IPv6.
fn serve_hosts(server: &Service, hosts: &[&str], port: u16, max: usize) -> Result<u16> {
    let mut port = port;
    let mut bound = Vec::new();
    for (i, host) in hosts.iter().enumerate() {
        let listened = server.listen_tcp(host, port).and_then(|tcp| {
            let udp = server.listen_udp(host, tcp)?;
            Ok((tcp, udp, resolve_one(host, tcp)?.is_ipv6()))
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
    install(server.dispatcher(), dir);
    Ok(port)
}

/// Registers `handler` for rpcbind version `vers`, counting its calls.
/// Serves rpcbind's procedures (portmap v2, rpcbind v3 and v4) from
/// `dispatcher`, holding at most `max_registrations` registrations. No
/// listener is involved: [`serve_on`] adds those; tests and fuzzers call
/// the dispatcher directly.
pub fn serve_directory(dispatcher: &Dispatcher, max_registrations: usize) {
    install(
        dispatcher,
        Arc::new(Mutex::new(Directory::new(max_registrations.max(12)))),
    );
}

fn install(d: &Dispatcher, dir: Arc<Mutex<Directory>>) {
    register_v2(d, dir.clone());
    for vers in [3, 4] {
        register_v34(d, vers, dir.clone());
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
        match handler(info, args, &dir)? {
            Some(bytes) => {
                out.put_raw(&bytes);
                Ok(Answer::Results)
            }
            None => Ok(Answer::Silence),
        }
    });
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
    let server = Service::new();
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

/// Also serves on [`LOCAL_SOCKET`] when nothing else does (a stale file left
/// by a killed server is replaced); silently skipped when impossible. Every
/// user may connect (0666), as to the system rpcbind: changes are checked
/// against the caller's uid, which the socket reports.
fn listen_local_socket(server: &Service) {
    let path = std::path::Path::new(LOCAL_SOCKET);
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return;
    }
    let _ = std::fs::remove_file(path);
    let _ = server.listen_unix_with_mode(path, 0o666);
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
