//! Whole-slice conversions between native numbers and XDR's big-endian
//! units: the hot path of numeric users, written so the compiler turns each
//! loop into vector byte swaps.
//!
//! ```
//! use xipc::xdr::bulk;
//!
//! let values = [1.5f64, -2.0];
//! let mut wire = [0u8; 16];
//! bulk::encode_doubles(&values, &mut wire)?;
//! assert_eq!(wire[..8], 1.5f64.to_be_bytes());
//! let mut back = [0f64; 2];
//! bulk::decode_doubles(&wire, &mut back)?;
//! assert_eq!(back, values);
//! // The output must have exactly the room the values need.
//! assert!(bulk::encode_doubles(&values, &mut [0u8; 15]).is_err());
//! # Ok::<(), xipc::Error>(())
//! ```

use crate::{Error, Result};

macro_rules! bulk {
    ($enc:ident, $dec:ident, $t:ty, $size:expr) => {
        /// Writes `values` as XDR into `out`, which must be exactly
        /// `values.len()` × the item size long.
        pub fn $enc(values: &[$t], out: &mut [u8]) -> Result<()> {
            check_len(values.len(), $size, out.len())?;
            for (o, v) in out.chunks_exact_mut($size).zip(values) {
                o.copy_from_slice(&v.to_be_bytes());
            }
            Ok(())
        }

        /// Reads `out.len()` items of XDR from `data`, which must be exactly
        /// `out.len()` × the item size long.
        pub fn $dec(data: &[u8], out: &mut [$t]) -> Result<()> {
            check_len(out.len(), $size, data.len())?;
            for (v, c) in out.iter_mut().zip(data.chunks_exact($size)) {
                *v = <$t>::from_be_bytes(c.try_into().expect("chunk size"));
            }
            Ok(())
        }
    };
}

fn check_len(count: usize, size: usize, bytes: usize) -> Result<()> {
    match count.checked_mul(size) {
        Some(n) if n == bytes => Ok(()),
        _ => Err(Error::InvalidArgument(format!(
            "{count} items of {size} bytes do not fill a buffer of {bytes} bytes"
        ))),
    }
}

bulk!(encode_ints, decode_ints, i32, 4);
bulk!(encode_uints, decode_uints, u32, 4);
bulk!(encode_hypers, decode_hypers, i64, 8);
bulk!(encode_uhypers, decode_uhypers, u64, 8);
bulk!(encode_floats, decode_floats, f32, 4);
bulk!(encode_doubles, decode_doubles, f64, 8);
