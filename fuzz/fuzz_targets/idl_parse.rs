//! The `.x` compiler (`xipc::idl`): preprocessing, lexing, parsing and
//! checking any text, then generating C, Python and Rust from whatever
//! passes the checks. Every step either succeeds or refuses the file with
//! a positioned error; nothing panics, hangs or runs out of memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xipc::idl::{check_file, generate, Input, Lang, Options};

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    // A directory that does not exist: `#include "x"` finds nothing
    // relative to it, so runs do not depend on the current directory.
    let input = Input::text("/nonexistent-xipc-fuzz/fuzz.x", text);
    let options = Options::default();
    match check_file(&input, &options) {
        Ok(_) => {
            // Generation may still refuse what the checker lets through
            // (C reads the file again with RPC_HDR defined; Python and Rust
            // need every type defined in the file): with a positioned
            // error, never a panic.
            for lang in [Lang::C, Lang::Python, Lang::Rust] {
                match generate(&input, lang, &options) {
                    Ok(files) => assert!(!files.is_empty()),
                    Err(e) => assert!(e.pos.line >= 1, "{lang:?}: error without a line: {e}"),
                }
            }
        }
        Err(e) => {
            assert!(!e.message.is_empty());
            assert!(e.pos.line >= 1, "error without a line: {e}");
        }
    }
});
