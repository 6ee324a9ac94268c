//! An upper-casing echo server over TCP, and its client.
//!   cargo run --example tcp -- server 7000
//!   cargo run --example tcp -- client localhost 7000 hello world

use std::time::Duration;

use xipc::stream;

fn main() -> xipc::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("server") => {
            let port = args.get(1).map_or(0, |p| p.parse().expect("a port"));
            let listener = stream::tcp_listen("::", port)?;
            println!("listening on port {}", listener.port().unwrap_or(0));
            loop {
                let conn = listener.accept(None)?;
                while let Some(msg) = conn.receive()? {
                    conn.send(&msg.to_ascii_uppercase())?;
                }
            }
        }
        Some("client") if args.len() >= 3 => {
            let port = args[2].parse().expect("a port");
            let conn = stream::tcp_connect(&args[1], port, Some(Duration::from_secs(5)))?;
            conn.set_read_timeout(Some(Duration::from_secs(5)));
            for word in &args[3..] {
                conn.send(word.as_bytes())?;
                let reply = conn.receive()?.unwrap_or_default();
                println!("{word} -> {}", String::from_utf8_lossy(&reply));
            }
            Ok(())
        }
        _ => {
            eprintln!("usage: tcp server [PORT] | tcp client HOST PORT WORDS...");
            Ok(())
        }
    }
}
