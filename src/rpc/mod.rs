//! ONC RPC (RFC 5531): messages, authentication, a thread-safe client, a
//! service runtime on an event loop with a duplicate-request cache, and
//! rpcbind (RFC 1833) as client, as an embedded directory server and as the
//! registry a [`Server`] registers with.
//!
//! Layers, each built only on those below it: `message`, `auth`, `drc`
//! and `protocol` (pure); `client` and `svc` (the runtime, on
//! [`crate::net`]); `rpcbind` (on the runtime); `server` (a service that
//! registers with rpcbind).
//!
//! Arguments and results are XDR bytes the caller encodes and decodes with
//! [`crate::xdr`] (or with stubs that `xipc gen` writes).
//!
//! A server with an "add" procedure and a client calling it; arguments the
//! handler cannot decode answer GARBAGE_ARGS:
//!
//! ```
//! use xipc::rpc::{Client, Protocol, Server};
//! use xipc::xdr::{Decoder, Encoder};
//!
//! const PROG: u32 = 0x2000_0101;
//! let server = Server::new();
//! server.set_rpcbind_registration(false);
//! server.register(PROG, 1, 1, |_call, args, out| {
//!     let mut d = Decoder::new(args);
//!     let (a, b) = (d.get_uint()?, d.get_uint()?);
//!     d.finish()?;
//!     out.put_uint(a + b);
//!     Ok(())
//! });
//! let port = server.listen_tcp("127.0.0.1", 0)?;
//! server.start()?;
//!
//! let client = Client::connect("127.0.0.1", port, PROG, 1, Protocol::Tcp)?;
//! let mut args = Encoder::new();
//! args.put_uint(40);
//! args.put_uint(2);
//! assert_eq!(client.call(1, args.as_bytes())?, [0, 0, 0, 42]);
//! assert!(matches!(client.call(1, &[0, 0, 0, 1]), Err(xipc::Error::GarbageArgs)));
//! client.ping()?; // the NULL procedure answers on its own
//! server.stop();
//! # Ok::<(), xipc::Error>(())
//! ```

/// cbindgen:ignore
pub mod auth;
/// cbindgen:ignore
pub mod client;
/// cbindgen:ignore
pub mod drc;
/// cbindgen:ignore
pub mod message;
/// cbindgen:ignore
pub mod protocol;
/// cbindgen:ignore
pub mod rpcbind;
/// cbindgen:ignore
pub mod server;
/// cbindgen:ignore
pub mod svc;
/// cbindgen:ignore
pub mod tls;

pub use crate::net::{Pem, TlsConfig, TlsOptions, TlsPeer, TlsPolicy};
pub use auth::{AuthSys, Credential, OpaqueAuth};
pub use client::Client;
pub use protocol::Protocol;
pub use server::Server;
pub use svc::{CallInfo, Handler, Peer, Service};
