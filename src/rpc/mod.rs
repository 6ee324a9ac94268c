//! ONC RPC (RFC 5531): messages, authentication, a thread-safe client, a
//! server with a duplicate-request cache, and rpcbind (RFC 1833) as client
//! and as an embedded directory server.
//!
//! Arguments and results are XDR bytes the caller encodes and decodes with
//! [`crate::xdr`] (or with stubs that `xipc gen` writes).

pub mod auth;
pub mod client;
pub mod drc;
pub mod message;
pub mod rpcbind;
pub mod server;

pub use auth::{AuthSys, Credential, OpaqueAuth};
pub use client::{Client, Protocol};
pub use server::{CallInfo, Handler, Peer, Server};
