//! The `xipc` command-line tool: look inside POSIX message queues, ping and
//! list ONC RPC services, turn XDR bytes into JSON and back, generate code
//! from `.x` files and run an embedded rpcbind.
//!
//! Exit statuses (see [`status`]): 0 success, 1 the operation failed,
//! 2 usage error, 3 timed out (nothing arrived in time), 4 not found (no
//! such queue, program not registered or not served).

mod fail;
mod io;
mod json;
mod mq;
mod rpc;
mod xdr;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

use fail::Failure;

/// The exit statuses scripts can rely on.
pub mod status {
    /// The command did what was asked.
    pub const OK: u8 = 0;
    /// The operation failed (OS error, malformed data, RPC error, ...).
    pub const FAILED: u8 = 1;
    /// The command line is wrong (unknown option, bad value, unknown type).
    pub const USAGE: u8 = 2;
    /// Nothing arrived in time: `mq recv --timeout`, a full queue on
    /// `mq send --timeout`, an RPC call without an answer.
    pub const TIMED_OUT: u8 = 3;
    /// The object does not exist: no such queue, host, or program and
    /// version registered or served.
    pub const NOT_FOUND: u8 = 4;
}

const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  success
  1  the operation failed (error on stderr)
  2  usage error: bad option or value, unknown type
  3  timed out: nothing arrived in time
  4  not found: no such queue, host, or program/version";

/// xipc: Unix IPC with XDR for C, Python and Rust.
#[derive(Parser)]
#[command(name = "xipc", version, about, after_help = EXIT_STATUS_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate C, Python or Rust types and RPC stubs from a .x file (like rpcgen).
    Gen(xipc::idl::cli::GenArgs),
    /// Run an embedded rpcbind (portmap v2, rpcbind v3/v4) directory server.
    Rpcbind {
        /// TCP and UDP port to serve on.
        #[arg(long, default_value_t = xipc::rpc::rpcbind::PORT)]
        port: u16,
    },
    /// POSIX message queues: list, inspect, send, receive, remove.
    #[command(subcommand, after_help = EXIT_STATUS_HELP)]
    Mq(mq::MqCommand),
    /// ONC RPC: ping a program, list what rpcbind has registered.
    #[command(subcommand, after_help = EXIT_STATUS_HELP)]
    Rpc(rpc::RpcCommand),
    /// XDR bytes of a type from a .x file, as JSON and back.
    #[command(subcommand, after_help = EXIT_STATUS_HELP)]
    Xdr(xdr::XdrCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Gen(args) => return ExitCode::from(xipc::idl::cli::run(args).clamp(0, 255) as u8),
        Command::Rpcbind { port } => match xipc::rpc::rpcbind::run_server(port) {
            Ok(()) => return ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("xipc: {err}");
                return ExitCode::FAILURE;
            }
        },
        Command::Mq(cmd) => mq::run(cmd),
        Command::Rpc(cmd) => rpc::run(cmd),
        Command::Xdr(cmd) => xdr::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::from(status::OK),
        Err(Failure { status, message }) => {
            eprintln!("xipc: {message}");
            ExitCode::from(status)
        }
    }
}
