//! The hand-driven XDR codec (`Encoder`, `Decoder`, `Limits`, `bulk`):
//! exact bytes for every RFC 4506 type, round trips of random values, and
//! hostile input that must fail cleanly, with an offset, before allocating.

use proptest::prelude::*;
use xipc::xdr::{bulk, Decoder, Encoder, Limits};
use xipc::Error;

fn encoded(f: impl FnOnce(&mut Encoder)) -> Vec<u8> {
    let mut enc = Encoder::new();
    f(&mut enc);
    enc.into_bytes()
}

/// The offset of an XDR or limit error; panics on any other outcome.
fn offset_of(err: Error) -> (&'static str, usize) {
    match err {
        Error::Xdr { offset, .. } => ("xdr", offset),
        Error::Limit { offset, .. } => ("limit", offset),
        other => panic!("expected an XDR or limit error, got {other:?}"),
    }
}

#[test]
fn scalars_encode_to_their_rfc_bytes() {
    assert_eq!(encoded(|e| e.put_int(-2)), [0xff, 0xff, 0xff, 0xfe]);
    assert_eq!(encoded(|e| e.put_uint(0x0102_0304)), [1, 2, 3, 4]);
    assert_eq!(encoded(|e| e.put_enum(7)), [0, 0, 0, 7]);
    assert_eq!(encoded(|e| e.put_bool(true)), [0, 0, 0, 1]);
    assert_eq!(encoded(|e| e.put_bool(false)), [0, 0, 0, 0]);
    assert_eq!(
        encoded(|e| e.put_hyper(-1)),
        [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
    );
    assert_eq!(
        encoded(|e| e.put_uhyper(0x0102_0304_0506_0708)),
        [1, 2, 3, 4, 5, 6, 7, 8]
    );
    assert_eq!(encoded(|e| e.put_float(1.0)), [0x3f, 0x80, 0, 0]);
    assert_eq!(encoded(|e| e.put_double(-2.0)), [0xc0, 0, 0, 0, 0, 0, 0, 0]);
    let quad: [u8; 16] = core::array::from_fn(|i| i as u8);
    assert_eq!(encoded(|e| e.put_quadruple(&quad)), quad);
    assert_eq!(encoded(|e| e.put_void()), [] as [u8; 0]);
    assert_eq!(encoded(|e| e.put_discriminant(-1)), [0xff; 4]);
    assert_eq!(encoded(|e| e.put_optional(true)), [0, 0, 0, 1]);
}

#[test]
fn opaque_and_string_are_padded_with_zeros() {
    assert_eq!(encoded(|e| e.put_fixed_opaque(b"ab")), *b"ab\0\0");
    assert_eq!(encoded(|e| e.put_fixed_opaque(b"abcd")), *b"abcd");
    assert_eq!(
        encoded(|e| e.put_opaque(b"abcde").unwrap()),
        *b"\0\0\0\x05abcde\0\0\0"
    );
    assert_eq!(
        encoded(|e| e.put_string("xyz").unwrap()),
        *b"\0\0\0\x03xyz\0"
    );
    assert_eq!(encoded(|e| e.put_string("").unwrap()), [0, 0, 0, 0]);
}

#[test]
fn arrays_fixed_have_no_count_and_variable_have_one() {
    assert_eq!(
        encoded(|e| e.put_int_slice(&[1, -1])),
        [0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]
    );
    assert_eq!(
        encoded(|e| e.put_uint_array(&[5]).unwrap()),
        [0, 0, 0, 1, 0, 0, 0, 5]
    );
    assert_eq!(encoded(|e| e.put_hyper_array(&[]).unwrap()), [0, 0, 0, 0]);
    assert_eq!(
        encoded(|e| e.put_double_array(&[1.0]).unwrap()),
        [0, 0, 0, 1, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(
        encoded(|e| e.put_float_slice(&[1.0, -0.0])),
        [0x3f, 0x80, 0, 0, 0x80, 0, 0, 0]
    );
    assert_eq!(
        encoded(|e| e.put_uhyper_slice(&[1])),
        [0, 0, 0, 0, 0, 0, 0, 1]
    );
}

#[test]
fn every_type_decodes_what_was_encoded() {
    let quad = [9u8; 16];
    let bytes = encoded(|e| {
        e.put_int(i32::MIN);
        e.put_uint(u32::MAX);
        e.put_enum(3);
        e.put_bool(true);
        e.put_hyper(i64::MIN);
        e.put_uhyper(u64::MAX);
        e.put_float(f32::INFINITY);
        e.put_double(f64::MIN_POSITIVE);
        e.put_quadruple(&quad);
        e.put_fixed_opaque(b"xyz");
        e.put_opaque(b"hello").unwrap();
        e.put_string("wörld").unwrap();
        e.put_optional(false);
        e.put_discriminant(2);
        e.put_int_array(&[1, 2, 3]).unwrap();
        e.put_double_slice(&[0.5, -0.25]);
    });
    let mut d = Decoder::new(&bytes);
    assert_eq!(d.get_int().unwrap(), i32::MIN);
    assert_eq!(d.get_uint().unwrap(), u32::MAX);
    assert_eq!(d.get_enum().unwrap(), 3);
    assert!(d.get_bool().unwrap());
    assert_eq!(d.get_hyper().unwrap(), i64::MIN);
    assert_eq!(d.get_uhyper().unwrap(), u64::MAX);
    assert_eq!(d.get_float().unwrap(), f32::INFINITY);
    assert_eq!(d.get_double().unwrap(), f64::MIN_POSITIVE);
    assert_eq!(d.get_quadruple().unwrap(), quad);
    assert_eq!(d.get_fixed_opaque(3).unwrap(), b"xyz");
    assert_eq!(d.get_opaque(Some(5)).unwrap(), b"hello");
    assert_eq!(d.get_string(None).unwrap(), "wörld");
    assert!(!d.get_optional().unwrap());
    assert_eq!(d.get_discriminant().unwrap(), 2);
    assert_eq!(d.get_int_array(Some(3)).unwrap(), [1, 2, 3]);
    let mut two = [0f64; 2];
    d.get_double_slice(&mut two).unwrap();
    assert_eq!(two, [0.5, -0.25]);
    d.get_void().unwrap();
    d.finish().unwrap();
}

#[test]
fn bulk_functions_match_the_encoder() {
    let values = [1.5f64, -0.0, f64::MAX, f64::NEG_INFINITY];
    let mut out = [0u8; 32];
    bulk::encode_doubles(&values, &mut out).unwrap();
    assert_eq!(out[..], encoded(|e| e.put_double_slice(&values))[..]);
    let mut back = [0f64; 4];
    bulk::decode_doubles(&out, &mut back).unwrap();
    assert_eq!(back, values);
    let err = bulk::encode_doubles(&values, &mut out[..31]).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    let err = bulk::decode_ints(&out[..7], &mut [0i32; 2]).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
}

#[test]
fn bulk_encoding_is_correct_across_block_boundaries() {
    // The encoder converts in blocks; lengths around a block must still be exact.
    for n in [0usize, 1, 31, 32, 33, 64, 65, 1000] {
        let values: Vec<u32> = (0..n as u32).map(|i| i.wrapping_mul(0x0101_0101)).collect();
        let bytes = encoded(|e| e.put_uint_slice(&values));
        let by_one = encoded(|e| values.iter().for_each(|&v| e.put_uint(v)));
        assert_eq!(bytes, by_one, "n = {n}");
    }
}

#[test]
fn length_prefix_of_all_ones_on_a_12_byte_buffer_fails_before_allocating() {
    let input = [0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8];
    for limits in [Limits::default(), Limits::unlimited()] {
        let mut d = Decoder::with_limits(&input, limits);
        assert_eq!(offset_of(d.get_opaque(None).unwrap_err()).1, 0);
        assert_eq!(offset_of(d.get_opaque_vec(None).unwrap_err()).1, 0);
        assert_eq!(offset_of(d.get_string(None).unwrap_err()).1, 0);
        assert_eq!(offset_of(d.get_double_array(None).unwrap_err()).1, 0);
        assert_eq!(offset_of(d.get_count(None, 4).unwrap_err()).1, 0);
        // Nothing was charged (so nothing was allocated) and nothing consumed.
        assert_eq!(d.allocated(), 0);
        assert_eq!(d.position(), 0);
    }
    // Without limits, the error is the input's length, said plainly.
    let err = Decoder::with_limits(&input, Limits::unlimited())
        .get_opaque(None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed XDR at byte 0: opaque length 4294967295 is larger than the 8 bytes that remain"
    );
}

#[test]
fn bounds_and_limits_are_checked() {
    let bytes = encoded(|e| {
        e.put_opaque(b"abcdef").unwrap();
    });
    let err = Decoder::new(&bytes).get_opaque(Some(5)).unwrap_err();
    assert_eq!(offset_of(err), ("limit", 0));

    let small = Limits {
        max_item_bytes: 4,
        ..Limits::default()
    };
    let err = Decoder::with_limits(&bytes, small)
        .get_opaque(None)
        .unwrap_err();
    assert_eq!(offset_of(err), ("limit", 0));

    let tiny_alloc = Limits {
        max_alloc: 5,
        ..Limits::default()
    };
    let mut d = Decoder::with_limits(&bytes, tiny_alloc);
    assert_eq!(offset_of(d.get_opaque_vec(None).unwrap_err()), ("limit", 0));
    assert_eq!(d.position(), 0);

    let ints = encoded(|e| e.put_int_array(&[1, 2, 3]).unwrap());
    let few = Limits {
        max_elements: 2,
        ..Limits::default()
    };
    let err = Decoder::with_limits(&ints, few)
        .get_int_array(None)
        .unwrap_err();
    assert_eq!(offset_of(err), ("limit", 0));
    let err = Decoder::new(&ints).get_int_array(Some(2)).unwrap_err();
    assert_eq!(offset_of(err), ("limit", 0));

    let shallow = Limits {
        max_depth: 2,
        ..Limits::default()
    };
    let mut d = Decoder::with_limits(&ints, shallow);
    d.enter().unwrap();
    d.enter().unwrap();
    assert_eq!(offset_of(d.enter().unwrap_err()), ("limit", 0));
    d.leave();
    d.enter().unwrap();
}

#[test]
fn non_zero_padding_is_an_error_at_the_padding_byte() {
    let input = *b"\0\0\0\x01a\0\x07\0";
    let mut d = Decoder::new(&input);
    let err = d.get_opaque(None).unwrap_err();
    assert_eq!(offset_of(err), ("xdr", 6));
    assert_eq!(d.position(), 0, "a failed read consumes nothing");
    let err = Decoder::new(&input[4..]).get_fixed_opaque(1).unwrap_err();
    assert_eq!(offset_of(err), ("xdr", 2));
    let err = Decoder::new(&input).get_string(None).unwrap_err();
    assert!(err.to_string().contains("non-zero padding"), "{err}");
}

#[test]
fn bool_other_than_zero_or_one_is_an_error() {
    let input = [0, 0, 0, 1, 0, 0, 0, 2];
    let mut d = Decoder::new(&input);
    assert!(d.get_bool().unwrap());
    let err = d.get_bool().unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed XDR at byte 4: bool must be 0 or 1, found 2"
    );
    assert_eq!(d.position(), 4);
    assert_eq!(
        offset_of(Decoder::new(&input[4..]).get_optional().unwrap_err()),
        ("xdr", 0)
    );
}

#[test]
fn invalid_utf8_string_names_the_bad_byte() {
    let input = *b"\0\0\0\x03a\xffb\0";
    let err = Decoder::new(&input).get_string(None).unwrap_err();
    assert_eq!(offset_of(err), ("xdr", 5));
    assert_eq!(
        Decoder::new(&input).get_string_bytes(None).unwrap(),
        b"a\xffb"
    );
}

#[test]
fn truncated_scalars_fail_at_their_offset() {
    let mut d = Decoder::new(&[0, 0, 0, 1, 0, 0]);
    d.get_int().unwrap();
    assert_eq!(offset_of(d.get_int().unwrap_err()), ("xdr", 4));
    assert_eq!(offset_of(d.get_hyper().unwrap_err()), ("xdr", 4));
    assert_eq!(offset_of(d.get_quadruple().unwrap_err()), ("xdr", 4));
    let err = d.finish().unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed XDR at byte 4: 2 unread bytes after the value"
    );
}

#[test]
fn deserialize_and_serialize_mix_with_hand_coding() {
    let mut e = Encoder::new();
    e.put_uint(42);
    e.serialize(&("name", Some(7u32))).unwrap();
    e.put_bool(true);
    let bytes = e.into_bytes();
    assert_eq!(
        bytes,
        *b"\0\0\0\x2a\0\0\0\x04name\0\0\0\x01\0\0\0\x07\0\0\0\x01"
    );
    let mut d = Decoder::new(&bytes);
    assert_eq!(d.get_uint().unwrap(), 42);
    let (name, n): (&str, Option<u32>) = d.deserialize().unwrap();
    assert_eq!((name, n), ("name", Some(7)));
    assert!(d.get_bool().unwrap());
    d.finish().unwrap();

    // A failed deserialize leaves the decoder where it was, with the offset
    // of the bad byte in the whole input.
    let mut d = Decoder::new(&bytes);
    d.get_uint().unwrap();
    let err = d.deserialize::<(&str, bool, bool)>().unwrap_err();
    assert_eq!(offset_of(err), ("xdr", 16));
    assert_eq!(d.position(), 4);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn scalars_round_trip(a: i32, b: u32, c: i64, d: u64, f: f32, g: f64, t: bool, q: [u8; 16]) {
        let bytes = encoded(|e| {
            e.put_int(a);
            e.put_uint(b);
            e.put_hyper(c);
            e.put_uhyper(d);
            e.put_float(f);
            e.put_double(g);
            e.put_bool(t);
            e.put_quadruple(&q);
        });
        prop_assert_eq!(bytes.len(), 4 + 4 + 8 + 8 + 4 + 8 + 4 + 16);
        let mut x = Decoder::new(&bytes);
        prop_assert_eq!(x.get_int().unwrap(), a);
        prop_assert_eq!(x.get_uint().unwrap(), b);
        prop_assert_eq!(x.get_hyper().unwrap(), c);
        prop_assert_eq!(x.get_uhyper().unwrap(), d);
        prop_assert_eq!(x.get_float().unwrap().to_bits(), f.to_bits());
        prop_assert_eq!(x.get_double().unwrap().to_bits(), g.to_bits());
        prop_assert_eq!(x.get_bool().unwrap(), t);
        prop_assert_eq!(x.get_quadruple().unwrap(), q);
        prop_assert!(x.finish().is_ok());
    }

    #[test]
    fn opaque_and_strings_round_trip_padded(data: Vec<u8>, s: String) {
        let bytes = encoded(|e| {
            e.put_opaque(&data).unwrap();
            e.put_fixed_opaque(&data);
            e.put_string(&s).unwrap();
        });
        prop_assert_eq!(bytes.len() % 4, 0);
        let mut x = Decoder::new(&bytes);
        prop_assert_eq!(x.get_opaque(None).unwrap(), &data[..]);
        prop_assert_eq!(x.get_fixed_opaque(data.len()).unwrap(), &data[..]);
        prop_assert_eq!(x.get_string(None).unwrap(), &s[..]);
        prop_assert!(x.finish().is_ok());
        // Every truncation fails cleanly.
        for cut in 0..bytes.len() {
            let mut x = Decoder::new(&bytes[..cut]);
            let ok = x.get_opaque(None).is_ok()
                && x.get_fixed_opaque(data.len()).is_ok()
                && x.get_string(None).is_ok();
            prop_assert!(!ok, "prefix of {} bytes decoded", cut);
        }
    }

    #[test]
    fn bulk_arrays_round_trip(
        i: Vec<i32>, u: Vec<u32>, h: Vec<i64>, uh: Vec<u64>, f: Vec<f32>, d: Vec<f64>,
    ) {
        let bytes = encoded(|e| {
            e.put_int_array(&i).unwrap();
            e.put_uint_array(&u).unwrap();
            e.put_hyper_array(&h).unwrap();
            e.put_uhyper_array(&uh).unwrap();
            e.put_float_array(&f).unwrap();
            e.put_double_array(&d).unwrap();
        });
        let mut x = Decoder::new(&bytes);
        prop_assert_eq!(x.get_int_array(None).unwrap(), i);
        prop_assert_eq!(x.get_uint_array(None).unwrap(), u);
        prop_assert_eq!(x.get_hyper_array(None).unwrap(), h);
        prop_assert_eq!(x.get_uhyper_array(None).unwrap(), uh);
        let fb: Vec<u32> = x.get_float_array(None).unwrap().iter().map(|v| v.to_bits()).collect();
        prop_assert_eq!(fb, f.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        let db: Vec<u64> = x.get_double_array(None).unwrap().iter().map(|v| v.to_bits()).collect();
        prop_assert_eq!(db, d.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        prop_assert!(x.finish().is_ok());

        let mut out = vec![0u8; d.len() * 8];
        bulk::encode_doubles(&d, &mut out).unwrap();
        prop_assert_eq!(&out[..], &encoded(|e| e.put_double_slice(&d))[..]);
    }

    #[test]
    fn random_bytes_never_panic(data: Vec<u8>) {
        let mut x = Decoder::new(&data);
        let _ = x.get_string(None);
        let _ = x.get_double_array(None);
        let _ = x.get_opaque_vec(None);
        let _ = x.get_bool();
        prop_assert!(x.allocated() <= data.len());
    }
}
