//! Hostile `.x` files: the compiler refuses them with a positioned error in
//! little time, instead of expanding or recursing without end.

use std::time::{Duration, Instant};

use xipc::idl::{check_file, Input, Options};

fn check(text: &str) -> Result<(), String> {
    check_file(&Input::text("hostile.x", text), &Options::default())
        .map(drop)
        .map_err(|e| e.to_string())
}

#[test]
fn exponential_macro_expansion_is_cut_short() {
    // Each macro doubles the one before: A40 would be 2^41 tokens.
    let mut text = String::from("#define A0 x x\n");
    for i in 1..=40 {
        text += &format!("#define A{i} A{j} A{j}\n", j = i - 1);
    }
    text += "const C = A40;\n";
    let started = Instant::now();
    let err = check(&text).unwrap_err();
    assert!(err.starts_with("hostile.x:42:11: error: macro A"), "{err}");
    assert!(
        err.ends_with(": more than 262144 macro expansions in one file"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );

    // Macros that expand to nothing cost work too.
    let mut text = String::from("#define E0\n");
    for i in 1..=40 {
        text += &format!("#define E{i} E{j} E{j}\n", j = i - 1);
    }
    text += "E40\n";
    assert!(check(&text)
        .unwrap_err()
        .contains("macro expansions in one file"));
}

#[test]
fn self_reference_and_deep_structures_are_errors() {
    let err = check("#define A B\n#define B A\nconst C = A;\n").unwrap_err();
    assert!(err.starts_with("hostile.x:3:11: error:"), "{err}");
    // A struct containing itself by value has no finite encoding.
    let err = check("struct s { int a; s inner; };\n").unwrap_err();
    assert!(err.starts_with("hostile.x:1:"), "{err}");
}
