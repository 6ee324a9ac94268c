//! rpcbind and the portmapper (RFC 1833): the protocol's records, a client
//! for set, unset, getport, getaddr, dump and forwarding, an embedded
//! directory server (`xipc rpcbind`, [`RpcbindServer`](crate::rpc::rpcbind::RpcbindServer)) speaking portmap v2
//! and rpcbind v3/v4 on program 100000, and the registration of a service
//! while it runs.
//!
//! The RPC runtime (client and service) knows nothing of rpcbind: lookups
//! by program number ([`Client::lookup`](crate::rpc::Client::lookup)) and
//! registration ([`crate::rpc::Server`]) are built here, on top of it.

mod client;
mod embedded;
mod options;
mod prot;
mod register;
mod server;

pub use client::{lookup, Rpcbind};
pub use embedded::{run_server, serve_on, serve_with_limit, serve_with_options, RpcbindServer};
pub use options::{RpcbindOptions, DEFAULT_MAX_REGISTRATIONS};
pub use prot::{
    format_uaddr, netid_for, parse_uaddr, proc, taddr_to_uaddr, uaddr_to_taddr, AddrStat, Mapping,
    RmtCallStat, Rpcb, RpcbEntry, RpcbStat, IPPROTO_TCP, IPPROTO_UDP, LOCAL_SOCKET, PORT, PROGRAM,
};
pub use register::Registration;
pub use server::{serve_directory, UDP_REPLY_FACTOR};
