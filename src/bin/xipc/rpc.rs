//! `xipc rpc`: call a program's NULL procedure, list rpcbind's registrations.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand, ValueEnum};
use xipc::rpc::rpcbind::{self, Rpcbind};
use xipc::rpc::{Client, Pem, Protocol, TlsConfig, TlsOptions, TlsPolicy};

use crate::fail::{Context, Failure, Outcome};
use crate::io;

/// The program-name database (`rpc(5)`).
const RPC_DB: &str = "/etc/rpc";

#[derive(Subcommand)]
pub enum RpcCommand {
    /// Call procedure 0 (NULL) of a program version, as `rpcinfo -t/-u` does.
    ///
    /// The program's port is looked up through rpcbind on HOST unless --port
    /// gives it. Prints "program P version V ready and waiting" and exits 0
    /// when the server answers; exits 4 when the program or version is not
    /// registered or not served, 3 when no answer comes in time.
    Ping(PingArgs),
    /// List what rpcbind on HOST has registered, as `rpcinfo -p` does:
    /// program, version, protocol, port and service name (from /etc/rpc).
    Dump(DumpArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Proto {
    Tcp,
    Udp,
}

impl From<Proto> for Protocol {
    fn from(p: Proto) -> Protocol {
        match p {
            Proto::Tcp => Protocol::Tcp,
            Proto::Udp => Protocol::Udp,
        }
    }
}

#[derive(Args)]
pub struct RpcbindArgs {
    /// The port rpcbind listens on.
    #[arg(long, value_name = "PORT", default_value_t = rpcbind::PORT)]
    rpcbind_port: u16,
    /// Give up on an answer after this many seconds.
    #[arg(long, short = 't', value_name = "SECONDS", default_value = "10", value_parser = io::parse_seconds)]
    timeout: Duration,
}

/// RPC-with-TLS (RFC 9289) options.
#[derive(Args)]
pub struct TlsArgs {
    /// Talk RPC-with-TLS: the AUTH_TLS probe, STARTTLS, then TLS 1.3; no
    /// call goes out in the clear.
    #[arg(long, requires = "ca")]
    tls: bool,
    /// The CA bundle (PEM) the server's certificate must chain to.
    #[arg(long, value_name = "FILE", requires = "tls")]
    ca: Option<std::path::PathBuf>,
    /// This client's certificate chain (PEM), for servers that demand one
    /// (mtls).
    #[arg(long, value_name = "FILE", requires_all = ["tls", "key"])]
    cert: Option<std::path::PathBuf>,
    /// The private key (PEM) of --cert.
    #[arg(long, value_name = "FILE", requires_all = ["tls", "cert"])]
    key: Option<std::path::PathBuf>,
    /// The name the server's certificate must carry, when it is not HOST.
    #[arg(long, value_name = "NAME", requires = "tls")]
    server_name: Option<String>,
    /// Revocation lists (PEM) of the CAs in --ca: a server whose
    /// certificate one of them lists is refused.
    #[arg(long, value_name = "FILE", requires = "tls")]
    crl: Option<std::path::PathBuf>,
}

impl TlsArgs {
    /// The configuration the options ask for; `None` without --tls.
    fn config(&self) -> Outcome<Option<TlsConfig>> {
        if !self.tls {
            return Ok(None);
        }
        let (policy, cert, key) = match (&self.cert, &self.key) {
            (Some(c), Some(k)) => (
                TlsPolicy::Mtls,
                Some(Pem::File(c.clone())),
                Some(Pem::File(k.clone())),
            ),
            _ => (TlsPolicy::Tls, None, None),
        };
        let config = TlsConfig::new(TlsOptions {
            policy,
            ca: self.ca.clone().map(Pem::File),
            cert,
            key,
            server_name: self.server_name.clone(),
            crl: self.crl.clone().map(Pem::File),
        })
        .context("--tls")?;
        Ok(Some(config))
    }
}

/// `xipc rpcbind`'s options.
#[derive(Args)]
pub struct RpcbindServeArgs {
    /// TCP and UDP port to serve on (0: one the system picks; the lines
    /// printed say which).
    #[arg(long, value_name = "PORT", default_value_t = rpcbind::PORT)]
    port: u16,
    /// Listen on ADDR, a host name or an IP address, instead of every IPv4
    /// interface and IPv6 loopback (the default); repeat it for more.
    /// Loopback is always added, so that this machine's servers can
    /// register.
    #[arg(long, value_name = "ADDR")]
    listen: Vec<String>,
    /// Forward CALLIT, BCAST and INDIRECT for callers on other machines too
    /// (off by default: a forged datagram could make rpcbind call a service
    /// for a third party).
    #[arg(long)]
    remote_calls: bool,
    /// The most registrations held, rpcbind's own included.
    #[arg(long, value_name = "N", default_value_t = rpcbind::DEFAULT_MAX_REGISTRATIONS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    max_registrations: usize,
    /// Serve on the Unix socket PATH too, where this machine's servers
    /// register with their uid checked, or "off" for none (default: the
    /// system rpcbind's socket on port 111 only). A socket file left by a
    /// server that is gone is replaced; any other file there fails the
    /// start.
    #[arg(long, value_name = "PATH|off")]
    local_socket: Option<String>,
}

impl RpcbindServeArgs {
    /// The server's configuration.
    pub fn options(&self) -> rpcbind::RpcbindOptions {
        let options = rpcbind::RpcbindOptions::new()
            .port(self.port)
            .remote_calls(self.remote_calls)
            .max_registrations(self.max_registrations);
        let options = match self.local_socket.as_deref() {
            None => options,
            Some("off") => options.no_local_socket(),
            Some(path) => options.local_socket(path),
        };
        self.listen
            .iter()
            .fold(options, |options, address| options.listen(address))
    }
}

#[derive(Args)]
pub struct PingArgs {
    /// The server's host name or address.
    host: String,
    /// Program number, or its name from /etc/rpc (e.g. "portmapper").
    prog: String,
    /// Version number.
    vers: u32,
    /// Transport.
    #[arg(long, value_enum, default_value = "tcp")]
    proto: Proto,
    /// Call this port directly instead of asking rpcbind.
    #[arg(long, value_name = "PORT")]
    port: Option<u16>,
    #[command(flatten)]
    rpcbind: RpcbindArgs,
    #[command(flatten)]
    tls: TlsArgs,
}

#[derive(Args)]
pub struct DumpArgs {
    /// The host whose rpcbind to ask.
    #[arg(default_value = "localhost")]
    host: String,
    #[command(flatten)]
    rpcbind: RpcbindArgs,
    /// Print a JSON array instead of the `rpcinfo -p` table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    tls: TlsArgs,
}

pub fn run(cmd: RpcCommand) -> Outcome {
    match cmd {
        RpcCommand::Ping(a) => ping(a),
        RpcCommand::Dump(a) => dump(a),
    }
}

/// One line of /etc/rpc: "name number alias... # comment".
fn parse_rpc_db(text: &str) -> Vec<(String, u32)> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let name = words.next()?;
            let number = words.next()?.parse().ok()?;
            let aliases = words.map(move |a| (a.to_string(), number));
            Some(std::iter::once((name.to_string(), number)).chain(aliases))
        })
        .flatten()
        .collect()
}

fn rpc_db() -> Vec<(String, u32)> {
    std::fs::read_to_string(RPC_DB)
        .map(|t| parse_rpc_db(&t))
        .unwrap_or_default()
}

/// The service name of a program number (its first name in /etc/rpc).
fn service_name(db: &[(String, u32)], prog: u32) -> Option<&str> {
    db.iter()
        .find(|(_, n)| *n == prog)
        .map(|(name, _)| name.as_str())
}

/// A program number, written as a number or a name from /etc/rpc.
fn program_number(text: &str) -> Outcome<u32> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        if let Ok(n) = u32::from_str_radix(hex, 16) {
            return Ok(n);
        }
    }
    if let Ok(n) = text.parse() {
        return Ok(n);
    }
    rpc_db()
        .into_iter()
        .find(|(name, _)| name == text)
        .map(|(_, n)| n)
        .ok_or_else(|| {
            Failure::usage(format!(
                "{text:?} is neither a program number nor a name in {RPC_DB}"
            ))
        })
}

/// One address of `host` (its first IPv4 address when it has one), as the
/// library resolves hosts.
fn resolve(host: &str, port: u16) -> Outcome<SocketAddr> {
    Ok(xipc::net::resolve_one(host, port)?)
}

fn rpcbind_client(host: &str, args: &RpcbindArgs) -> Rpcbind {
    let mut rb = Rpcbind::with_port(host, args.rpcbind_port, Protocol::Tcp);
    rb.set_timeout(Some(args.timeout));
    rb
}

/// Where `prog`/`vers` listens, as rpcbind on `host` tells.
fn look_up(args: &PingArgs, prog: u32) -> Outcome<SocketAddr> {
    let proto = Protocol::from(args.proto);
    let rb = rpcbind_client(&args.host, &args.rpcbind);
    let uaddr = rb
        .getaddr(prog, args.vers, proto.netid())
        .context(format_args!(
            "cannot ask rpcbind on {}:{}",
            args.host, args.rpcbind.rpcbind_port
        ))?
        .ok_or_else(|| {
            Failure::not_found(format!(
                "program {prog} version {} is not registered with rpcbind on {} ({})",
                args.vers,
                args.host,
                proto.netid()
            ))
        })?;
    let mut addr =
        rpcbind::parse_uaddr(&uaddr).context(format_args!("rpcbind on {} answered", args.host))?;
    if addr.ip().is_unspecified() {
        addr.set_ip(resolve(&args.host, addr.port())?.ip());
    }
    Ok(addr)
}

fn ping(args: PingArgs) -> Outcome {
    let prog = program_number(&args.prog)?;
    // Bad TLS options are said before anything goes out.
    let tls = args.tls.config()?;
    let addr = match args.port {
        Some(port) => resolve(&args.host, port)?,
        None => look_up(&args, prog)?,
    };
    let proto = Protocol::from(args.proto);
    let started = Instant::now();
    let client = match &tls {
        Some(tls) => Client::connect_addr_tls(addr, &args.host, prog, args.vers, proto, tls),
        None => Client::connect_addr(addr, prog, args.vers, proto),
    }
    .context(format_args!("cannot reach {addr} ({})", proto.netid()))?;
    client
        .set_timeout(Some(args.rpcbind.timeout))
        .context("--timeout")?;
    client.ping().map_err(|e| {
        let what = format!(
            "program {prog} version {} at {addr} ({})",
            args.vers,
            proto.netid()
        );
        match e {
            xipc::Error::TimedOut(_) => Failure {
                status: crate::status::TIMED_OUT,
                message: format!("{what}: no answer in {:?}", args.rpcbind.timeout),
            },
            e => Failure::from(e).context(what),
        }
    })?;
    let elapsed = started.elapsed();
    let text = format!(
        "program {prog} version {} ready and waiting ({}{} {addr}, {:.3} ms)\n",
        args.vers,
        proto.netid(),
        if tls.is_some() { " with TLS" } else { "" },
        elapsed.as_secs_f64() * 1e3
    );
    io::write_output(None, text.as_bytes())
}

/// The `rpcinfo -p` table of `mappings`.
fn format_dump(mappings: &[rpcbind::Mapping], db: &[(String, u32)]) -> String {
    if mappings.is_empty() {
        return "No remote programs registered.\n".to_string();
    }
    let mut out = String::from("   program vers proto   port  service\n");
    for m in mappings {
        let proto = match m.prot {
            rpcbind::IPPROTO_TCP => "tcp".to_string(),
            rpcbind::IPPROTO_UDP => "udp".to_string(),
            other => other.to_string(),
        };
        out += &format!("{:>10}{:>5}{:>6}{:>7}", m.prog, m.vers, proto, m.port);
        if let Some(name) = service_name(db, m.prog) {
            out += "  ";
            out += name;
        }
        out.push('\n');
    }
    out
}

fn dump(args: DumpArgs) -> Outcome {
    let mut rb = rpcbind_client(&args.host, &args.rpcbind);
    rb.set_tls(args.tls.config()?);
    let mappings = rb.dump().context(format_args!(
        "cannot ask rpcbind on {}:{}",
        args.host, args.rpcbind.rpcbind_port
    ))?;
    let db = rpc_db();
    if args.json {
        let all = mappings
            .iter()
            .map(|m| {
                serde_json::json!({
                    "program": m.prog,
                    "version": m.vers,
                    "protocol": match m.prot {
                        rpcbind::IPPROTO_TCP => "tcp".to_string(),
                        rpcbind::IPPROTO_UDP => "udp".to_string(),
                        other => other.to_string(),
                    },
                    "port": m.port,
                    "service": service_name(&db, m.prog),
                })
            })
            .collect();
        return io::print_json(&serde_json::Value::Array(all));
    }
    io::write_output(None, format_dump(&mappings, &db).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_db_lines() {
        let db = parse_rpc_db(
            "# comment\nportmapper\t100000\tportmap sunrpc rpcbind\n\nnfs 100003 nfsprog # x\nbad line\n",
        );
        assert_eq!(service_name(&db, 100000), Some("portmapper"));
        assert_eq!(service_name(&db, 100003), Some("nfs"));
        assert_eq!(
            db.iter().filter(|(_, n)| *n == 100000).count(),
            4,
            "name and three aliases"
        );
        assert_eq!(service_name(&db, 7), None);
    }

    #[test]
    fn dump_table_matches_rpcinfo_columns() {
        let db = vec![("portmapper".to_string(), 100000)];
        let maps = [
            rpcbind::Mapping {
                prog: 100000,
                vers: 4,
                prot: rpcbind::IPPROTO_TCP,
                port: 111,
            },
            rpcbind::Mapping {
                prog: 536870913,
                vers: 1,
                prot: rpcbind::IPPROTO_UDP,
                port: 40123,
            },
        ];
        assert_eq!(
            format_dump(&maps, &db),
            "   program vers proto   port  service\n    100000    4   tcp    111  portmapper\n 536870913    1   udp  40123\n"
        );
        assert_eq!(format_dump(&[], &db), "No remote programs registered.\n");
    }
}
