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

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
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

/// The one table of exit statuses, shown by every command's `--help`.
const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  success
  1  the operation failed (the reason on stderr)
  2  usage error: bad option or value, unknown type
  3  timed out: nothing arrived in time
  4  not found: no such queue, file or host; program or version not registered or not served";

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
    ///
    /// Serves until SIGTERM or SIGINT. Once it serves, it prints one line per
    /// listener to stdout: the netid, the address and the port, separated by
    /// one space ("tcp 0.0.0.0 111", "udp6 ::1 111"), then "local PATH" for
    /// the Unix socket (by default on port 111 only), so that a script can give --port 0
    /// and read the port.
    ///
    /// Like rpcbind since 1.2.5 it forwards calls (CALLIT, BCAST, INDIRECT)
    /// only for callers on this machine unless --remote-calls is given
    /// (others get PROC_UNAVAIL), and accepts SET and UNSET only from this
    /// machine (others get FALSE). Over UDP a caller on
    /// another machine gets no reply larger than twice its call: a DUMP,
    /// GETADDRLIST or GETSTAT that does not fit answers SYSTEM_ERR (ask
    /// over TCP).
    Rpcbind(rpc::RpcbindServeArgs),
    /// POSIX message queues: list, inspect, send, receive, remove.
    #[command(subcommand)]
    Mq(mq::MqCommand),
    /// ONC RPC: ping a program, list what rpcbind has registered.
    #[command(subcommand)]
    Rpc(rpc::RpcCommand),
    /// XDR bytes of a type from a .x file, as JSON and back.
    #[command(subcommand)]
    Xdr(xdr::XdrCommand),
}

/// The command line's definition, with the exit-status table at the end
/// of every command's and subcommand's help.
fn command() -> clap::Command {
    fn with_table(cmd: clap::Command) -> clap::Command {
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect();
        names
            .into_iter()
            .fold(cmd.after_help(EXIT_STATUS_HELP), |cmd, name| {
                cmd.mut_subcommand(name, with_table)
            })
    }
    with_table(Cli::command())
}

fn main() -> ExitCode {
    let cli = match Cli::from_arg_matches(&command().get_matches()) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    let result = match cli.command {
        Command::Gen(args) => return ExitCode::from(xipc::idl::cli::run(args).clamp(0, 255) as u8),
        Command::Rpcbind(args) => match xipc::rpc::rpcbind::run_server(&args.options()) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Every command and subcommand, with its path ("xipc mq send").
    fn all_commands(cmd: &clap::Command, path: String, out: &mut Vec<(String, clap::Command)>) {
        out.push((path.clone(), cmd.clone()));
        for sub in cmd.get_subcommands() {
            all_commands(sub, format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_command_shows_the_exit_status_table() {
        let mut commands = Vec::new();
        all_commands(&command(), "xipc".into(), &mut commands);
        assert!(
            commands.len() > 10,
            "the walk found only {}",
            commands.len()
        );
        for (path, cmd) in &mut commands {
            let help = cmd.render_long_help().to_string();
            let help = help.trim_end();
            assert!(
                help.ends_with(EXIT_STATUS_HELP),
                "{path} --help lacks the exit-status table:\n{help}"
            );
        }
    }

    /// A short option means one thing in every command: the same long
    /// option (or, for options without one, the same argument).
    #[test]
    fn one_meaning_per_short_option() {
        let mut commands = Vec::new();
        all_commands(&command(), "xipc".into(), &mut commands);
        let mut meaning: BTreeMap<char, (String, String)> = BTreeMap::new();
        for (path, cmd) in &commands {
            for arg in cmd.get_arguments() {
                let Some(short) = arg.get_short() else {
                    continue;
                };
                let what = arg
                    .get_long()
                    .map_or_else(|| arg.get_id().to_string(), str::to_string);
                // "where the output goes": a file for `xdr encode`, a
                // directory for `gen`.
                let what = if what == "out-dir" {
                    "output".into()
                } else {
                    what
                };
                let (first_path, first) = meaning
                    .entry(short)
                    .or_insert_with(|| (path.clone(), what.clone()));
                assert_eq!(
                    *first, what,
                    "-{short} is --{first} in `{first_path}` but --{what} in `{path}`"
                );
            }
        }
        assert!(meaning.contains_key(&'p') && meaning.contains_key(&'t'));
    }
}
