//! The library carries no OpenSSL: TLS is rustls with the ring provider.
//! Neither its dependency graph nor the shared library that Cargo built
//! may bring in OpenSSL.

use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn no_dependency_of_the_library_is_openssl_sys() {
    // The library's own dependencies (no dev or build dependencies), with
    // every feature, on this platform, as Cargo.lock pins them; offline:
    // the build has downloaded every package the graph needs.
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--locked",
            "--offline",
            "--all-features",
            "-e",
            "normal",
        ])
        .args(["-i", "openssl-sys", "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the library depends on OpenSSL (openssl-sys), which it must not:\n{stdout}"
    );
    assert!(
        stderr.contains("did not match any packages"),
        "`cargo tree -e normal -i openssl-sys` failed for another reason: {stderr}"
    );
}

/// The shared library Cargo built beside this test's program (in the
/// profile's `deps` directory, as the tests link the same build).
fn built_library() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let lib = exe.parent().unwrap().join("libxipc.so");
    assert!(
        lib.exists(),
        "{} is missing: Cargo builds it with the tests (crate-type cdylib)",
        lib.display()
    );
    lib
}

/// The libraries `lib` loads, as `ldd` lists them (dependencies of
/// dependencies included).
fn loads(lib: &Path) -> String {
    let out = Command::new("ldd")
        .arg(lib)
        .output()
        .expect("ldd runs (Debian package libc-bin)");
    assert!(
        out.status.success(),
        "ldd {}: {}",
        lib.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_shared_library_does_not_link_openssl() {
    // This build, and the release library the Python and C tests load
    // when it is there (the Makefile names it in XIPC_LIBRARY).
    let mut libs = vec![built_library()];
    if let Some(release) = std::env::var_os("XIPC_LIBRARY").map(PathBuf::from) {
        if release.exists() {
            libs.push(release);
        }
    }
    for lib in libs {
        let listed = loads(&lib);
        assert!(listed.contains("libc.so"), "ldd lists nothing: {listed}");
        let openssl: Vec<&str> = listed
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("libssl") || l.starts_with("libcrypto"))
            .collect();
        assert!(
            openssl.is_empty(),
            "{} links OpenSSL, which it must not: {openssl:?}",
            lib.display()
        );
    }
}
