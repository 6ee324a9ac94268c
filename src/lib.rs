//! xipc: the classic Unix IPC mechanisms — POSIX message queues, pipes,
//! FIFOs, stream sockets and ONC RPC — carrying XDR (RFC 4506), with one
//! API for Rust and a stable C ABI that C and Python share.
//!
//! - [`xdr`]: the codec (encoder, decoder, limits, serde format).
//! - [`mq`]: POSIX message queues.
//! - [`stream`]: pipes, FIFOs, TCP and Unix stream sockets, with record marking.
//! - [`rpc`]: ONC RPC client, server and rpcbind.
//! - [`net`]: the transport layer under streams and RPC (resolution,
//!   listeners, connections, deadlines).
//! - [`idl`]: the `.x` interface compiler behind `xipc gen`.
//!
//! Every fallible call returns [`Result`], whose [`Error`] has one stable
//! status code per variant (the codes C and Python see).
//!
//! An XDR message, framed on a pipe, as any of the three languages would
//! send it:
//!
//! ```
//! use xipc::xdr::{Decoder, Encoder};
//!
//! let mut msg = Encoder::new();
//! msg.put_uint(7);
//! msg.put_string("thermo-1")?;
//! msg.put_double(21.5);
//!
//! let (reader, writer) = xipc::stream::pipe()?;
//! writer.send(msg.as_bytes())?;
//! let received = reader.receive()?.expect("a message");
//!
//! let mut dec = Decoder::new(&received);
//! assert_eq!(dec.get_uint()?, 7);
//! assert_eq!(dec.get_string(Some(32))?, "thermo-1");
//! assert_eq!(dec.get_double()?, 21.5);
//! dec.finish()?; // nothing left over
//! # Ok::<(), xipc::Error>(())
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

// Generated code names the crate `::xipc`, inside it too (idl::wellknown).
extern crate self as xipc;

mod copy;
pub mod error;
pub mod ffi;
pub mod idl;
pub mod mq;
/// cbindgen:ignore
pub mod net;
pub mod rpc;
mod spare;
pub mod stream;
mod sync;
pub mod xdr;

pub use error::{Error, Result};

/// The crate's version, as in `Cargo.toml`.
///
/// ```
/// assert_eq!(xipc::VERSION.split('.').count(), 3);
/// ```
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
