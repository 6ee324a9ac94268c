//! The demo's Rust client of the calc.x service: it asks rpcbind where the
//! service listens (rpcbind GETADDR), then calls it through the stubs
//! `xipc gen --lang rust` wrote into `calc.rs` beside this file.
//!
//!     calc_client 127.0.0.1 RPCBIND_PORT

mod calc {
    include!("calc.rs");
}

use calc::*;
use xipc::rpc::rpcbind::{self, Rpcbind};
use xipc::rpc::Protocol;

fn main() -> xipc::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (host, rpcbind_port) = match args.as_slice() {
        [_, host, port] => (host.as_str(), port.parse().expect("RPCBIND_PORT is a port number")),
        _ => {
            eprintln!("usage: calc_client HOST RPCBIND_PORT");
            std::process::exit(2);
        }
    };
    let directory = Rpcbind::with_port(host, rpcbind_port, Protocol::Tcp);
    let Some(uaddr) = directory.getaddr(CALC_PROG, CALC_VERS, "tcp")? else {
        return Err(xipc::Error::NotFound("calc is not registered with rpcbind".into()));
    };
    let port = rpcbind::parse_uaddr(&uaddr)?.port();
    let calc = CALC_VERS_Client::connect(host, port, Protocol::Tcp)?;
    let sum = calc.calc_add(&calc_pair { a: 20, b: 22 })?;
    let summary = match calc.calc_summarize(&vec![1.0, 2.0, 6.0])? {
        calc_result::CALC_OK(s) => format!("mean {}, max {}", s.mean, s.max),
        other => format!("{other:?}"),
    };
    let greeting = calc.calc_greet(&"Rust client".to_string())?;
    println!(
        "Rust client: rpcbind says {uaddr} (port {port}); add(20, 22) = {sum}; \
         summarize(1, 2, 6) = {summary}; greet -> \"{greeting}\""
    );
    Ok(())
}
