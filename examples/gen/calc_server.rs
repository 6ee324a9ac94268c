//! A calc.x server in Rust on the stubs `xipc gen` generates. Generate them
//! next to this file, then build it as a binary of a crate depending on xipc:
//!
//!     xipc gen --lang rust -o examples/gen examples/calc.x
//!     calc_server [PORT]      # prints the TCP port, then serves

mod calc {
    include!("calc.rs");
}

use calc::*;
use std::sync::Arc;
use xipc::rpc::{CallInfo, Server};

struct Calc;

impl CALC_VERS_Server for Calc {
    fn calc_null(&self, _call: &CallInfo) -> xipc::Result<()> {
        Ok(())
    }

    fn calc_add(&self, _call: &CallInfo, pair: calc_pair) -> xipc::Result<i32> {
        Ok(pair.a.wrapping_add(pair.b))
    }

    fn calc_summarize(&self, _call: &CallInfo, samples: calc_samples) -> xipc::Result<calc_result> {
        if samples.is_empty() {
            return Ok(calc_result::Default(calc_status::CALC_EMPTY));
        }
        let count = samples.len();
        Ok(calc_result::CALC_OK(calc_summary {
            count: count as i32,
            mean: samples.iter().sum::<f64>() / count as f64,
            min: samples.iter().copied().fold(f64::INFINITY, f64::min),
            max: samples.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }))
    }

    fn calc_greet(&self, _call: &CallInfo, name: String) -> xipc::Result<String> {
        Ok(format!("hello, {name}"))
    }
}

fn main() -> xipc::Result<()> {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    let server = Server::new();
    CALC_VERS_register(&server, Arc::new(Calc));
    let port = server.listen_tcp("127.0.0.1", port)?;
    println!("{port}");
    server.serve_forever()
}
