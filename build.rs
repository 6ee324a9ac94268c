//! Generates `include/xipc.h` from the `extern "C"` items of `src/ffi/` and
//! gives the shared library its soname.
//!
//! The header is written to `$OUT_DIR/xipc.h` on every build; `tests/header.rs`
//! fails when the committed `include/xipc.h` differs from it. Setting
//! `XIPC_WRITE_HEADER=1` (what `make header` does) also writes the committed copy.

use std::env;
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    // cbindgen reads the whole crate, so any source change may change the header.
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=XIPC_WRITE_HEADER");

    let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
    let minor = env::var("CARGO_PKG_VERSION_MINOR").unwrap();
    let patch = env::var("CARGO_PKG_VERSION_PATCH").unwrap();
    let version = env::var("CARGO_PKG_VERSION").unwrap();
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libxipc.so.{major}");

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    config.after_includes = Some(format!(
        "\n#define XIPC_VERSION_MAJOR {major}\n#define XIPC_VERSION_MINOR {minor}\n\
         #define XIPC_VERSION_PATCH {patch}\n#define XIPC_VERSION_STRING \"{version}\"\n"
    ));
    let header = match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(bindings) => bindings,
        Err(err) => {
            // A syntax error in src/ffi is reported by rustc with a better message.
            println!("cargo:warning=cbindgen could not generate xipc.h: {err}");
            return;
        }
    };
    header.write_to_file(out_dir.join("xipc.h"));
    if env::var_os("XIPC_WRITE_HEADER").is_some_and(|v| v == "1") {
        header.write_to_file(crate_dir.join("include/xipc.h"));
    }
}
