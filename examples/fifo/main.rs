//! Messages through a FIFO between unrelated processes.
//! Run `cargo run --example fifo -- read /tmp/demo.fifo` in one terminal and
//! `cargo run --example fifo -- write /tmp/demo.fifo hello world` in another.

use xipc::stream::{self, FifoMode};

fn main() -> xipc::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("read") => {
            match stream::mkfifo(&args[1], 0o600) {
                Ok(()) | Err(xipc::Error::Exists(_)) => {}
                Err(e) => return Err(e),
            }
            let reader = stream::open_fifo(&args[1], FifoMode::Read, true)?;
            while let Some(msg) = reader.receive()? {
                println!("{}", String::from_utf8_lossy(&msg));
            }
        }
        Some("write") => {
            let writer = stream::open_fifo(&args[1], FifoMode::Write, true)?;
            for word in &args[2..] {
                writer.send(word.as_bytes())?;
            }
        }
        _ => eprintln!("usage: fifo read PATH | fifo write PATH WORDS..."),
    }
    Ok(())
}
