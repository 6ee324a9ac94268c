//! Load tests, run by `make soak` (scripts/soak.sh), not by `make test`:
//! `cargo test` compiles them and skips them (`#[ignore]`).
//!
//! - `soak_rpc_connections`: an RPC server holding `SOAK_CONNECTIONS`
//!   (default 1,000) TCP connections open at once, all of them calling for
//!   `SOAK_SECONDS` (default 60) from `SOAK_WORKERS` (default 8) threads:
//!   every call is answered once, with its own arguments, and the handler
//!   runs exactly as many times as calls were made.
//! - `soak_mq_messages`: `SOAK_MESSAGES` (default 1,000,000) messages through
//!   one queue of 10 × 8,192 bytes from `SOAK_PRODUCERS` (default 4) to
//!   `SOAK_CONSUMERS` (default 4) threads, at priorities 1 to 8 (every
//!   1,000th message 8,192 bytes long): every message is received exactly
//!   once, with the priority it was sent with, and each consumer sees each
//!   producer's messages of one priority in the order they were sent; then
//!   1,000 rounds of 10 messages at shuffled priorities drain highest first.
//!
//! Both sample the process's resident memory (VmRSS) and fail when it grows
//! by more than 10 % + 16 MiB after the warm-up (the first quarter), and
//! print their figures.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use xipc::mq::OpenOptions;
use xipc::rpc::{Client, Protocol, Server};

fn setting(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        Err(_) => default,
    }
}

/// The resident set size of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// RSS samples over a run; `flat` checks growth after the warm-up.
struct Memory {
    samples: Vec<(f64, u64)>,
    start: Instant,
}

impl Memory {
    fn new() -> Memory {
        Memory {
            samples: vec![(0.0, rss_kib())],
            start: Instant::now(),
        }
    }

    fn sample(&mut self) {
        self.samples
            .push((self.start.elapsed().as_secs_f64(), rss_kib()));
    }

    /// (RSS at the end of the warm-up, highest RSS after it), in KiB.
    fn warm_and_peak(&self) -> (u64, u64) {
        let n = self.samples.len();
        let warm_at = (n / 4).max(1).min(n - 1);
        let warm = self.samples[warm_at].1;
        let peak = self.samples[warm_at..].iter().map(|s| s.1).max().unwrap();
        (warm, peak)
    }

    fn assert_flat(&self, what: &str) {
        let (warm, peak) = self.warm_and_peak();
        let bound = warm + warm / 10 + 16 * 1024;
        println!(
            "{what}: RSS at start {} MiB, after warm-up {} MiB, peak after warm-up {} MiB \
             (bound {} MiB), {} samples",
            self.samples[0].1 / 1024,
            warm / 1024,
            peak / 1024,
            bound / 1024,
            self.samples.len()
        );
        assert!(
            peak <= bound,
            "{what}: memory grew from {warm} KiB to {peak} KiB"
        );
    }
}

const PROG: u32 = 0x2000_5050;

#[test]
#[ignore = "load test: run with make soak"]
fn soak_rpc_connections() {
    println!(); // after the test harness's "test ... " prefix
    let connections = setting("SOAK_CONNECTIONS", 1000) as usize;
    let seconds = setting("SOAK_SECONDS", 60);
    let workers = (setting("SOAK_WORKERS", 8) as usize).clamp(1, connections);

    let server = Server::new();
    server.set_rpcbind_registration(false);
    server
        .set_idle_timeout(Some(Duration::from_secs(seconds + 600)))
        .unwrap();
    let handled = Arc::new(AtomicU64::new(0));
    let count = handled.clone();
    server.register(PROG, 1, 1, move |_, args, out| {
        count.fetch_add(1, Ordering::Relaxed);
        out.put_raw(args);
        Ok(())
    });
    let port = server.listen_tcp("127.0.0.1", 0).unwrap();
    server.start().unwrap();

    // Every connection open at once, each answered once before the run.
    let opened = Instant::now();
    let clients: Vec<Client> = (0..connections)
        .map(|i| {
            let c = Client::connect("127.0.0.1", port, PROG, 1, Protocol::Tcp)
                .unwrap_or_else(|e| panic!("connection {i}: {e} (raise ulimit -n)"));
            c.set_timeout(Some(Duration::from_secs(30))).unwrap();
            c.ping().unwrap_or_else(|e| panic!("connection {i}: {e}"));
            c
        })
        .collect();
    let live = server.connection_count();
    println!(
        "rpc: {connections} connections open in {:.2} s; the server counts {live}",
        opened.elapsed().as_secs_f64()
    );
    assert_eq!(live, connections, "the server holds every connection");

    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let mut memory = Memory::new();
    let per_worker = connections.div_ceil(workers);
    let mut chunks: Vec<Vec<(usize, Client)>> = Vec::new();
    for (i, c) in clients.into_iter().enumerate() {
        if i % per_worker == 0 {
            chunks.push(Vec::new());
        }
        chunks.last_mut().unwrap().push((i, c));
    }
    let handles: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let (stop, calls) = (stop.clone(), calls.clone());
            thread::spawn(move || {
                let mut seq = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    for (id, c) in &chunk {
                        seq = seq.wrapping_add(1);
                        let mut args = (*id as u32).to_be_bytes().to_vec();
                        args.extend_from_slice(&seq.to_be_bytes());
                        let reply = c
                            .call(1, &args)
                            .unwrap_or_else(|e| panic!("connection {id}, call {seq}: {e}"));
                        assert_eq!(reply, args, "connection {id} got another call's reply");
                        calls.fetch_add(1, Ordering::Relaxed);
                    }
                }
                chunk
            })
        })
        .collect();

    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut last_report = started;
    while Instant::now() < deadline {
        thread::sleep(Duration::from_millis(500));
        memory.sample();
        if last_report.elapsed() >= Duration::from_secs(10) {
            last_report = Instant::now();
            println!(
                "rpc: {:>4.0} s, {} calls, RSS {} MiB",
                started.elapsed().as_secs_f64(),
                calls.load(Ordering::Relaxed),
                rss_kib() / 1024
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut clients = Vec::new();
    for h in handles {
        clients.extend(h.join().expect("a worker failed"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let made = calls.load(Ordering::Relaxed);
    let served = handled.load(Ordering::Relaxed);
    // The pings before the run were not counted by the handler (procedure 0).
    println!(
        "rpc: {made} calls over {connections} connections in {elapsed:.1} s = {:.0} calls/s; \
         handler ran {served} times",
        made as f64 / elapsed
    );
    assert_eq!(served, made, "every call answered exactly once");
    assert_eq!(server.connection_count(), connections, "no connection lost");
    memory.assert_flat("rpc");
    drop(clients);
    server.stop();
}

const QUEUE_MAX_MESSAGES: usize = 10;
const QUEUE_MESSAGE_SIZE: usize = 8192;
const STOP_PRIORITY: u32 = 0;

/// A data message: producer, sequence number, priority, then padding.
fn data_message(producer: u32, seq: u32, priority: u32) -> Vec<u8> {
    let len = if seq % 1000 == 999 {
        QUEUE_MESSAGE_SIZE
    } else {
        16
    };
    let mut m = vec![0xA5; len];
    m[0..4].copy_from_slice(&producer.to_be_bytes());
    m[4..8].copy_from_slice(&seq.to_be_bytes());
    m[8..12].copy_from_slice(&priority.to_be_bytes());
    m
}

fn field(m: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(m[at..at + 4].try_into().unwrap())
}

#[test]
#[ignore = "load test: run with make soak"]
fn soak_mq_messages() {
    println!();
    let total = setting("SOAK_MESSAGES", 1_000_000);
    let producers = setting("SOAK_PRODUCERS", 4).max(1) as u32;
    let consumers = setting("SOAK_CONSUMERS", 4).max(1) as usize;
    let per_producer = total / u64::from(producers);
    let total = per_producer * u64::from(producers);

    let name = format!("/xipc-soak-{}", std::process::id());
    let queue = Arc::new(
        OpenOptions::new()
            .create(true)
            .exclusive(true)
            .max_messages(QUEUE_MAX_MESSAGES)
            .max_message_size(QUEUE_MESSAGE_SIZE)
            .open(&name)
            .unwrap_or_else(|e| panic!("creating {name} (10 x 8192): {e}")),
    );
    queue.unlink().unwrap();

    // One byte per message, allocated before the warm-up: set when received.
    let seen: Arc<Vec<AtomicU8>> = Arc::new((0..total).map(|_| AtomicU8::new(0)).collect());
    let received = Arc::new(AtomicU64::new(0));
    let mut memory = Memory::new();
    let started = Instant::now();

    let consumer_handles: Vec<_> = (0..consumers)
        .map(|_| {
            let (queue, seen, received) = (queue.clone(), seen.clone(), received.clone());
            thread::spawn(move || {
                let mut buf = vec![0u8; QUEUE_MESSAGE_SIZE];
                // Last sequence number seen per (producer, priority).
                let mut last = vec![[None::<u32>; 9]; producers as usize];
                let mut problems = Vec::new();
                loop {
                    let (n, priority) = queue.receive(&mut buf).expect("receive");
                    if priority == STOP_PRIORITY {
                        break;
                    }
                    let m = &buf[..n];
                    let (p, seq, sent_priority) = (field(m, 0), field(m, 4), field(m, 8));
                    if sent_priority != priority {
                        problems.push(format!(
                            "{p}/{seq}: priority {priority}, sent {sent_priority}"
                        ));
                    }
                    let slot = &mut last[p as usize][priority as usize];
                    if slot.is_some_and(|prev| prev >= seq) {
                        problems.push(format!("{p}/{seq} after {slot:?} at priority {priority}"));
                    }
                    *slot = Some(seq);
                    let index = u64::from(p) * per_producer + u64::from(seq);
                    if seen[index as usize].swap(1, Ordering::Relaxed) != 0 {
                        problems.push(format!("{p}/{seq} received twice"));
                    }
                    if n != data_message(p, seq, priority).len() {
                        problems.push(format!("{p}/{seq}: {n} bytes"));
                    }
                    received.fetch_add(1, Ordering::Relaxed);
                }
                problems
            })
        })
        .collect();

    let producer_handles: Vec<_> = (0..producers)
        .map(|p| {
            let queue = queue.clone();
            thread::spawn(move || {
                for seq in 0..per_producer as u32 {
                    let priority = 1 + (seq.wrapping_mul(7) + p) % 8;
                    queue
                        .send(&data_message(p, seq, priority), priority)
                        .expect("send");
                }
            })
        })
        .collect();

    let mut last_report = Instant::now();
    while producer_handles.iter().any(|h| !h.is_finished()) {
        thread::sleep(Duration::from_millis(100));
        memory.sample();
        if last_report.elapsed() >= Duration::from_secs(5) {
            last_report = Instant::now();
            println!(
                "mq: {:>4.0} s, {} of {total} received, RSS {} MiB",
                started.elapsed().as_secs_f64(),
                received.load(Ordering::Relaxed),
                rss_kib() / 1024
            );
        }
    }
    for h in producer_handles {
        h.join().expect("a producer failed");
    }
    // Below every data priority: received only once no data is left.
    for _ in 0..consumers {
        queue.send(b"stop", STOP_PRIORITY).unwrap();
    }
    let mut problems = Vec::new();
    for h in consumer_handles {
        problems.extend(h.join().expect("a consumer failed"));
    }
    memory.sample();
    let elapsed = started.elapsed().as_secs_f64();
    let got = received.load(Ordering::Relaxed);
    let missing = seen
        .iter()
        .filter(|b| b.load(Ordering::Relaxed) == 0)
        .count();
    println!(
        "mq: {got} messages, {producers} producers -> {consumers} consumers, queue \
         {QUEUE_MAX_MESSAGES} x {QUEUE_MESSAGE_SIZE} bytes, in {elapsed:.1} s = {:.0} messages/s",
        got as f64 / elapsed
    );
    assert!(
        problems.is_empty(),
        "{} problems, first: {:?}",
        problems.len(),
        &problems[..problems.len().min(10)]
    );
    assert_eq!(missing, 0, "{missing} messages never received");
    assert_eq!(got, total);
    memory.assert_flat("mq");

    // Priority order, observable without concurrency: 10 messages at
    // shuffled priorities drain highest first, oldest first among equals.
    let mut buf = vec![0u8; QUEUE_MESSAGE_SIZE];
    for round in 0..1000u32 {
        let priorities: Vec<u32> = (0..10u32).map(|i| 1 + (i * 7 + round) % 5).collect();
        for (i, &prio) in priorities.iter().enumerate() {
            queue.send(&data_message(0, i as u32, prio), prio).unwrap();
        }
        let mut want: Vec<(u32, u32)> = priorities
            .iter()
            .enumerate()
            .map(|(i, &prio)| (prio, i as u32))
            .collect();
        want.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(prio, i) in &want {
            let (n, got_prio) = queue.receive(&mut buf).unwrap();
            assert_eq!((got_prio, field(&buf[..n], 4)), (prio, i), "round {round}");
        }
    }
    println!("mq: 1000 rounds of 10 messages at shuffled priorities drained in priority order");
}
