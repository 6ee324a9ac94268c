//! A small ONC RPC service (ADD two ints, ECHO bytes) and its client, the
//! same as server.py/client.py and server.c/client.c. The server registers
//! with rpcbind on this machine when one runs (`xipc rpcbind` is one) and
//! unregisters when SIGTERM or SIGINT stops it; the client finds it there
//! unless given a port.
//!
//! ```sh
//! cargo run --example rpc -- server
//! cargo run --example rpc -- client [HOST] [tcp|udp] [PORT]
//! ```

use std::time::Duration;

use nix::sys::signal::{SigSet, Signal};
use xipc::rpc::{AuthSys, CallInfo, Client, Credential, Protocol, Server};
use xipc::xdr::{Decoder, Encoder};
use xipc::Error;

const PROG: u32 = 0x2000_5A5A;
const VERS: u32 = 1;

fn add(_call: &CallInfo, args: &[u8], out: &mut Encoder) -> xipc::Result<()> {
    let mut dec = Decoder::new(args);
    let (a, b) = (dec.get_int()?, dec.get_int()?);
    dec.finish()?;
    out.put_int(a.wrapping_add(b));
    Ok(())
}

fn echo(call: &CallInfo, args: &[u8], out: &mut Encoder) -> xipc::Result<()> {
    let mut dec = Decoder::new(args);
    let data = dec.get_opaque(None)?;
    dec.finish()?;
    let who = match &call.cred {
        Credential::Sys(sys) => sys.machine_name.as_str(),
        _ => "anonymous",
    };
    println!(
        "ECHO of {} bytes from {who} (xid {:#x})",
        data.len(),
        call.xid
    );
    out.put_opaque(data) // opaque<> in, the same opaque<> out
}

fn serve() -> xipc::Result<()> {
    // Blocked before the server's threads start, so they inherit the mask
    // and the signals wait for `stop.wait()` below.
    let mut stop = SigSet::empty();
    stop.add(Signal::SIGTERM);
    stop.add(Signal::SIGINT);
    stop.thread_block().expect("block SIGTERM and SIGINT");
    let server = Server::new();
    server.register(PROG, VERS, 1, add);
    server.register(PROG, VERS, 2, echo);
    let tcp = server.listen_tcp("0.0.0.0", 0)?;
    let udp = server.listen_udp("0.0.0.0", 0)?;
    server.start()?; // registers with rpcbind
    println!("TCP port {tcp} UDP port {udp}");
    stop.wait().expect("wait for SIGTERM or SIGINT");
    server.stop(); // unregisters, lets calls in progress finish
    Ok(())
}

fn call(host: &str, proto: &str, port: Option<u16>) -> xipc::Result<()> {
    let proto = Protocol::parse(proto)?;
    let client = match port {
        Some(port) => Client::connect(host, port, PROG, VERS, proto)?,
        None => Client::lookup(host, PROG, VERS, proto)?,
    };
    client.set_timeout(Some(Duration::from_secs(5)))?;
    client.set_credential(&Credential::Sys(AuthSys::current()))?;
    client.ping()?;

    let mut args = Encoder::new();
    args.put_int(40);
    args.put_int(2);
    let reply = client.call(1, args.as_bytes())?;
    let mut dec = Decoder::new(&reply);
    println!("40 + 2 = {}", dec.get_int()?);
    dec.finish()?;

    let mut args = Encoder::new();
    args.put_opaque(b"hello, ONC RPC")?;
    let reply = client.call(2, args.as_bytes())?;
    let mut dec = Decoder::new(&reply);
    println!("echo: {}", String::from_utf8_lossy(dec.get_opaque(None)?));
    dec.finish()?;

    match client.call(9, &[]) {
        Err(Error::ProcUnavail) => println!("procedure 9: unavailable (PROC_UNAVAIL)"),
        other => println!("procedure 9: unexpected {other:?}"),
    }
    Ok(())
}

fn main() -> xipc::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("server") => serve(),
        Some("client") => {
            let host = args.get(1).map_or("127.0.0.1", String::as_str);
            let proto = args.get(2).map_or("tcp", String::as_str);
            let port = args.get(3).map(|p| p.parse().expect("a port number"));
            call(host, proto, port)
        }
        _ => {
            eprintln!("usage: rpc server | rpc client [HOST] [tcp|udp] [PORT]");
            std::process::exit(2);
        }
    }
}
