//! The `.x` compiler (`xipc::idl`): preprocessing, lexing, parsing and
//! checking any text, then generating C, Python and Rust from whatever
//! passes the checks. A file is either refused with a positioned error or
//! turned into code for every language; nothing panics or hangs.
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
            for lang in [Lang::C, Lang::Python, Lang::Rust] {
                let files = generate(&input, lang, &options)
                    .unwrap_or_else(|e| panic!("checked but {lang:?} generation failed: {e}"));
                assert!(!files.is_empty());
            }
        }
        Err(e) => {
            assert!(!e.message.is_empty());
            assert!(e.pos.line >= 1, "error without a line: {e}");
        }
    }
});
