//! A parent hands the writing end of a pipe to a child process, which sends
//! framed messages back. Run: `cargo run --example pipe`.

use std::os::fd::FromRawFd;
use std::process::Command;

use xipc::stream::{self, Stream};

fn main() -> xipc::Result<()> {
    if let Some(fd) = std::env::args().nth(1) {
        // Child: the descriptor number came on the command line.
        let fd = fd.parse().expect("a descriptor number");
        // SAFETY: the parent made this descriptor inheritable for us alone.
        let writer = unsafe { Stream::from_raw_fd(fd) };
        for i in 1..=3 {
            writer.send(format!("message {i} from child {}", std::process::id()).as_bytes())?;
        }
        return Ok(());
    }
    let (reader, writer) = stream::pipe()?;
    let fd = writer.set_inheritable(true)?;
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .arg(fd.to_string())
        .spawn()
        .expect("spawn the child");
    drop(writer); // only the child writes now: its exit ends the stream
    let received = (|| {
        while let Some(msg) = reader.receive()? {
            println!("parent got: {}", String::from_utf8_lossy(&msg));
        }
        Ok(())
    })();
    child.wait().expect("child status");
    received
}
