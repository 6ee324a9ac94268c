//! A Unix-socket server that tells each client who it is (from the kernel's
//! peer credentials), and its client.
//!   cargo run --example unix -- server /tmp/demo.sock
//!   cargo run --example unix -- client /tmp/demo.sock

use std::time::Duration;

use xipc::stream;

fn main() -> xipc::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match (args.first().map(String::as_str), args.get(1)) {
        (Some("server"), Some(path)) => {
            // Mode 0600: only this user may connect. A stale socket file is replaced.
            let listener = stream::unix_listen(path, 0o600)?;
            println!("listening on {path}");
            loop {
                let conn = listener.accept(None)?;
                let who = conn.peer_credentials()?;
                let reply = format!("hello pid {} (uid {}, gid {})", who.pid, who.uid, who.gid);
                conn.send(reply.as_bytes())?;
            }
        }
        (Some("client"), Some(path)) => {
            let conn = stream::unix_connect(path, Some(Duration::from_secs(5)))?;
            let reply = conn.receive()?.unwrap_or_default();
            println!("{}", String::from_utf8_lossy(&reply));
            Ok(())
        }
        _ => {
            eprintln!("usage: unix server PATH | unix client PATH");
            Ok(())
        }
    }
}
