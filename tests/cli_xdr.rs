//! `xipc xdr decode|encode`: exact bytes for a small .x file, a round trip
//! through every construct of tests/gen/every.x, bounds and limits enforced
//! with the item's path and byte offset, and the exit statuses.

#![recursion_limit = "256"]

mod cli_support;

use cli_support::{xipc, xipc_with, TempDir};
use serde_json::{json, Value};

const SMALL_X: &str = "\
enum kind { A = 1, B = 2 };
struct rec {
    int id;
    kind k;
    opaque tag<4>;
    string name<8>;
    unsigned hyper big;
    int *opt;
    int vals<2>;
};
union u switch (kind k) {
case A:
    int n;
case B:
    void;
};
";

/// rec {id -2, k B, tag 0a0b0c, name "abcde", big 1, opt 7, vals [3]}.
const REC_HEX: &str = "fffffffe 00000002 00000003 0a0b0c00 00000005 61626364 65000000 \
                       00000000 00000001 00000001 00000007 00000001 00000003";

fn small_spec(dir: &TempDir) -> String {
    let path = dir.path("small.x");
    std::fs::write(&path, SMALL_X).unwrap();
    path
}

fn every_x() -> String {
    format!("{}/tests/gen/every.x", env!("CARGO_MANIFEST_DIR"))
}

fn unhex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn encode(spec: &str, ty: &str, value: &Value) -> Vec<u8> {
    let run = xipc_with(
        &["xdr", "encode", "--spec", spec, "--type", ty],
        value.to_string().as_bytes(),
    );
    assert_eq!((run.status, run.stderr.as_str()), (0, ""), "{run:?}");
    run.stdout
}

fn decode(spec: &str, ty: &str, bytes: &[u8]) -> Value {
    let out = xipc_with(&["xdr", "decode", "--spec", spec, "--type", ty], bytes).ok();
    serde_json::from_str(&out).unwrap()
}

#[test]
fn exact_bytes_both_ways() {
    let dir = TempDir::new("xdr");
    let spec = small_spec(&dir);
    let rec = json!({"id": -2, "k": "B", "tag": "0a0b0c", "name": "abcde", "big": 1, "opt": 7, "vals": [3]});
    assert_eq!(encode(&spec, "rec", &rec), unhex(REC_HEX));
    // Decoded fields keep their declaration order.
    let text = xipc_with(
        &["xdr", "decode", "-s", &spec, "-T", "rec", "--compact"],
        &unhex(REC_HEX),
    )
    .ok();
    assert_eq!(
        text,
        "{\"id\":-2,\"k\":\"B\",\"tag\":\"0a0b0c\",\"name\":\"abcde\",\"big\":1,\"opt\":7,\"vals\":[3]}\n"
    );
    // Absent optional data, an empty array, the other enum item.
    let rec2 = json!({"id": 0, "k": "A", "tag": "", "name": "", "big": 18446744073709551615u64, "opt": null, "vals": []});
    let bytes = encode(&spec, "rec", &rec2);
    assert_eq!(
        bytes,
        unhex("00000000 00000001 00000000 00000000 ffffffffffffffff 00000000 00000000")
    );
    assert_eq!(decode(&spec, "rec", &bytes), rec2);
    // Unions: {discriminant, arm}; a void arm is null.
    let a = json!({"discriminant": "A", "arm": 5});
    assert_eq!(encode(&spec, "u", &a), unhex("00000001 00000005"));
    assert_eq!(decode(&spec, "u", &unhex("00000001 00000005")), a);
    let b = json!({"discriminant": "B", "arm": null});
    assert_eq!(encode(&spec, "u", &b), unhex("00000002"));
    assert_eq!(decode(&spec, "u", &unhex("00000002")), b);
    // Hex in and out; to a file with -o.
    let out = dir.path("rec.xdr");
    let run = xipc_with(
        &["xdr", "encode", "-s", &spec, "-T", "rec", "-o", &out],
        rec.to_string().as_bytes(),
    );
    assert_eq!(run.ok(), "");
    assert_eq!(std::fs::read(&out).unwrap(), unhex(REC_HEX));
    let hex = xipc_with(
        &["xdr", "encode", "-s", &spec, "-T", "rec", "--hex"],
        rec.to_string().as_bytes(),
    )
    .ok();
    assert_eq!(hex, format!("{}\n", REC_HEX.replace(' ', "")));
    let from_hex = xipc_with(
        &[
            "xdr",
            "decode",
            "-s",
            &spec,
            "-T",
            "rec",
            "--hex",
            "--compact",
        ],
        REC_HEX.as_bytes(),
    )
    .ok();
    assert_eq!(serde_json::from_str::<Value>(&from_hex).unwrap(), rec);
    // Decoding from a file argument.
    let run = xipc(&["xdr", "decode", "-s", &spec, "-T", "rec", &out]);
    assert_eq!(serde_json::from_str::<Value>(&run.ok()).unwrap(), rec);
}

#[test]
fn base_types_without_a_spec() {
    let cases: [(&str, Value, &str); 7] = [
        ("int", json!(-1), "ffffffff"),
        ("unsigned int", json!(4294967295u32), "ffffffff"),
        ("hyper", json!(-2), "fffffffffffffffe"),
        ("double", json!(0.5), "3fe0000000000000"),
        ("float", json!("-Infinity"), "ff800000"),
        ("string", json!("hi"), "00000002 68690000"),
        ("opaque", json!("010203"), "00000003 01020300"),
    ];
    for (ty, value, hex) in cases {
        let bytes = xipc_with(&["xdr", "encode", "-T", ty], value.to_string().as_bytes());
        assert_eq!(
            (bytes.status, bytes.stdout.clone()),
            (0, unhex(hex)),
            "{ty}"
        );
        let back = xipc_with(&["xdr", "decode", "-T", ty, "--compact"], &unhex(hex)).ok();
        assert_eq!(serde_json::from_str::<Value>(&back).unwrap(), value, "{ty}");
    }
    // A string that is not UTF-8 comes out as {"hex": ...} and goes back.
    let raw = unhex("00000002 ff000000");
    let v = xipc_with(&["xdr", "decode", "-T", "string", "--compact"], &raw).ok();
    assert_eq!(v, "{\"hex\":\"ff00\"}\n");
    let back = xipc_with(&["xdr", "encode", "-T", "string"], v.as_bytes());
    assert_eq!(back.stdout, raw);
}

fn point(x: f64, h: i64) -> Value {
    json!({"x": x, "y": -0.1, "h": h, "uh": 18446744073709551615u64, "flag": true,
           "q": "000102030405060708090a0b0c0d0e0f"})
}

/// A value of `everything` using every construct of every.x.
fn everything() -> Value {
    json!({
        "i": -2147483648, "u": 4294967295u32, "ui": 7,
        "h": -9223372036854775808i64, "uh": 18446744073709551615u64,
        "f": 1.5, "d": 1e300, "b": false, "c": "BLUE", "sh": "OTHER",
        "q": "ffeeddccbbaa99887766554433221100",
        "ch": -128, "sho": -32768, "lo": 123456, "uch": 255,
        "fo": "0102030405", "vo": "", "bo": "0102030405060708090a0b0c0d0e0f10",
        "s": "h\u{e9}llo \u{263a}", "bs": "bounded",
        "fa": [1, 2, 3], "va": [], "ba": [4, 5, 6, 7],
        "bools": [false, true], "colors": ["RED", "GREEN", "BLUE"],
        "ds": [2.5, "NaN", "Infinity", "-Infinity"],
        "pts": [point(0.25, 1), point(-3.0, -1)],
        "fpts": [point(1.0, 2), point(2.0, 3)],
        "n": "a name", "ns": ["a", "b", "", "d"],
        "list": {"value": 1, "next": {"value": 2, "next": {"value": 3, "next": null}}},
        "list2": null,
        "opt": point(9.0, 9),
        "r": {"discriminant": "RED", "arm": 42},
        "sp": point(0.0, 0),
        "ec": "GREEN",
        "m": {"discriminant": -5, "arm": 4000000000u32},
        "fl": {"discriminant": true, "arm": "who"},
        "co": {"discriminant": 9, "arm": null},
        "il": [-1, 0, 1], "bl": "00", "bi": [1, 2, 3], "pal": ["RED", "BLUE"]
    })
}

#[test]
fn every_construct_round_trips() {
    let spec = every_x();
    let value = everything();
    let bytes = encode(&spec, "everything", &value);
    assert_eq!(bytes.len() % 4, 0);
    let decoded = decode(&spec, "everything", &bytes);
    assert_eq!(
        decoded.to_string(),
        value.to_string(),
        "JSON -> XDR -> JSON"
    );
    assert_eq!(
        encode(&spec, "everything", &decoded),
        bytes,
        "XDR -> JSON -> XDR"
    );

    // The other arms of the unions.
    for (ty, v) in [
        ("maybe", json!({"discriminant": 0, "arm": null})),
        ("maybe", json!({"discriminant": 1, "arm": point(1.0, 1)})),
        ("maybe", json!({"discriminant": -2, "arm": -7})),
        (
            "maybe",
            json!({"discriminant": 77, "arm": "01020304050607"}),
        ),
        ("result", json!({"discriminant": "GREEN", "arm": "ok"})),
        ("flagged", json!({"discriminant": false, "arm": null})),
        ("counted", json!({"discriminant": 1, "arm": -1})),
    ] {
        let bytes = encode(&spec, ty, &v);
        assert_eq!(decode(&spec, ty, &bytes), v, "{ty}");
    }
    // Enum items by name, including those valued by a constant.
    assert_eq!(encode(&spec, "color", &json!("BLUE")), unhex("00000010"));
    assert_eq!(encode(&spec, "shape", &json!("OTHER")), unhex("00000008"));
    assert_eq!(encode(&spec, "color", &json!(16)), unhex("00000010"));
}

/// Runs decode and expects failure `status` with all of `needles` in stderr.
fn decode_fails(spec: &str, ty: &str, hex: &str, extra: &[&str], status: i32, needles: &[&str]) {
    let mut args = vec!["xdr", "decode", "-s", spec, "-T", ty];
    args.extend_from_slice(extra);
    let run = xipc_with(&args, &unhex(hex));
    run.fails(status, needles[0]);
    for n in needles {
        assert!(run.stderr.contains(n), "stderr lacks {n:?}: {}", run.stderr);
    }
}

#[test]
fn decoding_enforces_bounds_with_path_and_offset() {
    let dir = TempDir::new("xdr");
    let spec = small_spec(&dir);
    let rec: String = REC_HEX.split(' ').collect();
    // Truncated in the middle of a hyper, and before an array's element.
    decode_fails(&spec, "rec", &rec[..64], &[], 1, &["at .big:", "byte 28"]);
    decode_fails(
        &spec,
        "rec",
        &rec[..rec.len() - 8],
        &[],
        1,
        &[
            "at .vals:",
            "byte 44",
            "needs at least 4 bytes but only 0 remain",
        ],
    );
    // A string longer than its bound of 8.
    let long = REC_HEX.replace(
        "00000005 61626364 65000000",
        "00000009 61626364 65666768 69000000",
    );
    decode_fails(
        &spec,
        "rec",
        &long,
        &[],
        1,
        &["at .name:", "byte 16", "exceeds its bound of 8"],
    );
    // An array count above its bound of 2.
    let many = REC_HEX.replace("00000001 00000003", "00000003 00000003");
    decode_fails(
        &spec,
        "rec",
        &many,
        &[],
        1,
        &["at .vals:", "byte 44", "exceeds its bound of 2"],
    );
    // An enum value that is no item.
    let bad_enum = REC_HEX.replacen("00000002", "00000003", 1);
    decode_fails(
        &spec,
        "rec",
        &bad_enum,
        &[],
        1,
        &["at .k:", "byte 4", "3 is not a value of enum kind"],
    );
    // Non-zero padding after the opaque bytes.
    let padding = REC_HEX.replace("0a0b0c00", "0a0b0c01");
    decode_fails(
        &spec,
        "rec",
        &padding,
        &[],
        1,
        &["at .tag:", "byte 15", "non-zero padding"],
    );
    // Bytes left over.
    decode_fails(
        &spec,
        "rec",
        &format!("{rec}00000000"),
        &[],
        1,
        &["4 unread bytes", "byte 52"],
    );
    // A union discriminant with no arm.
    decode_fails(
        &spec,
        "u",
        "00000005",
        &[],
        1,
        &["at the top level", "5 is not a value of enum kind"],
    );
    // A hostile length: refused before allocating.
    decode_fails(
        &spec,
        "opaque",
        "ffffffff",
        &[],
        1,
        &["byte 0", "exceeds the item limit"],
    );
    // Nesting deeper than --max-depth.
    let list = "00000001 00000001".repeat(5) + "00000001 00000000";
    decode_fails(
        &every_x(),
        "node",
        &list,
        &["--max-depth", "4"],
        1,
        &["nesting deeper than the limit of 4"],
    );
    let run = xipc_with(
        &["xdr", "decode", "-s", &every_x(), "-T", "node", "--compact"],
        &unhex(&list),
    );
    assert!(run.ok().starts_with("{\"value\":1,\"next\":{\"value\":1,"));
}

fn encode_fails(spec: &str, ty: &str, value: &Value, needles: &[&str]) {
    let run = xipc_with(
        &["xdr", "encode", "-s", spec, "-T", ty],
        value.to_string().as_bytes(),
    );
    run.fails(1, needles[0]);
    for n in needles {
        assert!(run.stderr.contains(n), "stderr lacks {n:?}: {}", run.stderr);
    }
}

#[test]
fn encoding_checks_the_json_against_the_type() {
    let dir = TempDir::new("xdr");
    let spec = small_spec(&dir);
    let ok = json!({"id": 1, "k": "A", "tag": "", "name": "", "big": 0, "opt": null, "vals": []});
    let with = |key: &str, v: Value| {
        let mut x = ok.clone();
        x[key] = v;
        x
    };
    let mut missing = ok.clone();
    missing.as_object_mut().unwrap().shift_remove("name");
    encode_fails(
        &spec,
        "rec",
        &missing,
        &["field name of struct rec is missing"],
    );
    encode_fails(
        &spec,
        "rec",
        &with("extra", json!(1)),
        &["struct rec has no field \"extra\""],
    );
    encode_fails(
        &spec,
        "rec",
        &with("id", json!(2147483648u32)),
        &["at .id:", "expected an int"],
    );
    encode_fails(
        &spec,
        "rec",
        &with("k", json!("C")),
        &["at .k:", "expected an item of enum kind (A, B)"],
    );
    encode_fails(
        &spec,
        "rec",
        &with("tag", json!("0102030405")),
        &["at .tag:", "opaque length of 5 exceeds its bound of 4"],
    );
    encode_fails(
        &spec,
        "rec",
        &with("tag", json!("xyz")),
        &["at .tag:", "expected hex"],
    );
    encode_fails(
        &spec,
        "rec",
        &with("vals", json!([1, 2, 3])),
        &["at .vals:", "array count of 3 exceeds its bound of 2"],
    );
    encode_fails(
        &spec,
        "rec",
        &with("vals", json!([1, "2"])),
        &["at .vals[1]:", "expected an int"],
    );
    encode_fails(
        &spec,
        "u",
        &json!({"discriminant": "B", "arm": 1}),
        &["at .arm:", "this arm is void"],
    );
    encode_fails(
        &spec,
        "u",
        &json!({"arm": 1}),
        &["expected {\"discriminant\": ..., \"arm\": ...} for union u"],
    );
    let run = xipc_with(&["xdr", "encode", "-s", &spec, "-T", "rec"], b"{not json");
    run.fails(1, "the input is not JSON");
}

#[test]
fn spec_and_type_errors_have_their_exit_status() {
    let dir = TempDir::new("xdr");
    let spec = small_spec(&dir);
    xipc(&["xdr", "decode", "-s", &spec, "-T", "nope"]).fails(2, "type \"nope\" is not defined in");
    let run = xipc(&["xdr", "decode", "-s", &spec, "-T", "nope"]);
    assert!(
        run.stderr.contains("its types are: kind, rec, u"),
        "{}",
        run.stderr
    );
    xipc(&["xdr", "decode", "-T", "rec"]).fails(2, "give the .x file with --spec");
    xipc(&["xdr", "decode", "-s", &dir.path("missing.x"), "-T", "rec"])
        .fails(4, "missing.x: no such file");
    let broken = dir.path("broken.x");
    std::fs::write(&broken, "struct s { int a; \n int; };\n").unwrap();
    xipc(&["xdr", "encode", "-s", &broken, "-T", "s"]).fails(1, "broken.x:2:");
    xipc(&["xdr", "decode", "-s", &spec]).fails(2, "--type <NAME>");
    xipc(&["xdr", "decode", "-T", "int", &dir.path("none.bin")]).fails(4, "cannot read");
}

#[test]
fn help_for_every_xdr_command() {
    for cmd in ["decode", "encode"] {
        let text = xipc(&["xdr", cmd, "--help"]).ok();
        assert!(text.contains(&format!("Usage: xipc xdr {cmd}")), "{text}");
    }
    let version = xipc(&["--version"]).ok();
    assert_eq!(version, format!("xipc {}\n", env!("CARGO_PKG_VERSION")));
}

/// Every command's help ends with the same exit-status table, the
/// commands of `gen` and `rpcbind` too.
#[test]
fn every_help_ends_with_the_exit_status_table() {
    let top = xipc(&["--help"]).ok();
    let table = &top[top.find("Exit status:").expect("xipc --help has the table")..];
    assert!(table.contains("\n  4  not found"), "{table}");
    for path in [
        &["gen"][..],
        &["rpcbind"],
        &["mq"],
        &["mq", "send"],
        &["mq", "recv"],
        &["rpc", "ping"],
        &["rpc", "dump"],
        &["xdr", "decode"],
        &["xdr", "encode"],
    ] {
        let mut args = path.to_vec();
        args.push("--help");
        let text = xipc(&args).ok();
        assert!(
            text.ends_with(table),
            "xipc {} --help:\n{text}",
            path.join(" ")
        );
    }
}
