//! Hostile XDR against the public decoders — `Decoder`, serde `from_slice`
//! and the codecs `xipc gen` writes — with the bytes each decoding
//! allocates measured by a counting allocator: lengths that lie, limits
//! that bite, deep nesting, truncation, a bool of 2, non-zero padding.

#[path = "hostile/alloc.rs"]
mod alloc;

#[global_allocator]
static COUNTING: alloc::Counting = alloc::Counting;

#[allow(clippy::all)]
mod every {
    include!("gen/every_norpc.rs");
}

use alloc::peak_during;
use every::*;
use xipc::idl::XdrType;
use xipc::xdr::{from_slice, from_slice_with_limits, Decoder, Encoder, Limits};
use xipc::Error;

/// What any failed decoding may allocate: its error message and little else.
const ERROR_ONLY: usize = 512;

fn assert_xdr(err: &Error, offset: usize, message: &str) {
    match err {
        Error::Xdr { offset: at, .. } => assert_eq!(*at, offset, "{err}"),
        other => panic!("expected an XDR error, got {other:?}"),
    }
    assert_eq!(err.to_string(), message);
}

fn assert_limit(err: &Error, offset: usize, message: &str) {
    match err {
        Error::Limit { offset: at, .. } => assert_eq!(*at, offset, "{err}"),
        other => panic!("expected a limit error, got {other:?}"),
    }
    assert_eq!(err.to_string(), message);
}

/// A length of 2³² − 1 in front of 8 bytes.
const LIAR: [u8; 12] = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 2];

#[test]
fn a_length_larger_than_the_input_allocates_nothing() {
    let unlimited = Limits::unlimited();
    let (r, peak) = peak_during(|| Decoder::with_limits(&LIAR, unlimited).get_opaque_vec(None));
    assert_xdr(
        &r.unwrap_err(),
        0,
        "malformed XDR at byte 0: opaque length 4294967295 is larger than the 8 bytes that remain",
    );
    assert!(peak < ERROR_ONLY, "{peak} bytes");

    let (r, peak) = peak_during(|| from_slice_with_limits::<Vec<Vec<u8>>>(&LIAR, unlimited));
    assert_xdr(
        &r.unwrap_err(),
        0,
        "malformed XDR at byte 0: array count 4294967295 needs at least 17179869180 bytes but only 8 remain",
    );
    assert!(peak < ERROR_ONLY, "{peak} bytes");

    // The generated codecs check the same way, through the same decoder.
    let (r, peak) = peak_during(|| decode_intlist(&mut Decoder::with_limits(&LIAR, unlimited)));
    assert_xdr(
        &r.unwrap_err(),
        0,
        "malformed XDR at byte 0: array count 4294967295 needs at least 17179869180 bytes but only 8 remain",
    );
    assert!(peak < ERROR_ONLY, "{peak} bytes");
}

#[test]
fn a_length_larger_than_the_limits_is_refused_before_reading_it() {
    // 100 bytes of opaque data, all present, against an item limit of 64.
    let mut enc = Encoder::new();
    enc.put_opaque(&[7; 100]).unwrap();
    let input = enc.into_bytes();
    let limits = Limits {
        max_item_bytes: 64,
        ..Limits::default()
    };
    let (r, peak) = peak_during(|| Decoder::with_limits(&input, limits).get_opaque_vec(None));
    assert_limit(
        &r.unwrap_err(),
        0,
        "limit exceeded at byte 0: opaque of 100 bytes exceeds the item limit of 64",
    );
    assert!(peak < ERROR_ONLY, "{peak} bytes");

    // The default limits refuse a 17 MiB string before looking for its bytes.
    let mut big = (17u32 << 20).to_be_bytes().to_vec();
    big.extend_from_slice(&[0; 64]);
    let (r, peak) = peak_during(|| from_slice::<String>(&big));
    assert_limit(
        &r.unwrap_err(),
        0,
        "limit exceeded at byte 0: string of 17825792 bytes exceeds the item limit of 16777216",
    );
    assert!(peak < ERROR_ONLY, "{peak} bytes");

    // A bound in the .x file (`typedef opaque blob<64>`) is checked too.
    let mut enc = Encoder::new();
    enc.put_opaque(&[1; 65]).unwrap();
    let (r, peak) = peak_during(|| decode_blob(&mut Decoder::new(enc.as_bytes())));
    assert_limit(
        &r.unwrap_err(),
        0,
        "limit exceeded at byte 0: opaque length 65 exceeds its bound of 64",
    );
    assert!(peak < ERROR_ONLY, "{peak} bytes");
}

#[test]
fn max_alloc_bounds_what_one_message_allocates() {
    // 64 opaque items of 64 bytes: 4 KiB of data, against a 1 KiB budget.
    let mut enc = Encoder::new();
    for _ in 0..64 {
        enc.put_opaque(&[9; 64]).unwrap();
    }
    let input = enc.into_bytes();
    let limits = Limits {
        max_alloc: 1024,
        ..Limits::default()
    };
    let (outcome, peak) = peak_during(|| {
        let mut dec = Decoder::with_limits(&input, limits);
        let mut kept = Vec::with_capacity(64);
        loop {
            match dec.get_opaque_vec(None) {
                Ok(v) => kept.push(v),
                Err(e) => return (kept.len(), e),
            }
        }
    });
    let (decoded, err) = outcome;
    assert_eq!(decoded, 16, "16 items of 64 bytes fill 1 KiB");
    assert_limit(
        &err,
        16 * 68,
        "limit exceeded at byte 1088: decoding would allocate 1088 bytes, more than the limit of 1024",
    );
    // The items kept, the vector of them and the error message.
    assert!(peak <= 1024 + 64 * 24 + ERROR_ONLY, "{peak} bytes");
}

#[test]
fn serde_allocation_is_proportional_to_the_input_not_to_its_claims() {
    // 10,000 empty strings: 40,004 bytes on the wire. The deserializer
    // charges 4 bytes per element against max_alloc (the least any element
    // takes on the wire); in memory each String takes 24, so what is
    // allocated stays within a small factor of the input's size.
    let mut input = 10_000u32.to_be_bytes().to_vec();
    input.resize(4 + 40_000, 0);
    let (r, peak) = peak_during(|| from_slice::<Vec<String>>(&input));
    assert_eq!(r.unwrap().len(), 10_000);
    assert!(
        peak <= input.len() * 12,
        "{peak} bytes for {} bytes",
        input.len()
    );

    // The same claim with 4 bytes behind it allocates nothing.
    let (r, peak) = peak_during(|| from_slice::<Vec<String>>(&input[..8]));
    assert_xdr(
        &r.unwrap_err(),
        0,
        "malformed XDR at byte 0: array count 10000 needs at least 40000 bytes but only 4 remain",
    );
    assert!(peak < ERROR_ONLY, "{peak} bytes");
}

/// A `node` list `n` + 1 long: value, "next present" flag, ...
fn long_list(n: u32) -> Vec<u8> {
    let mut enc = Encoder::new();
    for i in 0..n {
        enc.put_int(i as i32);
        enc.put_optional(true);
    }
    enc.put_int(-1);
    enc.put_optional(false);
    enc.into_bytes()
}

/// The length of a list (which generated code drops in a loop).
fn length(list: node) -> usize {
    let mut count = 0;
    let mut node = Some(&list);
    while let Some(n) = node {
        count += 1;
        node = n.next.as_deref();
    }
    count
}

#[test]
fn a_long_list_is_bounded_by_max_alloc_in_generated_code() {
    // `node` is a linked list (its last field points to itself): generated
    // code decodes it in a loop, one nesting level in all, and charges
    // each boxed node against max_alloc.
    let input = long_list(10_000);
    let (r, peak) = peak_during(|| node::from_bytes(&input).map(length));
    assert_eq!(r.unwrap(), 10_001);
    let boxed = std::mem::size_of::<node>();
    assert!(peak <= 10_000 * boxed + ERROR_ONLY, "{peak} bytes");

    let limits = Limits {
        max_alloc: 64 * boxed,
        ..Limits::default()
    };
    let (r, peak) =
        peak_during(|| node::decode(&mut Decoder::with_limits(&input, limits)).map(length));
    // The 65th boxed node is one too many: it is found after the flag
    // that announces it, at byte 65 × 8.
    assert_limit(
        &r.unwrap_err(),
        520,
        &format!(
            "limit exceeded at byte 520: decoding would allocate {} bytes, more than the limit of {}",
            65 * boxed,
            64 * boxed
        ),
    );
    assert!(peak < 64 * 32 + ERROR_ONLY, "{peak} bytes");
}

#[allow(clippy::all)]
mod lists {
    include!("gen/lists_norpc.rs");
}

/// A `tree` leaning left, `n` levels deep.
fn deep_tree(n: u32) -> Vec<u8> {
    let mut enc = Encoder::new();
    for i in 0..n {
        enc.put_int(i as i32);
        enc.put_optional(i + 1 < n);
    }
    for _ in 0..n {
        enc.put_optional(false);
    }
    enc.into_bytes()
}

#[test]
fn deep_nesting_is_a_limit_error_in_generated_code() {
    use lists::tree;
    let input = deep_tree(10_000);
    let (r, peak) = peak_during(|| tree::from_bytes(&input));
    // The 65th "left" is one level too many: it is found after the flag
    // that announces it, at byte 65 × 8.
    assert_limit(
        &r.unwrap_err(),
        520,
        "limit exceeded at byte 520: nesting deeper than the limit of 64",
    );
    // 64 boxed nodes were built before the limit was hit; none survive.
    assert!(peak < 64 * 32 + ERROR_ONLY, "{peak} bytes");

    // Limits::unlimited still stops at 1,024 levels, on a test thread's
    // ordinary stack.
    let (r, _) = peak_during(|| {
        let mut dec = Decoder::with_limits(&input, Limits::unlimited());
        tree::decode(&mut dec)
    });
    assert_limit(
        &r.unwrap_err(),
        1025 * 8,
        "limit exceeded at byte 8200: nesting deeper than the limit of 1024",
    );

    // 64 levels are allowed.
    let ok = tree::from_bytes(&deep_tree(65)).unwrap();
    assert_eq!(ok.value, 0);
}

fn sample() -> everything {
    let p = point {
        x: 1.5,
        y: -2.25,
        h: -3,
        uh: 4,
        flag: true,
        q: [5; 16],
    };
    everything {
        i: -1,
        u: 2,
        ui: 3,
        h: -4,
        uh: 5,
        f: 6.5,
        d: 7.25,
        b: true,
        c: color::BLUE,
        sh: shape::TRI,
        q: [8; 16],
        ch: 9,
        sho: 10,
        lo: 11,
        uch: 12,
        fo: *b"fixed",
        vo: b"var".to_vec(),
        bo: b"bounded".to_vec(),
        s: "string".into(),
        bs: "bs".into(),
        fa: [1, 2, 3],
        va: vec![4, 5],
        ba: vec![6],
        bools: [true, false],
        colors: vec![color::RED, color::GREEN],
        ds: vec![0.5],
        pts: vec![p.clone()],
        fpts: [p.clone(), p.clone()],
        n: "name".into(),
        ns: vec!["a".into(), "bc".into()],
        list: Some(Box::new(node {
            value: 1,
            next: Some(Box::new(node {
                value: 2,
                next: None,
            })),
        })),
        list2: None,
        opt: Some(Box::new(p.clone())),
        r: result::GREEN("green".into()),
        sp: p.clone(),
        ec: color::RED,
        m: maybe::V1(p),
        fl: flagged::TRUE("who".into()),
        co: counted::Default(9),
        il: vec![-7],
        bl: vec![1, 2, 3],
        bi: [1, 2, 3],
        pal: [color::GREEN, color::BLUE],
    }
}

#[test]
fn every_truncation_of_a_message_is_a_clean_error() {
    let bytes = sample().to_bytes().unwrap();
    assert_eq!(everything::from_bytes(&bytes).unwrap(), sample());
    for cut in 0..bytes.len() {
        let (r, peak) = peak_during(|| everything::from_bytes(&bytes[..cut]));
        let err = r.unwrap_err();
        match &err {
            Error::Xdr { offset, reason } => {
                assert!(*offset <= cut, "cut {cut}: {err}");
                assert!(reason.contains("remain"), "cut {cut}: {err}");
            }
            other => panic!("cut {cut}: expected an XDR error, got {other:?}"),
        }
        // What had been decoded before the cut, and the message.
        assert!(
            peak < bytes.len() * 8 + ERROR_ONLY,
            "cut {cut}: {peak} bytes"
        );
    }
}

/// Offset of field `b` (a bool) in `sample()`'s encoding: i, u, ui (4
/// each), h, uh (8 each), f (4), d (8).
const BOOL_AT: usize = 4 * 3 + 8 * 2 + 4 + 8;

#[test]
fn a_bool_of_2_is_refused_where_it_stands() {
    let mut bytes = sample().to_bytes().unwrap();
    assert_eq!(bytes[BOOL_AT..BOOL_AT + 4], [0, 0, 0, 1]);
    bytes[BOOL_AT + 3] = 2;
    assert_xdr(
        &everything::from_bytes(&bytes).unwrap_err(),
        BOOL_AT,
        "malformed XDR at byte 40: bool must be 0 or 1, found 2",
    );
    assert_xdr(
        &from_slice::<bool>(&[0, 0, 0, 2]).unwrap_err(),
        0,
        "malformed XDR at byte 0: bool must be 0 or 1, found 2",
    );
    // An optional-data flag is a bool too.
    assert_xdr(
        &Decoder::new(&[0, 0, 0, 2]).get_optional().unwrap_err(),
        0,
        "malformed XDR at byte 0: bool must be 0 or 1, found 2",
    );
}

#[test]
fn non_zero_padding_is_refused_at_its_byte() {
    // opaque<> of 1 byte: length, the byte, 3 bytes of padding (one not 0).
    let input = [0, 0, 0, 1, 0xaa, 0, 0x01, 0];
    assert_xdr(
        &Decoder::new(&input).get_opaque(None).unwrap_err(),
        6,
        "malformed XDR at byte 6: non-zero padding after opaque",
    );
    assert_xdr(
        &from_slice::<String>(&[0, 0, 0, 1, b'a', 0, 0, 0x80]).unwrap_err(),
        7,
        "malformed XDR at byte 7: non-zero padding after string",
    );
    // Fixed opaque: `opaque fo[5]` in a generated struct pads with 3 bytes.
    let mut bytes = sample().to_bytes().unwrap();
    let fo = bytes
        .windows(5)
        .position(|w| w == b"fixed")
        .expect("fixed opaque field");
    bytes[fo + 6] = 1;
    assert_xdr(
        &everything::from_bytes(&bytes).unwrap_err(),
        fo + 6,
        &format!(
            "malformed XDR at byte {}: non-zero padding after fixed opaque",
            fo + 6
        ),
    );
}
