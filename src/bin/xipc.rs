//! The `xipc` command-line tool.

use clap::{Parser, Subcommand};

/// xipc: Unix IPC with XDR for C, Python and Rust.
#[derive(Parser)]
#[command(name = "xipc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an embedded rpcbind (portmap v2, rpcbind v3/v4) directory server.
    Rpcbind {
        /// TCP and UDP port to serve on.
        #[arg(long, default_value_t = xipc::rpc::rpcbind::PORT)]
        port: u16,
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Rpcbind { port } => xipc::rpc::rpcbind::run_server(port),
    };
    if let Err(err) = result {
        eprintln!("xipc: {err}");
        std::process::exit(1);
    }
}
