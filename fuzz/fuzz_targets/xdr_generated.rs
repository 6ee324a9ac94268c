//! The codecs `xipc gen --lang rust` writes, for the every-construct `.x`
//! fixture (`tests/gen/every.x`: every base type, fixed and variable
//! opaque, strings and arrays with and without bounds, enums, unions on
//! int/unsigned/enum/bool with and without `default`, optional data,
//! recursive lists, typedefs of all of them).
//!
//! Input: `[selector, data ..]`; the selector's low 4 bits pick the type,
//! the next 2 the limits. A value that decodes from all of `data` must
//! encode back to exactly `data`; a failure must be an XDR or limit error
//! inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xipc::idl::XdrType;
use xipc::xdr::{Decoder, Encoder};
use xipc_fuzz::every::*;
use xipc_fuzz::{assert_decode_error, limits_from};

/// Decodes a `T` from all of `data` and checks the round trip.
fn check_type<T: XdrType>(data: &[u8], dec: Decoder<'_>) {
    check_with(data, dec, T::decode, |v, e| v.encode(e));
}

/// The same for a typedef, through its generated `decode_*`/`encode_*`.
fn check_with<T>(
    data: &[u8],
    mut dec: Decoder<'_>,
    decode: impl Fn(&mut Decoder<'_>) -> xipc::Result<T>,
    encode: impl Fn(&T, &mut Encoder) -> xipc::Result<()>,
) {
    let value = match decode(&mut dec).and_then(|v| dec.finish().map(|()| v)) {
        Ok(v) => v,
        Err(e) => return assert_decode_error(&e, data.len()),
    };
    assert!(dec.allocated() <= dec.limits().max_alloc);
    let mut enc = Encoder::new();
    encode(&value, &mut enc).expect("a decoded value encodes");
    assert_eq!(enc.as_bytes(), data, "re-encoding differs from the input");
}

fuzz_target!(|input: &[u8]| {
    let [selector, data @ ..] = input else {
        return;
    };
    let dec = Decoder::with_limits(data, limits_from(selector >> 4));
    match selector & 15 {
        0 | 1 => check_type::<everything>(data, dec),
        2 => check_type::<node>(data, dec),
        3 => check_type::<point>(data, dec),
        4 => check_type::<result>(data, dec),
        5 => check_type::<maybe>(data, dec),
        6 => check_type::<flagged>(data, dec),
        7 => check_type::<counted>(data, dec),
        8 => check_type::<color>(data, dec),
        9 => check_type::<shape>(data, dec),
        10 => check_with(data, dec, decode_intlist, encode_intlist),
        11 => check_with(data, dec, decode_blob, encode_blob),
        12 => check_with(data, dec, decode_names, encode_names),
        13 => check_with(data, dec, decode_nodeptr, encode_nodeptr),
        14 => check_with(data, dec, decode_palette, encode_palette),
        _ => check_with(data, dec, decode_bigids, encode_bigids),
    }
});
