//! The `xipc` command-line tool.

use clap::Parser;

/// xipc: Unix IPC with XDR for C, Python and Rust.
#[derive(Parser)]
#[command(name = "xipc", version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
