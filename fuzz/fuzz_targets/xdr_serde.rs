//! serde over XDR: `from_slice` into a nested type that uses every shape
//! the format maps (integers narrowed from `int`, floats, bool, char,
//! strings and bytes owned and borrowed, options, sequences, tuples, fixed
//! arrays, unit, newtype and struct variants, recursion through `Box`).
//!
//! Input: `[limits, data ..]`. A value that decodes must encode back to
//! exactly the bytes it came from (XDR has one encoding per value); a
//! failure must be an XDR or limit error at an offset inside the input.
//! A map type is decoded too, for crashes only (a map's re-encoding need
//! not match: repeated keys collapse).
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};
use xipc::xdr::{from_slice_with_limits, to_vec};
use xipc_fuzz::{assert_decode_error, limits_from};

#[derive(Debug, Serialize, Deserialize)]
struct Message<'a> {
    tiny: u8,
    small: i16,
    word: u16,
    signed: i32,
    unsigned: u32,
    big: i64,
    huge: u64,
    ratio: f32,
    precise: f64,
    flag: bool,
    letter: char,
    name: String,
    #[serde(borrow)]
    label: &'a str,
    #[serde(with = "serde_bytes")]
    blob: Vec<u8>,
    #[serde(borrow, with = "serde_bytes")]
    raw: &'a [u8],
    ids: Vec<u32>,
    fixed: [i32; 3],
    pair: (u64, bool),
    unit: (),
    marker: Marker,
    id: Id,
    shapes: Vec<Shape>,
    next: Option<Box<Message<'a>>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Marker;

#[derive(Debug, Serialize, Deserialize)]
struct Id(u32);

#[derive(Debug, Serialize, Deserialize)]
enum Shape {
    Empty,
    Circle(f64),
    Segment(i32, i32),
    Polygon { sides: u8, points: Vec<(i32, i32)> },
    Group(Vec<Shape>),
}

fuzz_target!(|input: &[u8]| {
    let [selector, data @ ..] = input else {
        return;
    };
    let limits = limits_from(*selector);
    match from_slice_with_limits::<Message<'_>>(data, limits) {
        Ok(msg) => {
            let again = to_vec(&msg).expect("a decoded value encodes");
            assert_eq!(again, data, "re-encoding differs from the input");
        }
        Err(e) => assert_decode_error(&e, data.len()),
    }
    match from_slice_with_limits::<Vec<Shape>>(data, limits) {
        Ok(shapes) => assert_eq!(to_vec(&shapes).expect("encodes"), data),
        Err(e) => assert_decode_error(&e, data.len()),
    }
    if let Err(e) = from_slice_with_limits::<BTreeMap<u32, Vec<String>>>(data, limits) {
        assert_decode_error(&e, data.len());
    }
});
