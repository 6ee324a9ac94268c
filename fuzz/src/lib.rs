//! What the fuzz targets share: limits chosen by the input, and the Rust
//! that `xipc gen` writes for the every-construct `.x` fixture.

use xipc::xdr::Limits;

/// Types, codecs and RPC stubs of `tests/gen/every.x`, as `xipc gen --lang
/// rust` writes them (`scripts/fuzz.sh` regenerates `gen/every.rs`).
#[allow(unused_mut)] // the generated RPC stubs declare some codecs `mut` needlessly
pub mod every {
    include!("../gen/every.rs");
}

/// Tight limits, so that the fuzzer reaches every limit check with small inputs.
pub const TINY: Limits = Limits {
    max_item_bytes: 8,
    max_elements: 4,
    max_depth: 4,
    max_alloc: 64,
};

/// Small limits, under which most well-formed small values still decode.
pub const SMALL: Limits = Limits {
    max_item_bytes: 64,
    max_elements: 16,
    max_depth: 16,
    max_alloc: 1024,
};

/// Picks limits from one byte of the input: the defaults, tiny, small or
/// none at all (bounded by the input's size only).
pub fn limits_from(selector: u8) -> Limits {
    match selector & 3 {
        0 => Limits::default(),
        1 => TINY,
        2 => SMALL,
        _ => Limits::unlimited(),
    }
}

/// Splits `data` into the pieces between occurrences of `sep` (a byte
/// sequence unlikely in well-formed XDR), so one input can carry several
/// messages.
pub fn split_messages<'a>(data: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(sep.len()).position(|w| w == sep) {
        out.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    out.push(rest);
    out
}

/// Asserts that `err` is an XDR or limit error at an offset inside an input
/// of `len` bytes, as every decoding failure must be.
pub fn assert_decode_error(err: &xipc::Error, len: usize) {
    match err {
        xipc::Error::Xdr { offset, .. } | xipc::Error::Limit { offset, .. } => {
            assert!(
                *offset <= len,
                "error offset {offset} past {len} bytes: {err}"
            )
        }
        other => panic!("decoding failed with an unexpected error variant: {other:?}"),
    }
}
