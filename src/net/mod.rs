//! The transport layer every stream, RPC client and RPC server sits on:
//! name resolution, listeners, connections, deadlines, readiness and the
//! system calls that read and write. One place for each: a second binder,
//! resolver or timeout type elsewhere is a bug.
//!
//! - [`resolve`](crate::net::resolve): host names and addresses to socket addresses.
//! - [`Deadline`](crate::net::Deadline): when an operation must end; every timeout becomes one.
//! - [`listen_tcp`](crate::net::listen_tcp), [`listen_udp`](crate::net::listen_udp), [`listen_unix`](crate::net::listen_unix): the one binder
//!   (backlog `SOMAXCONN`, Unix sockets with an exact mode, a stale socket
//!   file replaced only when nothing listens on it).
//! - [`connect_tcp`](crate::net::connect_tcp), [`connect_unix`](crate::net::connect_unix): connections bounded by a deadline.
//! - `sys`: each system call turned into a `Result` in one place (reads,
//!   vectored writes with `MSG_NOSIGNAL`, pipe writes that never raise
//!   SIGPIPE, waiting for readiness).
//! - `poll`: the readiness set (epoll) the RPC server's event loop waits on.
//! - `spin`: polling a socket for a few microseconds before sleeping on it,
//!   where a CPU is free for it (a wake-up across CPUs costs more than a
//!   small call).
//! - [`TlsConfig`](crate::net::TlsConfig): TLS as a property of a connection (rustls, TLS 1.3):
//!   policy, CA bundle, certificate and key, and [`TlsPeer`](crate::net::TlsPeer), what a peer's
//!   certificate says.

mod addr;
mod connect;
mod listen;
pub(crate) mod poll;
pub(crate) mod spin;
pub(crate) mod sys;
mod time;
mod tls;

pub use addr::{resolve, resolve_one};
pub(crate) use connect::connect_addr;
pub use connect::{connect_tcp, connect_unix};
pub(crate) use listen::{is_bound, local_addr};
pub use listen::{listen_tcp, listen_udp, listen_unix, UnixSocketFile};
pub use time::Deadline;
pub(crate) use tls::{seal_in_turn, ServerTls, SocketIo, SocketNow};
pub use tls::{Pem, TlsConfig, TlsOptions, TlsPeer, TlsPolicy, ALPN};
