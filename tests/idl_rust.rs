//! Generated Rust code for tests/gen/every.x and compat.x: it compiles
//! (under clippy with -D warnings), stays in step with the generator, and
//! encodes the sample value to exactly the bytes rpcgen's routines, generated
//! C and generated Python produce (tests/interop/gen_rpcgen.sh pins those
//! golden files against rpcgen), decoding them back to the same value.

mod every {
    include!("gen/every_norpc.rs");
}

mod compat {
    include!("gen/compat_norpc.rs");
}

use xipc::idl::{generate, Input, Lang, Options, XdrType};
use xipc::xdr::{Decoder, Encoder, Limits};

fn generated(x: &str, base: &str) -> String {
    let opts = Options {
        rpc: false,
        base: Some(base.into()),
        ..Options::default()
    };
    let files = generate(&Input::path(x), Lang::Rust, &opts).unwrap();
    files[0].contents.clone()
}

#[test]
fn committed_rust_output_is_fresh() {
    for (x, base) in [("every", "every_norpc"), ("compat", "compat_norpc")] {
        let committed = std::fs::read_to_string(format!("tests/gen/{base}.rs")).unwrap();
        assert!(
            generated(&format!("tests/gen/{x}.x"), base) == committed,
            "tests/gen/{base}.rs is stale: run `xipc gen -l rust --no-rpc --base {base} -o tests/gen tests/gen/{x}.x`"
        );
    }
}

fn golden(name: &str) -> Vec<u8> {
    let hex = std::fs::read_to_string(format!("tests/gen/{name}")).unwrap();
    let hex = hex.trim();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// The sample value (as in tests/gen/every_fill.h and every_value.py), for
/// either module; `$point` builds point k, `$($q)*` adds everything's `q`.
macro_rules! sample {
    ($m:ident, $point:expr, $($q:tt)*) => {{
        use $m::*;
        let list = (1..=3).rev().fold(None, |next, value| Some(Box::new(node { value, next })));
        everything {
            i: -123456,
            u: 4000000000,
            ui: 7,
            h: -1234567890123,
            uh: 18000000000000000000,
            f: 1.5,
            d: -2.25,
            b: true,
            c: color::BLUE,
            sh: shape::OTHER,
            $($q)*
            ch: 65,
            sho: -2,
            lo: 100000,
            uch: 200,
            fo: *b"abcde",
            vo: b"xyz".to_vec(),
            bo: vec![],
            s: "hello world".into(),
            bs: "bounded".into(),
            fa: [1, 2, 3],
            va: vec![10, 20, 30, 40, 50],
            ba: vec![-1, -2],
            bools: [true, false],
            colors: vec![color::RED, color::BLUE],
            ds: vec![3.5],
            pts: vec![$point(1)],
            fpts: [$point(2), $point(3)],
            n: "nm".into(),
            ns: vec!["a".into(), "bc".into()],
            list,
            list2: None,
            opt: Some(Box::new($point(4))),
            r: result::GREEN("ok".into()),
            sp: $point(5),
            ec: color::GREEN,
            m: maybe::Default(99, b"hi".to_vec()),
            fl: flagged::TRUE("me".into()),
            co: counted::Default(5),
            il: vec![0],
            bl: b"blob".to_vec(),
            bi: [1, 2, 3],
            pal: [color::RED, color::GREEN],
        }
    }};
}

fn every_point(k: i32) -> every::point {
    every::point {
        x: 0.5 * k as f32,
        y: 1e10 + k as f64,
        h: -1 - k as i64,
        uh: 1 + k as u64,
        flag: k % 2 == 1,
        q: std::array::from_fn(|i| (k as usize + i) as u8),
    }
}

fn compat_point(k: i32) -> compat::point {
    compat::point {
        x: 0.5 * k as f32,
        y: 1e10 + k as f64,
        h: -1 - k as i64,
        uh: 1 + k as u64,
        flag: k % 2 == 1,
    }
}

#[test]
fn every_sample_matches_c_and_python_bytes() {
    let v = sample!(every, every_point, q: std::array::from_fn(|i| i as u8),);
    let bytes = golden("every_value.hex");
    assert_eq!(v.to_bytes().unwrap(), bytes);
    assert_eq!(every::everything::from_bytes(&bytes).unwrap(), v);
}

#[test]
fn compat_sample_matches_rpcgen_bytes() {
    let v = sample!(compat, compat_point,);
    let bytes = golden("compat_value.hex");
    assert_eq!(v.to_bytes().unwrap(), bytes);
    assert_eq!(compat::everything::from_bytes(&bytes).unwrap(), v);
}

#[test]
fn union_arms_round_trip() {
    use every::*;
    let cases = [
        maybe::V0,
        maybe::V1(every_point(7)),
        maybe::VNeg2(-9),
        maybe::NEGC(3),
        maybe::Default(1000, vec![1, 2, 3]),
    ];
    let wire: [&[u8]; 5] = [
        &[0, 0, 0, 0],
        &[],
        &[
            0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf7,
        ],
        &[0xff, 0xff, 0xff, 0xfb, 0, 0, 0, 3],
        &[0, 0, 0x03, 0xe8, 0, 0, 0, 3, 1, 2, 3, 0],
    ];
    for (v, w) in cases.iter().zip(wire) {
        let b = v.to_bytes().unwrap();
        if !w.is_empty() {
            assert_eq!(b, w, "{v:?}");
        }
        assert_eq!(&maybe::from_bytes(&b).unwrap(), v);
    }
    assert_eq!(flagged::FALSE.to_bytes().unwrap(), [0, 0, 0, 0]);
    assert_eq!(
        result::RED(-1).to_bytes().unwrap(),
        [0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]
    );
    // A Default holding a value that has its own arm cannot be encoded.
    assert!(maybe::Default(1, vec![]).to_bytes().is_err());
}

#[test]
fn bounds_are_enforced_when_decoding() {
    use every::*;
    // blob is opaque<64>: a length of 65 is refused before reading further.
    let mut e = Encoder::new();
    e.put_opaque(&[7u8; 65]).unwrap();
    let err = decode_blob(&mut Decoder::new(e.as_bytes())).unwrap_err();
    assert!(matches!(err, xipc::Error::Limit { offset: 0, .. }), "{err}");
    // name is string<32>.
    let mut e = Encoder::new();
    e.put_string(&"x".repeat(33)).unwrap();
    assert!(decode_name(&mut Decoder::new(e.as_bytes())).is_err());
    // names is name<4>: a count of 5 is refused.
    let mut e = Encoder::new();
    e.put_uint(5);
    for _ in 0..5 {
        e.put_string("a").unwrap();
    }
    assert!(decode_names(&mut Decoder::new(e.as_bytes())).is_err());
    // Encoding checks the bounds too.
    let mut e = Encoder::new();
    assert!(encode_blob(&vec![0u8; 65], &mut e).is_err());
    // An enum value outside the enum, a bool of 2, a missing union arm.
    assert!(color::from_bytes(&[0, 0, 0, 5]).is_err());
    assert!(flagged::from_bytes(&[0, 0, 0, 2]).is_err());
    assert!(result::from_bytes(&[0, 0, 0, 9]).is_err());
    // Truncated input fails cleanly.
    let full = golden("every_value.hex");
    for cut in [0, 3, 100, full.len() - 1] {
        assert!(
            everything::from_bytes(&full[..cut]).is_err(),
            "cut at {cut}"
        );
    }
}

#[test]
fn linked_lists_count_one_level_of_depth() {
    use every::*;
    let list = (0..100)
        .rev()
        .fold(None, |next, value| Some(Box::new(node { value, next })));
    let head = node {
        value: -1,
        next: list,
    };
    let bytes = head.to_bytes().unwrap();
    // node is a list (its last field points to itself): decoded in a loop,
    // 101 nodes pass the default depth of 64 (tests/idl_lists.rs goes on).
    assert_eq!(node::from_bytes(&bytes).unwrap(), head);
    // The chain is one level: with none allowed, the second node is refused.
    let limits = Limits {
        max_depth: 0,
        ..Limits::default()
    };
    let mut d = Decoder::with_limits(&bytes, limits);
    let err = node::decode(&mut d).unwrap_err();
    assert!(matches!(err, xipc::Error::Limit { offset: 8, .. }), "{err}");
}

/// The runtimes' well-known types are what `xipc gen` writes from
/// `WELL_KNOWN` (src/idl/wellknown.x): Rust's `xipc::idl::wellknown` and
/// Python's `xipc.wellknown`.
#[test]
fn committed_well_known_runtimes_are_fresh() {
    let input = Input::text("wellknown.x", xipc::idl::check::WELL_KNOWN);
    let opts = Options {
        rpc: false,
        ..Options::default()
    };
    for (lang, path) in [
        (Lang::Rust, "src/idl/wellknown.rs"),
        (Lang::Python, "bindings/python/xipc/wellknown.py"),
    ] {
        let committed = std::fs::read_to_string(path).unwrap();
        assert!(
            generate(&input, lang, &opts).unwrap()[0].contents == committed,
            "{path} is stale: run `xipc gen -l {} --no-rpc -o {} src/idl/wellknown.x`",
            if lang == Lang::Rust { "rust" } else { "python" },
            std::path::Path::new(path).parent().unwrap().display()
        );
    }
}

/// The well-known types in Rust: the bytes libtirpc's routines write, and
/// their defaults.
#[test]
fn well_known_types_encode_as_libtirpc_does() {
    use xipc::idl::wellknown::*;
    let cred = authsys_parms {
        stamp: 7,
        machinename: "host".into(),
        uid: 1000,
        gid: 100,
        gids: vec![10, 20],
    };
    assert_eq!(
        cred.to_bytes().unwrap(),
        b"\0\0\0\x07\0\0\0\x04host\0\0\x03\xe8\0\0\0\x64\0\0\0\x02\0\0\0\x0a\0\0\0\x14"
    );
    let mut e = xipc::xdr::Encoder::new();
    encode_netobj(&b"tok".to_vec(), &mut e).unwrap();
    encode_des_block(b"12345678", &mut e).unwrap();
    assert_eq!(e.as_bytes(), b"\0\0\0\x03tok\x0012345678");
    assert!(encode_netobj(&vec![0; 1025], &mut xipc::xdr::Encoder::new()).is_err());
    assert_eq!(authunix_parms::default(), authsys_parms::default());
    assert_eq!((MAX_NETOBJ_SZ, MAXNETNAMELEN, NGRPS), (1024, 255, 16));
}
