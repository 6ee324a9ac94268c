//! XDR throughput beside its baselines, measured in the same run:
//! bulk f64 arrays against a plain `copy_from_slice` of the same bytes, and
//! the serde format against bincode 1.x configured big-endian with fixed-size
//! integers (the closest format to XDR) on the same structs.
//!
//! Each figure is the best of several runs; ratios compare throughput
//! (baseline time / xipc time for bulk, xipc time / bincode time for serde).
//! Run with `benches/xdr_rust.sh` or `cargo bench --bench xdr_rust`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bincode::Options;
use serde::{Deserialize, Serialize};
use xipc::xdr::{self, bulk, Decoder, Encoder, Limits};

/// Best time of one call of `f`, timing `batch` calls at a time over enough
/// rounds to fill `budget` (at least `min_rounds`).
fn best<F: FnMut()>(budget: Duration, min_rounds: u32, batch: u32, mut f: F) -> Duration {
    let start = Instant::now();
    let mut best = Duration::MAX;
    let mut rounds = 0;
    while rounds < min_rounds || start.elapsed() < budget {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        best = best.min(t.elapsed() / batch);
        rounds += 1;
    }
    best
}

/// Best times of `a` and `b`, measured in alternating rounds of `batch`
/// calls so that both see the same machine load.
fn best_pair<A: FnMut(), B: FnMut()>(
    budget: Duration,
    batch: u32,
    mut a: A,
    mut b: B,
) -> (Duration, Duration) {
    let start = Instant::now();
    let (mut best_a, mut best_b) = (Duration::MAX, Duration::MAX);
    let mut rounds = 0;
    while rounds < 10 || start.elapsed() < budget {
        best_a = best_a.min(best(Duration::ZERO, 1, batch, &mut a));
        best_b = best_b.min(best(Duration::ZERO, 1, batch, &mut b));
        rounds += 1;
    }
    (best_a, best_b)
}

/// Bulk f64 throughput at least this fraction of memcpy's.
const BULK_BAR: f64 = 0.5;
/// serde XDR at most this many times bincode's time.
const SERDE_BAR: f64 = 1.25;

/// Records `value` against `bar` (`op` is "<=" or ">=") for the summary
/// `make bench` ends with: a line of four tab-separated fields appended to
/// the file `XIPC_BENCH_TARGETS` names, as benches/targets.bash writes them.
/// Unset (the benchmark run alone), nothing is recorded.
fn record(what: &str, value: f64, op: &str, bar: f64) {
    let Some(path) = std::env::var_os("XIPC_BENCH_TARGETS") else {
        return;
    };
    use std::io::Write;
    let line = format!("{what}\t{value:.2}\t{op}\t{bar}\n");
    let written = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        eprintln!("xdr_rust: cannot record a target in {path:?}: {e}");
    }
}

fn show(t: Duration) -> String {
    let ns = t.as_secs_f64() * 1e9;
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} us", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

fn gib_per_s(bytes: usize, t: Duration) -> f64 {
    bytes as f64 / t.as_secs_f64() / f64::from(1u32 << 30)
}

fn bulk_doubles(budget: Duration) {
    const BYTES: usize = 64 << 20;
    let n = BYTES / 8;
    let values: Vec<f64> = (0..n).map(|i| i as f64 * 0.5 - 1e6).collect();
    let mut enc = Encoder::with_capacity(BYTES);
    enc.put_double_slice(&values);
    let wire = enc.as_bytes().to_vec();
    let mut prefixed = Vec::with_capacity(BYTES + 4);
    prefixed.extend_from_slice(&u32::try_from(n).unwrap().to_be_bytes());
    prefixed.extend_from_slice(&wire);
    let mut copy = vec![0u8; BYTES];
    let mut out = vec![0u8; BYTES];
    let mut back = vec![0f64; n];

    let memcpy = best(budget, 5, 1, || {
        copy.copy_from_slice(black_box(&wire));
        black_box(&copy);
    });
    // Decoding into a new vector pays for first-touch page faults of fresh
    // memory; its fair baseline copies into a new vector too.
    let fresh = best(budget, 5, 1, || {
        black_box(black_box(&wire).to_vec());
    });
    let rows: [(&str, Duration, Duration); 5] = [
        (
            "Encoder::put_double_slice (reused)",
            memcpy,
            best(budget, 5, 1, || {
                enc.clear();
                enc.put_double_slice(black_box(&values));
                black_box(enc.as_bytes());
            }),
        ),
        (
            "bulk::encode_doubles (into slice)",
            memcpy,
            best(budget, 5, 1, || {
                bulk::encode_doubles(black_box(&values), &mut out).unwrap();
                black_box(&out);
            }),
        ),
        (
            "Decoder::get_double_slice",
            memcpy,
            best(budget, 5, 1, || {
                let mut dec = Decoder::new(black_box(&wire));
                dec.get_double_slice(&mut back).unwrap();
                black_box(&back);
            }),
        ),
        (
            "bulk::decode_doubles (into slice)",
            memcpy,
            best(budget, 5, 1, || {
                bulk::decode_doubles(black_box(&wire), &mut back).unwrap();
                black_box(&back);
            }),
        ),
        (
            "Decoder::get_double_array (new Vec)",
            fresh,
            best(budget, 5, 1, || {
                let mut dec = Decoder::with_limits(black_box(&prefixed), Limits::unlimited());
                black_box(dec.get_double_array(None).unwrap());
            }),
        ),
    ];
    assert_eq!(back, values);

    println!("bulk f64, 64 MiB (ratio = throughput / memcpy throughput; target >= {BULK_BAR:.2})");
    println!(
        "  {:<38} {:>8.2} GiB/s   1.00",
        "memcpy (copy_from_slice)",
        gib_per_s(BYTES, memcpy),
    );
    println!(
        "  {:<38} {:>8.2} GiB/s   1.00  (baseline of the new-Vec row)",
        "memcpy into a new Vec (to_vec)",
        gib_per_s(BYTES, fresh),
    );
    for (name, base, t) in rows {
        let ratio = base.as_secs_f64() / t.as_secs_f64();
        println!(
            "  {:<38} {:>8.2} GiB/s  {:>5.2}",
            name,
            gib_per_s(BYTES, t),
            ratio
        );
        record(
            &format!("xdr_rust: bulk f64, {name}, x memcpy"),
            ratio,
            ">=",
            BULK_BAR,
        );
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
enum Kind {
    Plain,
    Sized(u32),
    Named { label: String, weight: f64 },
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Record {
    id: u64,
    seq: i32,
    value: f64,
    flag: bool,
    name: String,
    tags: Vec<u32>,
    note: Option<String>,
    kind: Kind,
    #[serde(with = "serde_bytes")]
    blob: Vec<u8>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Sample {
    t: f64,
    x: f32,
    y: f32,
    channel: u32,
}

fn records(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| Record {
            id: i as u64 * 7919,
            seq: i as i32 - 500,
            value: i as f64 / 3.0,
            flag: i % 3 == 0,
            name: format!("record-{i}"),
            tags: (0..(i % 8) as u32).collect(),
            note: (i % 2 == 0).then(|| "even".to_string()),
            kind: match i % 3 {
                0 => Kind::Plain,
                1 => Kind::Sized(i as u32),
                _ => Kind::Named {
                    label: "n".repeat(i % 13),
                    weight: 1.5,
                },
            },
            blob: vec![i as u8; i % 21],
        })
        .collect()
}

fn samples(n: usize) -> Vec<Sample> {
    (0..n)
        .map(|i| Sample {
            t: i as f64 * 1e-3,
            x: i as f32,
            y: -(i as f32),
            channel: (i % 16) as u32,
        })
        .collect()
}

fn serde_pair<T>(name: &str, value: &T, batch: u32, budget: Duration)
where
    T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
{
    let opts = bincode::DefaultOptions::new()
        .with_big_endian()
        .with_fixint_encoding();
    let x = xdr::to_vec(value).unwrap();
    let b = opts.serialize(value).unwrap();
    assert_eq!(&xdr::from_slice::<T>(&x).unwrap(), value);
    assert_eq!(&opts.deserialize::<T>(&b).unwrap(), value);

    let (xe, be) = best_pair(
        budget,
        batch,
        || {
            black_box(xdr::to_vec(black_box(value)).unwrap());
        },
        || {
            black_box(opts.serialize(black_box(value)).unwrap());
        },
    );
    let (xd, bd) = best_pair(
        budget,
        batch,
        || {
            black_box(xdr::from_slice::<T>(black_box(&x)).unwrap());
        },
        || {
            black_box(opts.deserialize::<T>(black_box(&b)).unwrap());
        },
    );
    for (op, xt, bt) in [("encode", xe, be), ("decode", xd, bd)] {
        let ratio = xt.as_secs_f64() / bt.as_secs_f64();
        println!(
            "  {:<24} {:<6} {:>10} {:>10}  {:>5.2}  ({} / {} bytes)",
            name,
            op,
            show(xt),
            show(bt),
            ratio,
            x.len(),
            b.len()
        );
        record(
            &format!("xdr_rust: serde {name} {op}, x bincode time"),
            ratio,
            "<=",
            SERDE_BAR,
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a quick run (`--quick`) shortens budgets.
    let quick = std::env::args().any(|a| a == "--quick");
    let budget = Duration::from_millis(if quick { 200 } else { 1500 });
    bulk_doubles(budget);
    println!();
    println!(
        "serde XDR vs bincode 1.x big-endian fixint (ratio = XDR time / bincode time; target <= {SERDE_BAR})"
    );
    println!(
        "  {:<24} {:<6} {:>10} {:>10}  {:>5}",
        "value", "op", "xipc::xdr", "bincode", "ratio"
    );
    serde_pair("10k Record (mixed)", &records(10_000), 1, budget);
    serde_pair("100k Sample (numeric)", &samples(100_000), 1, budget);
    serde_pair("1 Record", &records(3)[2], 1000, budget);
    serde_pair("1 Sample", &samples(2)[1], 1000, budget);
}
