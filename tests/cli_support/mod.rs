//! Runs the built `xipc` binary for the tests/cli_*.rs suites.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

/// What one run of `xipc` did.
#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn stdout_text(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }

    /// Asserts success and returns stdout as text.
    pub fn ok(&self) -> String {
        assert_eq!(self.status, 0, "xipc failed: {self:?}");
        assert_eq!(self.stderr, "", "a successful run wrote to stderr");
        self.stdout_text()
    }

    /// Asserts exit status `status`, an empty stdout and a one-message stderr
    /// that contains `needle`.
    pub fn fails(&self, status: i32, needle: &str) {
        assert_eq!(self.status, status, "unexpected exit status: {self:?}");
        assert!(
            self.stdout.is_empty(),
            "a failed run wrote to stdout: {self:?}"
        );
        assert!(
            self.stderr.starts_with("xipc: ") || self.stderr.starts_with("error: "),
            "stderr does not start with the program name: {self:?}"
        );
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}: {}",
            self.stderr
        );
    }
}

/// Runs `xipc args...` with `stdin` and waits for it.
pub fn xipc_with(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xipc"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xipc starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("xipc runs");
    writer.join().expect("stdin writer");
    Run {
        status: out
            .status
            .code()
            .expect("xipc exited (not killed by a signal)"),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `xipc args...` with an empty stdin.
pub fn xipc(args: &[&str]) -> Run {
    xipc_with(args, b"")
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "xipc-cli-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().expect("UTF-8 path").to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
