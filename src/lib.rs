//! xipc: the classic Unix IPC mechanisms — POSIX message queues, pipes,
//! FIFOs, stream sockets and ONC RPC — carrying XDR (RFC 4506), with one
//! API for Rust and a stable C ABI that C and Python share.
//!
//! - [`xdr`]: the codec (encoder, decoder, limits, serde format).
//! - [`mq`]: POSIX message queues.
//! - [`stream`]: pipes, FIFOs, TCP and Unix stream sockets, with record marking.
//! - [`rpc`]: ONC RPC client, server and rpcbind.
//! - [`idl`]: the `.x` interface compiler behind `xipc gen`.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod error;
pub mod ffi;
pub mod idl;
pub mod mq;
pub mod rpc;
pub mod stream;
pub mod xdr;

pub use error::{Error, Result};

/// The crate's version, as in `Cargo.toml`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
