//! The `xipc` command-line tool.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// xipc: Unix IPC with XDR for C, Python and Rust.
#[derive(Parser)]
#[command(name = "xipc", version, about)]
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Gen(args) => xipc::idl::cli::run(args),
        Command::Rpcbind { port } => match xipc::rpc::rpcbind::run_server(port) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("xipc: {err}");
                ExitCode::FAILURE
            }
        },
    }
}
