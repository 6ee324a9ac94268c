//! Making a service known to this machine's rpcbind while it runs, as
//! `svc_reg` does for libtirpc servers, without taking over what another
//! live server has registered.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use super::client::Rpcbind;
use super::prot::{format_uaddr, netid_for, parse_uaddr, Rpcb, IPPROTO_TCP, IPPROTO_UDP};
use crate::net::is_bound;
use crate::rpc::client::Client;
use crate::rpc::protocol::Protocol;
use crate::rpc::svc::Service;
use crate::{Error, Result};

/// How long a registered address that cannot be tested by binding it is
/// given to answer a NULL call before it counts as dead.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// The registrations made for one service; dropping it (or
/// [`withdraw`](Self::withdraw)) removes those that are still its own.
#[derive(Debug, Default)]
pub struct Registration {
    /// The rpcbind registered with.
    rpcbind: Option<Rpcbind>,
    /// What was registered, each with the address it names.
    done: Vec<(Rpcb, SocketAddr)>,
}

/// One registration a service asks for.
struct Wanted {
    prog: u32,
    vers: u32,
    proto: Protocol,
    addr: SocketAddr,
}

impl Wanted {
    fn entry(&self) -> Rpcb {
        Rpcb {
            prog: self.prog,
            vers: self.vers,
            netid: netid_for(self.proto, self.addr.is_ipv6()).into(),
            addr: format_uaddr(self.addr),
            owner: String::new(),
        }
    }
}

impl Registration {
    /// Registers every program version `service` answers on every TCP and
    /// UDP address it listens on, with the local rpcbind if one answers
    /// (none is no error: there is nothing to register with); see
    /// [`register_with`](Self::register_with).
    pub fn register(service: &Service, replace: bool) -> Result<Registration> {
        if service.addresses().is_empty() {
            return Ok(Registration::default());
        }
        match Rpcbind::local() {
            Ok(rpcbind) => Registration::register_with(rpcbind, service, replace),
            Err(_) => Ok(Registration::default()),
        }
    }

    /// Registers every program version `service` answers on every TCP and
    /// UDP address it listens on, with `rpcbind`. IPv4 addresses go
    /// through portmap v2 (which every rpcbind speaks), IPv6 ones as
    /// "tcp6"/"udp6" through rpcbind v4 (or v3).
    ///
    /// A program version and netid already registered at another address
    /// that a live server holds (a socket of this machine is bound there,
    /// or it answers a NULL call) is [`Error::Exists`], naming the
    /// program, the version and that address, and nothing is registered;
    /// with `replace` the registration is taken over. A registration whose
    /// server is gone is replaced either way.
    pub fn register_with(
        rpcbind: Rpcbind,
        service: &Service,
        replace: bool,
    ) -> Result<Registration> {
        let addrs = service.addresses();
        let wanted: Vec<Wanted> = service
            .dispatcher()
            .versions()
            .into_iter()
            .flat_map(|(prog, vers)| {
                addrs.iter().map(move |&(proto, addr)| Wanted {
                    prog,
                    vers,
                    proto,
                    addr,
                })
            })
            .filter(|w| matches!(w.proto, Protocol::Tcp | Protocol::Udp))
            .collect();
        if wanted.is_empty() {
            return Ok(Registration::default());
        }
        if !replace {
            let existing = registrations(&rpcbind).unwrap_or_default();
            if let Some((w, holder)) = first_live_conflict(&wanted, &addrs, &existing) {
                return Err(Error::Exists(format!(
                    "program {} ({:#x}) version {} is registered with rpcbind at {} ({}) by a \
                     server that is running; stop it, or have this server replace its \
                     registration",
                    w.prog, w.prog, w.vers, holder.addr, holder.netid
                )));
            }
        }
        // Every old entry goes first: portmap v2's UNSET removes TCP and UDP
        // together, and SET does not overwrite.
        for w in &wanted {
            unset(&rpcbind, &w.entry());
        }
        let mut reg = Registration {
            rpcbind: Some(rpcbind),
            done: Vec::new(),
        };
        for w in &wanted {
            let entry = w.entry();
            let rb = reg.rpcbind.as_ref().expect("set above");
            let set = if w.addr.is_ipv4() {
                rb.set(w.prog, w.vers, w.proto, w.addr.port())
            } else {
                rb.rpcb_set(4, &entry).or_else(|_| rb.rpcb_set(3, &entry))
            };
            if let Ok(true) = set {
                reg.done.push((entry, w.addr));
            }
        }
        Ok(reg)
    }

    /// Removes the registrations that still name this service's addresses
    /// (dropping does the same); one another server has taken over since
    /// is left alone.
    pub fn withdraw(&mut self) {
        let done = std::mem::take(&mut self.done);
        let Some(rpcbind) = self.rpcbind.take() else {
            return;
        };
        if done.is_empty() {
            return;
        }
        let existing = registrations(&rpcbind).ok();
        for (entry, addr) in done {
            let still_ours = existing.as_ref().map_or(true, |list| {
                list.iter().any(|e| {
                    e.prog == entry.prog
                        && e.vers == entry.vers
                        && e.netid == entry.netid
                        && parse_uaddr(&e.addr).is_ok_and(|a| same_endpoint(a, addr))
                })
            });
            if still_ours {
                unset(&rpcbind, &entry);
            }
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.withdraw();
    }
}

/// Every registration `rpcbind` holds (rpcbind v4 or v3 DUMP, else
/// portmap v2 DUMP, whose TCP and UDP entries have no IP address).
fn registrations(rpcbind: &Rpcbind) -> Result<Vec<Rpcb>> {
    rpcbind
        .rpcb_dump(4)
        .or_else(|_| rpcbind.rpcb_dump(3))
        .or_else(|_| {
            Ok(rpcbind
                .dump()?
                .into_iter()
                .filter_map(|m| {
                    let netid = match m.prot {
                        IPPROTO_TCP => "tcp",
                        IPPROTO_UDP => "udp",
                        _ => return None,
                    };
                    let port = u16::try_from(m.port).ok()?;
                    Some(Rpcb {
                        prog: m.prog,
                        vers: m.vers,
                        netid: netid.into(),
                        addr: format_uaddr(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port)),
                        owner: String::new(),
                    })
                })
                .collect())
        })
}

/// The first registration `existing` holds for one of `wanted`'s program,
/// version and netid at an address none of `own` covers, whose server is
/// running.
fn first_live_conflict<'a>(
    wanted: &'a [Wanted],
    own: &[(Protocol, SocketAddr)],
    existing: &'a [Rpcb],
) -> Option<(&'a Wanted, &'a Rpcb)> {
    wanted.iter().find_map(|w| {
        let netid = netid_for(w.proto, w.addr.is_ipv6());
        existing
            .iter()
            .filter(|e| e.prog == w.prog && e.vers == w.vers && e.netid == netid)
            .find(|e| {
                let Ok(theirs) = parse_uaddr(&e.addr) else {
                    return false;
                };
                let mine = own
                    .iter()
                    .any(|&(proto, addr)| proto == w.proto && same_endpoint(theirs, addr));
                !mine && is_live(theirs, w)
            })
            .map(|e| (w, e))
    })
}

/// Whether a server holds `addr` for `w`'s protocol: a socket of this
/// machine is bound there or, when binding cannot tell (a port this
/// process may not bind), something answers a NULL call of `w`'s program
/// and version there.
fn is_live(addr: SocketAddr, w: &Wanted) -> bool {
    if let Some(bound) = is_bound(addr, w.proto == Protocol::Tcp) {
        return bound;
    }
    let target = if addr.ip().is_unspecified() {
        let lo: IpAddr = match addr {
            SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
        };
        SocketAddr::new(lo, addr.port())
    } else {
        addr
    };
    let answer = Client::connect_addr(target, w.prog, w.vers, w.proto).and_then(|c| {
        c.set_timeout(Some(PROBE_TIMEOUT))?;
        c.ping()
    });
    // An RPC-level refusal still comes from a running server.
    matches!(
        answer,
        Ok(())
            | Err(Error::ProgUnavail
                | Error::ProgMismatch { .. }
                | Error::ProcUnavail
                | Error::GarbageArgs
                | Error::SystemErr
                | Error::RpcMismatch { .. }
                | Error::Auth(_))
    )
}

/// Whether the registered address `theirs` names the endpoint `mine`: the
/// same port, and the same IP unless either is unspecified (portmap v2
/// registers only a port).
fn same_endpoint(theirs: SocketAddr, mine: SocketAddr) -> bool {
    theirs.port() == mine.port()
        && (theirs.ip() == mine.ip() || theirs.ip().is_unspecified() || mine.ip().is_unspecified())
}

/// Removes `entry`'s program, version and netid from `rpcbind`: through
/// rpcbind v4 or v3 (that netid only), else portmap v2 (TCP and UDP).
fn unset(rpcbind: &Rpcbind, entry: &Rpcb) {
    let by_netid = Rpcb {
        addr: String::new(),
        ..entry.clone()
    };
    let done = rpcbind
        .rpcb_unset(4, &by_netid)
        .or_else(|_| rpcbind.rpcb_unset(3, &by_netid));
    if done.is_err() && !entry.netid.ends_with('6') {
        let _ = rpcbind.unset(entry.prog, entry.vers);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::rpcbind::{RpcbindOptions, RpcbindServer};

    const PROG: u32 = 0x2000_0140;

    fn rpcbind() -> (RpcbindServer, Rpcbind) {
        let server = RpcbindServer::start(
            &RpcbindOptions::new()
                .listen("127.0.0.1")
                .port(0)
                .no_local_socket(),
        )
        .unwrap();
        let client = Rpcbind::with_port("127.0.0.1", server.port(), Protocol::Tcp);
        (server, client)
    }

    fn service() -> Service {
        let s = Service::new();
        s.register(PROG, 1, 1, |_, _, _| Ok(()));
        s.listen_tcp("127.0.0.1", 0).unwrap();
        s.listen_udp("127.0.0.1", 0).unwrap();
        s.start().unwrap();
        s
    }

    fn port_of(s: &Service, proto: Protocol) -> u16 {
        s.addresses()
            .into_iter()
            .find(|(p, _)| *p == proto)
            .unwrap()
            .1
            .port()
    }

    #[test]
    fn a_live_registration_is_refused_unless_replaced() {
        let (_server, rb) = rpcbind();
        let first = service();
        let _first_reg = Registration::register_with(rb.clone(), &first, false).unwrap();
        assert_eq!(
            rb.getport(PROG, 1, Protocol::Tcp).unwrap(),
            port_of(&first, Protocol::Tcp)
        );

        let second = service();
        let err = Registration::register_with(rb.clone(), &second, false).unwrap_err();
        let tcp = port_of(&first, Protocol::Tcp);
        let Error::Exists(message) = &err else {
            panic!("{err:?}")
        };
        assert!(
            message.contains(&format!("program {PROG} ({PROG:#x}) version 1 "))
                && message.contains(&format!(".{}.{} (tcp)", tcp >> 8, tcp & 255)),
            "{message}"
        );
        // Refused: the first server's registrations are untouched.
        assert_eq!(rb.getport(PROG, 1, Protocol::Tcp).unwrap(), tcp);
        assert_eq!(
            rb.getport(PROG, 1, Protocol::Udp).unwrap(),
            port_of(&first, Protocol::Udp)
        );

        let mut second_reg = Registration::register_with(rb.clone(), &second, true).unwrap();
        assert_eq!(
            rb.getport(PROG, 1, Protocol::Tcp).unwrap(),
            port_of(&second, Protocol::Tcp)
        );
        assert_eq!(
            rb.getport(PROG, 1, Protocol::Udp).unwrap(),
            port_of(&second, Protocol::Udp)
        );
        // The first server stops: it removes nothing, the entries are not its own.
        drop(_first_reg);
        first.stop();
        assert_eq!(
            rb.getport(PROG, 1, Protocol::Tcp).unwrap(),
            port_of(&second, Protocol::Tcp)
        );
        second_reg.withdraw();
        assert_eq!(rb.getport(PROG, 1, Protocol::Tcp).unwrap(), 0);
        assert_eq!(rb.getport(PROG, 1, Protocol::Udp).unwrap(), 0);
        second.stop();
    }

    #[test]
    fn a_dead_registration_is_replaced() {
        let (_server, rb) = rpcbind();
        let gone = service();
        let mut stale = Registration::register_with(rb.clone(), &gone, false).unwrap();
        let gone_port = port_of(&gone, Protocol::Tcp);
        gone.stop();
        // Killed: its registration outlives it.
        stale.done.clear();
        drop(stale);
        assert_eq!(rb.getport(PROG, 1, Protocol::Tcp).unwrap(), gone_port);

        let next = service();
        let _reg = Registration::register_with(rb.clone(), &next, false).unwrap();
        assert_eq!(
            rb.getport(PROG, 1, Protocol::Tcp).unwrap(),
            port_of(&next, Protocol::Tcp)
        );
        next.stop();
    }

    #[test]
    fn endpoints_match_by_port_and_a_wildcard_ip() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert!(same_endpoint(a("0.0.0.0:700"), a("127.0.0.1:700")));
        assert!(same_endpoint(a("127.0.0.1:700"), a("127.0.0.1:700")));
        assert!(!same_endpoint(a("127.0.0.1:700"), a("127.0.0.1:701")));
        assert!(!same_endpoint(a("10.0.0.1:700"), a("127.0.0.1:700")));
    }
}
