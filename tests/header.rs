//! The committed `include/xipc.h` must be what cbindgen generates now.

#[test]
fn committed_header_is_current() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/xipc.h"));
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/xipc.h"))
        .expect("include/xipc.h exists");
    assert!(
        generated == committed,
        "include/xipc.h is stale: run `make header` and commit it"
    );
}
