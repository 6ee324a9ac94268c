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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Gen(args) => xipc::idl::cli::run(args),
    }
}
