//! Python writes, Rust reads: a Python process (the xipc package over the C
//! library) sends framed messages through a pipe end it inherited.

use std::path::PathBuf;
use std::process::Command;

use xipc::stream;

/// The shared library the Python package loads: `XIPC_LIBRARY` (set by
/// `make`), else the build tree's.
fn library() -> PathBuf {
    if let Some(path) = std::env::var_os("XIPC_LIBRARY") {
        return path.into();
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    ["release", "debug"]
        .iter()
        .map(|p| root.join("target").join(p).join("libxipc.so"))
        .find(|p| p.exists())
        .expect("libxipc.so is not built: run `make` (or set XIPC_LIBRARY)")
}

#[test]
fn python_writes_rust_reads() {
    let (reader, writer) = stream::pipe().unwrap();
    let fd = writer.set_inheritable(true).unwrap();
    let script = r#"
import sys, xipc
w = xipc.Stream.from_fd(int(sys.argv[1]))
for i in range(50):
    w.send(b"python %d" % i)
w.send(bytes(range(256)) * 1000)
w.close()
"#;
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(fd.to_string())
        .env(
            "PYTHONPATH",
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bindings/python"),
        )
        .env("XIPC_LIBRARY", library())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python} ({e}): install python3"));
    drop(writer);
    for i in 0..50 {
        let msg = reader.receive().unwrap().expect("a message");
        assert_eq!(msg, format!("python {i}").as_bytes());
    }
    let big = reader.receive().unwrap().expect("the large message");
    assert_eq!(big, (0..=255u8).collect::<Vec<_>>().repeat(1000));
    assert_eq!(reader.receive().unwrap(), None);
    assert!(child.wait().unwrap().success(), "the Python writer failed");
}
