//! Generated Rust code for tests/gen/every.x: it compiles (under clippy
//! with -D warnings), stays in step with the generator, and round-trips.

mod every {
    include!("gen/every_norpc.rs");
}

use xipc::idl::{generate, Input, Lang, Options};

#[test]
fn committed_rust_output_is_fresh() {
    let opts = Options {
        rpc: false,
        base: Some("every_norpc".into()),
        ..Options::default()
    };
    let files = generate(&Input::path("tests/gen/every.x"), Lang::Rust, &opts).unwrap();
    let committed = std::fs::read_to_string("tests/gen/every_norpc.rs").unwrap();
    assert_eq!(
        files[0].contents, committed,
        "tests/gen/every_norpc.rs is stale: run `xipc gen -l rust --no-rpc --base every_norpc -o tests/gen tests/gen/every.x`"
    );
}
