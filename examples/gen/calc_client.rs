//! A calc.x client in Rust on the stubs `xipc gen` generates. Generate them
//! next to this file, then build it as a binary of a crate depending on xipc:
//!
//!     xipc gen --lang rust -o examples/gen examples/calc.x
//!     calc_client 127.0.0.1 PORT

mod calc {
    include!("calc.rs");
}

use calc::*;
use xipc::rpc::Protocol;

fn main() -> xipc::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args.get(2).and_then(|p| p.parse().ok()).unwrap_or(0);
    let host = args.get(1).map(String::as_str).unwrap_or("127.0.0.1");
    let client = CALC_VERS_Client::connect(host, port, Protocol::Tcp)?;
    client.calc_null()?;
    println!("add: {}", client.calc_add(&calc_pair { a: 20, b: 22 })?);
    match client.calc_summarize(&vec![1.0, 2.0, 6.0])? {
        calc_result::CALC_OK(s) => println!("summary: count {} mean {} min {} max {}", s.count, s.mean, s.min, s.max),
        other => println!("summary: {other:?}"),
    }
    println!("greet: {}", client.calc_greet(&"Rust client".to_string())?);
    Ok(())
}
