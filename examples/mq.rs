//! Sends or receives messages on a POSIX message queue.
//!
//! ```sh
//! cargo run --example mq -- send /demo 5 hello world
//! cargo run --example mq -- recv /demo 2
//! ```

use std::time::Duration;

use xipc::mq::OpenOptions;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: mq send /name priority message... | mq recv /name count";
    let (verb, name) = match args.as_slice() {
        [verb, name, ..] => (verb.as_str(), name.as_str()),
        _ => return Err(usage.into()),
    };
    let mut options = OpenOptions::new();
    options.create(true).max_messages(10).max_message_size(1024);
    match (verb, &args[2..]) {
        ("send", [priority, messages @ ..]) => {
            let queue = options.read(false).open(name)?;
            for text in messages {
                queue.send_timeout(text.as_bytes(), priority.parse()?, Duration::from_secs(5))?;
            }
            queue.close()?;
        }
        ("recv", [count]) => {
            let queue = options.write(false).open(name)?;
            let mut buf = vec![0; queue.max_message_size()];
            for _ in 0..count.parse::<usize>()? {
                let (len, priority) = queue.receive_timeout(&mut buf, Duration::from_secs(10))?;
                println!("{priority} {}", String::from_utf8_lossy(&buf[..len]));
            }
        }
        _ => return Err(usage.into()),
    }
    Ok(())
}
