//! Reading input, writing output, hex text and durations on the command line.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::time::Duration;

use crate::fail::{Context, Failure, Outcome};

/// Reads all of `path`, or of stdin when `path` is None or "-".
pub fn read_input(path: Option<&Path>) -> Outcome<Vec<u8>> {
    let mut data = Vec::new();
    match path {
        Some(p) if p != Path::new("-") => {
            data = std::fs::read(p).context(format_args!("cannot read {}", p.display()))?;
        }
        _ => {
            std::io::stdin()
                .lock()
                .read_to_end(&mut data)
                .context("cannot read stdin")?;
        }
    }
    Ok(data)
}

/// Writes `data` to `path`, or to stdout when `path` is None or "-".
pub fn write_output(path: Option<&Path>, data: &[u8]) -> Outcome {
    match path {
        Some(p) if p != Path::new("-") => {
            std::fs::write(p, data).context(format_args!("cannot write {}", p.display()))
        }
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(data)
                .and_then(|()| out.flush())
                .context("cannot write to stdout")
        }
    }
}

/// True when stdout is a terminal (binary output is then shown as hex).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Lower-case hex digits of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Bytes from hex text; white space between digit pairs is ignored.
pub fn from_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err(format!(
            "hex text has an odd number of digits ({})",
            digits.len()
        ));
    }
    let value = |d: u8, i: usize| -> Result<u8, String> {
        (d as char)
            .to_digit(16)
            .map(|v| v as u8)
            .ok_or_else(|| format!("{:?} at hex digit {i} is not a hex digit", d as char))
    };
    digits
        .chunks_exact(2)
        .enumerate()
        .map(|(i, pair)| Ok(value(pair[0], 2 * i)? << 4 | value(pair[1], 2 * i + 1)?))
        .collect()
}

/// Parses seconds ("2", "0.5") into a duration, for clap.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("{text:?} is not a duration (seconds, 0 or more)"))
}

/// A failure for bad hex input.
pub fn bad_hex(what: &str, why: String) -> Failure {
    Failure::failed(format!("{what} is not hex: {why}"))
}

/// Prints `v` as indented JSON and a newline.
pub fn print_json(v: &serde_json::Value) -> Outcome {
    let mut text = serde_json::to_string_pretty(v).expect("a JSON value serializes");
    text.push('\n');
    write_output(None, text.as_bytes())
}
