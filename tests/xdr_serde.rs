//! The serde XDR format: the exact bytes of every mapped type, the RFC 4506
//! section 7 example, round trips of random values (three laws: decode
//! inverts encode, the size is a multiple of 4, and every truncation fails
//! cleanly), zero-copy borrowing, and hostile input.

use std::collections::BTreeMap;
use std::fmt::Debug;

use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use xipc::xdr::{from_slice, from_slice_with_limits, to_vec, to_writer, Limits};
use xipc::Error;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Encodes `value`, checks the hex of its bytes, and decodes it back.
#[track_caller]
fn exact<T>(value: T, want: &str)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let bytes = to_vec(&value).unwrap();
    assert_eq!(hex(&bytes), want.replace(' ', ""), "encoding {value:?}");
    assert_eq!(from_slice::<T>(&bytes).unwrap(), value);
}

/// The kind and offset of an XDR or limit error; panics on anything else.
#[track_caller]
fn located<T: Debug>(result: Result<T, Error>) -> (&'static str, usize) {
    match result {
        Err(Error::Xdr { offset, .. }) => ("xdr", offset),
        Err(Error::Limit { offset, .. }) => ("limit", offset),
        other => panic!("expected an XDR or limit error, got {other:?}"),
    }
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Unit;

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Meters(u32);

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Pair(i16, bool);

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum Shape {
    Empty,
    Circle(u32),
    Rect(u16, u16),
    Named { id: u8, label: String },
}

#[test]
fn integers_narrower_than_32_bits_widen_like_rpcgen() {
    exact(-1i8, "ffffffff");
    exact(200u8, "000000c8");
    exact(-2i16, "fffffffe");
    exact(65535u16, "0000ffff");
    exact(i32::MIN, "80000000");
    exact(u32::MAX, "ffffffff");
    exact(-1i64, "ffffffff ffffffff");
    exact(1u64 << 32, "00000001 00000000");
}

#[test]
fn scalars_map_to_their_xdr_types() {
    exact(true, "00000001");
    exact(false, "00000000");
    exact(1.0f32, "3f800000");
    exact(-2.5f64, "c004000000000000");
    exact('é', "000000e9");
    exact('😀', "0001f600");
    exact((), "");
    exact(Unit, "");
    exact(Meters(3), "00000003");
}

#[test]
fn strings_and_bytes_are_counted_and_padded() {
    exact(String::new(), "00000000");
    exact("abc".to_string(), "00000003 61626300");
    exact("abcd".to_string(), "00000004 61626364");
    exact(
        serde_bytes::ByteBuf::from(vec![1, 2, 3, 4, 5]),
        "00000005 01020304 05000000",
    );
    // Without serde_bytes a Vec<u8> is an array of widened unsigned ints.
    exact(vec![1u8, 2], "00000002 00000001 00000002");
}

#[test]
fn compounds_map_to_arrays_optionals_unions_and_structs() {
    exact(None::<u32>, "00000000");
    exact(Some(7u32), "00000001 00000007");
    exact(vec![1u32, 2], "00000002 00000001 00000002");
    exact(Vec::<u64>::new(), "00000000");
    exact([1u16, 2, 3], "00000001 00000002 00000003");
    exact((5u32, true, -1i64), "00000005 00000001 ffffffffffffffff");
    exact(Pair(-1, false), "ffffffff 00000000");
    exact(Shape::Empty, "00000000");
    exact(Shape::Circle(9), "00000001 00000009");
    exact(Shape::Rect(2, 3), "00000002 00000002 00000003");
    exact(
        Shape::Named {
            id: 4,
            label: "x".into(),
        },
        "00000003 00000004 00000001 78000000",
    );
    exact(
        BTreeMap::from([(1u32, "a".to_string()), (2, "bc".to_string())]),
        "00000002 00000001 00000001 61000000 00000002 00000002 62630000",
    );
}

// RFC 4506 section 7: the "file" structure and its 48-byte encoding.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
enum FileType {
    Text,
    Data { creator: String },
    Exec { interpretor: String },
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct File {
    filename: String,
    kind: FileType,
    owner: String,
    #[serde(with = "serde_bytes")]
    data: Vec<u8>,
}

#[test]
fn rfc4506_section_7_file_example_is_48_bytes() {
    let file = File {
        filename: "sillyprog".into(),
        kind: FileType::Exec {
            interpretor: "lisp".into(),
        },
        owner: "john".into(),
        data: b"(quit)".to_vec(),
    };
    let bytes = to_vec(&file).unwrap();
    let want: [u8; 48] = [
        0x00, 0x00, 0x00, 0x09, // length of file name = 9
        0x73, 0x69, 0x6c, 0x6c, // "sill"
        0x79, 0x70, 0x72, 0x6f, // "ypro"
        0x67, 0x00, 0x00, 0x00, // "g" and 3 zero bytes of padding
        0x00, 0x00, 0x00, 0x02, // file kind EXEC = 2
        0x00, 0x00, 0x00, 0x04, // length of interpretor = 4
        0x6c, 0x69, 0x73, 0x70, // "lisp"
        0x00, 0x00, 0x00, 0x04, // length of owner = 4
        0x6a, 0x6f, 0x68, 0x6e, // "john"
        0x00, 0x00, 0x00, 0x06, // length of file data = 6
        0x28, 0x71, 0x75, 0x69, // "(qui"
        0x74, 0x29, 0x00, 0x00, // "t)" and 2 zero bytes of padding
    ];
    assert_eq!(bytes, want);
    assert_eq!(from_slice::<File>(&bytes).unwrap(), file);
}

#[test]
fn to_writer_writes_what_to_vec_returns() {
    let value = (Shape::Rect(1, 2), "hi", Some(vec![1.5f64]));
    let mut out = Vec::new();
    to_writer(&mut out, &value).unwrap();
    assert_eq!(out, to_vec(&value).unwrap());
}

#[derive(Deserialize, Debug)]
struct Borrowed<'a> {
    name: &'a str,
    #[serde(with = "serde_bytes")]
    payload: &'a [u8],
}

#[test]
fn strs_and_byte_slices_borrow_from_the_input() {
    let input = b"\0\0\0\x02hi\0\0\0\0\0\x03xyz\0";
    let b: Borrowed = from_slice(input).unwrap();
    assert_eq!((b.name, b.payload), ("hi", &b"xyz"[..]));
    let range = input.as_ptr_range();
    assert!(range.contains(&b.name.as_ptr()));
    assert!(range.contains(&b.payload.as_ptr()));
}

#[test]
fn what_xdr_cannot_express_is_unsupported() {
    fn unsupported<T: Debug>(r: Result<T, Error>) -> String {
        match r {
            Err(Error::Unsupported(why)) => why,
            other => panic!("expected Unsupported, got {other:?}"),
        }
    }
    assert!(unsupported(to_vec(&1i128)).contains("i128"));
    assert!(unsupported(to_vec(&1u128)).contains("u128"));
    assert!(unsupported(from_slice::<i128>(&[0; 16])).contains("i128"));

    #[derive(Deserialize, Debug)]
    #[serde(untagged)]
    #[allow(dead_code)]
    enum Guess {
        A(u32),
        B(String),
    }
    assert!(unsupported(from_slice::<Guess>(&[0; 4])).contains("not self-describing"));

    #[derive(Serialize)]
    struct Sparse {
        #[serde(skip_serializing_if = "Option::is_none")]
        maybe: Option<u32>,
    }
    assert!(unsupported(to_vec(&Sparse { maybe: None })).contains("maybe"));
    assert!(to_vec(&Sparse { maybe: Some(1) }).is_ok());

    struct Unsized;
    impl Serialize for Unsized {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq((0..3u32).filter(|i| i % 2 == 0))
        }
    }
    assert!(unsupported(to_vec(&Unsized)).contains("unknown length"));
}

#[test]
fn narrow_integers_and_chars_are_range_checked() {
    assert_eq!(located(from_slice::<u8>(&[0, 0, 1, 0])), ("xdr", 0));
    assert_eq!(located(from_slice::<i8>(&[0, 0, 0, 0x80])), ("xdr", 0));
    assert_eq!(located(from_slice::<i16>(&[0, 1, 0, 0])), ("xdr", 0));
    assert_eq!(
        located(from_slice::<u16>(&[0xff, 0xff, 0xff, 0xff])),
        ("xdr", 0)
    );
    assert_eq!(
        located(from_slice::<(u32, char)>(&[0, 0, 0, 0, 0, 0, 0xd8, 0])),
        ("xdr", 4)
    );
    let err = from_slice::<u8>(&[0, 0, 1, 0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed XDR at byte 0: 256 does not fit u8"
    );
}

#[test]
fn unknown_union_discriminant_is_an_error_at_its_offset() {
    let input = [0, 0, 0, 1, 0, 0, 0, 9];
    assert_eq!(located(from_slice::<(u32, Shape)>(&input)), ("xdr", 4));
    let err = from_slice::<(u32, Shape)>(&input).unwrap_err();
    assert!(err.to_string().contains("union discriminant 9"), "{err}");
}

#[test]
fn hostile_length_prefix_fails_before_allocating() {
    let input = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0, 0, 0, 2];
    for limits in [Limits::default(), Limits::unlimited()] {
        assert_eq!(
            located(from_slice_with_limits::<String>(&input, limits)).1,
            0
        );
        assert_eq!(
            located(from_slice_with_limits::<Vec<u32>>(&input, limits)).1,
            0
        );
        assert_eq!(
            located(from_slice_with_limits::<Vec<()>>(&input, limits)).1,
            0
        );
        assert_eq!(
            located(from_slice_with_limits::<BTreeMap<u32, u32>>(&input, limits)).1,
            0
        );
        assert_eq!(
            located(from_slice_with_limits::<serde_bytes::ByteBuf>(
                &input, limits
            ))
            .1,
            0
        );
    }
    let err = from_slice_with_limits::<Vec<u64>>(&input, Limits::unlimited()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed XDR at byte 0: array count 4294967295 needs at least 17179869180 bytes but only 8 remain"
    );
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Node {
    value: u32,
    next: Option<Box<Node>>,
}

#[test]
fn deep_nesting_is_a_limit_error_not_a_stack_overflow() {
    // A linked list 10,000 nodes deep, written by hand (building and dropping
    // such a value would itself recurse 10,000 deep).
    let mut input = Vec::new();
    for i in 0..10_000u32 {
        input.extend_from_slice(&i.to_be_bytes());
        input.extend_from_slice(&1u32.to_be_bytes());
    }
    input.extend_from_slice(&[0; 8]);
    let err = from_slice::<Node>(&input).unwrap_err();
    assert!(matches!(err, Error::Limit { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("nesting deeper than the limit of 64"),
        "{err}"
    );
    // Each node is a struct and an optional: two levels.
    assert_eq!(located(from_slice::<Node>(&input)), ("limit", 31 * 8 + 8));

    // A short list decodes, and a raised limit admits a longer one.
    let mut list = None;
    for value in (0..20).rev() {
        list = Some(Box::new(Node { value, next: list }));
    }
    let list = *list.unwrap();
    let bytes = to_vec(&list).unwrap();
    assert_eq!(bytes.len(), 20 * 8);
    assert_eq!(from_slice::<Node>(&bytes).unwrap(), list);
    let shallow = Limits {
        max_depth: 20,
        ..Limits::default()
    };
    assert_eq!(
        located(from_slice_with_limits::<Node>(&bytes, shallow)).0,
        "limit"
    );
}

#[test]
fn non_zero_padding_and_bad_bools_fail_with_offsets() {
    let input = b"\0\0\0\x01\0\0\0\x01a\0\x01\0";
    assert_eq!(located(from_slice::<(u32, String)>(input)), ("xdr", 10));
    let err = from_slice::<(u32, String)>(input).unwrap_err();
    assert!(err.to_string().contains("non-zero padding"), "{err}");
    let err = from_slice::<(bool, bool)>(&[0, 0, 0, 1, 0, 0, 0, 2]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed XDR at byte 4: bool must be 0 or 1, found 2"
    );
    // An optional's flag is a bool too.
    assert_eq!(
        located(from_slice::<Option<u32>>(&[0, 0, 0, 2, 0, 0, 0, 0])),
        ("xdr", 0)
    );
}

#[test]
fn trailing_bytes_and_allocation_limits_are_errors() {
    assert_eq!(
        located(from_slice::<u32>(&[0, 0, 0, 1, 0, 0, 0, 0])),
        ("xdr", 4)
    );
    let bytes = to_vec(&vec!["abcdefgh".to_string(); 4]).unwrap();
    let tight = Limits {
        max_alloc: 40,
        ..Limits::default()
    };
    // 16 bytes for the 4 elements, then 8 per string: the fourth string
    // (at byte 40) would pass the limit.
    assert_eq!(
        located(from_slice_with_limits::<Vec<String>>(&bytes, tight)),
        ("limit", 40)
    );
    let few = Limits {
        max_elements: 3,
        ..Limits::default()
    };
    assert_eq!(
        located(from_slice_with_limits::<Vec<String>>(&bytes, few)),
        ("limit", 0)
    );
}

/// The three laws for one value: decode inverts encode, the size is a
/// multiple of 4, and every proper prefix fails with an error, not a panic.
fn laws<T>(value: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let bytes = to_vec(value).unwrap();
    prop_assert_eq!(bytes.len() % 4, 0);
    prop_assert_eq!(&from_slice::<T>(&bytes).unwrap(), value);
    let step = (bytes.len() / 64).max(1);
    for cut in (0..bytes.len()).step_by(step) {
        prop_assert!(from_slice::<T>(&bytes[..cut]).is_err(), "prefix {}", cut);
    }
    Ok(())
}

/// Floats compared by their bits, so NaN round-trips too.
#[derive(Serialize, Deserialize, Debug, Clone)]
struct Floats(f32, f64);

impl PartialEq for Floats {
    fn eq(&self, other: &Floats) -> bool {
        self.0.to_bits() == other.0.to_bits() && self.1.to_bits() == other.1.to_bits()
    }
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Everything {
    b: bool,
    small: (i8, u8, i16, u16),
    ints: (i32, u32, i64, u64),
    floats: Floats,
    c: char,
    s: String,
    #[serde(with = "serde_bytes")]
    blob: Vec<u8>,
    fixed: [u16; 5],
    list: Vec<i64>,
    maybe: Option<String>,
    shape: Shape,
    map: BTreeMap<u32, Vec<String>>,
    unit: (),
    marker: Unit,
    nested: Vec<Option<Pair>>,
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Shape::Empty),
        any::<u32>().prop_map(Shape::Circle),
        any::<(u16, u16)>().prop_map(|(w, h)| Shape::Rect(w, h)),
        (any::<u8>(), ".{0,9}").prop_map(|(id, label)| Shape::Named { id, label }),
    ]
}

fn everything() -> impl Strategy<Value = Everything> {
    (
        (
            any::<bool>(),
            any::<(i8, u8, i16, u16)>(),
            any::<(i32, u32, i64, u64)>(),
        ),
        (any::<f32>(), any::<f64>(), any::<char>(), ".{0,20}"),
        (
            prop::collection::vec(any::<u8>(), 0..20),
            any::<[u16; 5]>(),
            prop::collection::vec(any::<i64>(), 0..8),
            prop::option::of(".{0,5}"),
        ),
        (
            shape(),
            prop::collection::btree_map(any::<u32>(), prop::collection::vec(".{0,4}", 0..3), 0..4),
            prop::collection::vec(prop::option::of(any::<(i16, bool)>()), 0..4),
        ),
    )
        .prop_map(
            |((b, small, ints), (f, d, c, s), (blob, fixed, list, maybe), (shape, map, nested))| {
                Everything {
                    b,
                    small,
                    ints,
                    floats: Floats(f, d),
                    c,
                    s,
                    blob,
                    fixed,
                    list,
                    maybe,
                    shape,
                    map,
                    unit: (),
                    marker: Unit,
                    nested: nested
                        .into_iter()
                        .map(|o| o.map(|(a, b)| Pair(a, b)))
                        .collect(),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_type_obeys_the_laws(v in everything()) {
        laws(&v.b)?;
        laws(&v.small)?;
        laws(&v.ints)?;
        laws(&v.floats)?;
        laws(&v.c)?;
        laws(&v.s)?;
        laws(&serde_bytes::ByteBuf::from(v.blob.clone()))?;
        laws(&v.fixed)?;
        laws(&v.list)?;
        laws(&v.maybe)?;
        laws(&v.shape)?;
        laws(&v.map)?;
        laws(&v.nested)?;
        laws(&v)?;
    }

    #[test]
    fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = from_slice::<Everything>(&data);
        let _ = from_slice::<Vec<Shape>>(&data);
        let _ = from_slice::<Node>(&data);
        let _ = from_slice::<BTreeMap<String, Option<Vec<u8>>>>(&data);
    }
}
