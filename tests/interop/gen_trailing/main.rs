// The generated Rust TRAIL client and server for gen_trailing.sh:
//   gen-trailing server lenient|strict   prints its TCP port, then serves
//   gen-trailing client lenient|strict PORT   prints ADD(3, 4) or `error: ...`
mod trailing {
    include!(concat!(env!("TRAILING_RS")));
}
use std::sync::Arc;
use trailing::*;
use xipc::rpc::{CallInfo, Protocol, Server};

struct Trail;

impl TRAIL_V1_Server for Trail {
    fn add(&self, _call: &CallInfo, arg1: pair) -> xipc::Result<i32> {
        Ok(arg1.a + arg1.b)
    }
}

fn main() -> xipc::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let strict = args.get(2).map(String::as_str) == Some("strict");
    if args.get(1).map(String::as_str) == Some("server") {
        let server = Server::new();
        TRAIL_V1_register_with(&server, Arc::new(Trail), strict);
        println!("{}", server.listen_tcp("127.0.0.1", 0)?);
        return server.serve_forever();
    }
    let port: u16 = args.get(3).and_then(|p| p.parse().ok()).unwrap_or(0);
    let client = TRAIL_V1_Client::connect("127.0.0.1", port, Protocol::Tcp)?.with_strict(strict);
    match client.add(&pair { a: 3, b: 4 }) {
        Ok(sum) => println!("{sum}"),
        Err(e) => println!("error: {}", xipc::Error::describe_code(e.code())),
    }
    Ok(())
}
