//! ONC RPC (RFC 5531): messages, authentication, a thread-safe client, a
//! server with a duplicate-request cache, and rpcbind (RFC 1833) as client
//! and as an embedded directory server.
//!
//! Arguments and results are XDR bytes the caller encodes and decodes with
//! [`crate::xdr`] (or with stubs that `xipc gen` writes).

/// cbindgen:ignore
pub mod auth;
/// cbindgen:ignore
pub mod client;
/// cbindgen:ignore
pub mod drc;
/// cbindgen:ignore
pub mod message;
/// cbindgen:ignore
pub mod rpcbind;
/// cbindgen:ignore
pub mod server;

pub use auth::{AuthSys, Credential, OpaqueAuth};
pub use client::{Client, Protocol};
pub use server::{CallInfo, Handler, Peer, Server};
