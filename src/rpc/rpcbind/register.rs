//! Making a service known to this machine's rpcbind while it runs, as
//! `svc_reg` does for libtirpc servers.

use std::net::SocketAddr;

use super::client::Rpcbind;
use super::prot::{format_uaddr, netid_for, Rpcb};
use crate::rpc::protocol::Protocol;
use crate::rpc::svc::Service;

/// The registrations made for one service; dropping it (or
/// [`withdraw`](Self::withdraw)) removes them.
#[derive(Debug, Default)]
pub struct Registration {
    /// (program, version, over IPv6) registered.
    done: Vec<(u32, u32, bool)>,
}

impl Registration {
    /// Registers every program version `service` answers on every TCP and
    /// UDP address it listens on, with the local rpcbind if one answers
    /// (none is no error: there is nothing to register with). IPv4
    /// addresses go through portmap v2 (which every rpcbind speaks), IPv6
    /// ones as "tcp6"/"udp6" through rpcbind v4 (or v3).
    pub fn register(service: &Service) -> Registration {
        let mut reg = Registration::default();
        let addrs: Vec<(Protocol, SocketAddr)> = service.addresses();
        if addrs.is_empty() {
            return reg;
        }
        let Ok(pm) = Rpcbind::local() else {
            return reg;
        };
        for (prog, vers) in service.dispatcher().versions() {
            let _ = pm.unset(prog, vers);
            for &(proto, addr) in &addrs {
                let set = if addr.is_ipv4() {
                    pm.set(prog, vers, proto, addr.port())
                } else {
                    let entry = Rpcb {
                        prog,
                        vers,
                        netid: netid_for(proto, true).into(),
                        addr: format_uaddr(addr),
                        owner: String::new(),
                    };
                    let _ = pm.rpcb_unset(4, &entry);
                    pm.rpcb_set(4, &entry).or_else(|_| pm.rpcb_set(3, &entry))
                };
                if let Ok(true) = set {
                    reg.done.push((prog, vers, addr.is_ipv6()));
                }
            }
        }
        reg.done.dedup();
        reg
    }

    /// Removes the registrations (dropping does the same).
    pub fn withdraw(&mut self) {
        let done = std::mem::take(&mut self.done);
        if done.is_empty() {
            return;
        }
        let Ok(pm) = Rpcbind::local() else {
            return;
        };
        for (prog, vers, six) in done {
            if six {
                let every = Rpcb {
                    prog,
                    vers,
                    netid: String::new(),
                    addr: String::new(),
                    owner: String::new(),
                };
                let _ = pm.rpcb_unset(4, &every);
            } else {
                let _ = pm.unset(prog, vers);
            }
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.withdraw();
    }
}
