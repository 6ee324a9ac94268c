//! The XDR `Decoder` driven by the input: a program of reads (one byte per
//! read) run over the data that follows it, under limits the input picks.
//!
//! Input: `[limits, n, op_1 .. op_n, data ..]`. Each op's low 5 bits pick a
//! read, its high 3 bits a parameter (a bound or a fixed size).
//!
//! Checked after every read: a failure is an XDR or limit error at an offset
//! inside the input and leaves the position where it was; a success moves
//! the position by a multiple of 4 and returns no more than the bounds,
//! limits and input allow; the decoder never charges more than `max_alloc`
//! and nests no deeper than `max_depth`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xipc::xdr::Decoder;
use xipc_fuzz::{assert_decode_error, limits_from};

/// A bound for `T<max>` reads: none, or one of a few small values.
fn bound(param: u8) -> Option<u32> {
    match param {
        0 => None,
        p => Some(u32::from(p - 1) * 3),
    }
}

fn check_len(len: usize, max: Option<u32>, limit: usize) {
    if let Some(max) = max {
        assert!(len <= max as usize, "{len} items past the bound {max}");
    }
    assert!(len <= limit, "{len} past the limit {limit}");
}

fuzz_target!(|input: &[u8]| {
    let [selector, n, rest @ ..] = input else {
        return;
    };
    let n = usize::from(*n).min(rest.len());
    let (ops, data) = rest.split_at(n);
    let limits = limits_from(*selector);
    let mut dec = Decoder::with_limits(data, limits);
    let mut depth = 0usize;

    for &op in ops {
        let param = op >> 5;
        let before = dec.position();
        let remaining = data.len() - before;
        let max = bound(param);
        let outcome: xipc::Result<()> = match op & 31 {
            0 => dec.get_int().map(drop),
            1 => dec.get_uint().map(drop),
            2 => dec.get_enum().map(drop),
            3 => dec.get_bool().map(drop),
            4 => dec.get_hyper().map(drop),
            5 => dec.get_uhyper().map(drop),
            6 => dec.get_float().map(drop),
            7 => dec.get_double().map(drop),
            8 => dec.get_quadruple().map(drop),
            9 => dec.get_void(),
            10 => {
                let size = usize::from(param) * 5;
                dec.get_fixed_opaque(size)
                    .map(|b| assert_eq!(b.len(), size))
            }
            11 => dec
                .get_opaque(max)
                .map(|b| check_len(b.len(), max, limits.max_item_bytes)),
            12 => dec
                .get_opaque_vec(max)
                .map(|b| check_len(b.len(), max, limits.max_item_bytes)),
            13 => dec
                .get_string_bytes(max)
                .map(|b| check_len(b.len(), max, limits.max_item_bytes)),
            14 => dec
                .get_string(max)
                .map(|s| check_len(s.len(), max, limits.max_item_bytes)),
            15 => {
                let size = usize::from(param).max(1) * 4;
                dec.get_count(max, size).map(|count| {
                    check_len(count, max, limits.max_elements);
                    assert!(
                        count * size <= remaining - 4,
                        "count {count} past the input"
                    );
                })
            }
            16 => dec.get_optional().map(drop),
            17 => dec.get_discriminant().map(drop),
            18 => dec
                .get_int_array(max)
                .map(|v| check_len(v.len(), max, limits.max_elements)),
            19 => dec
                .get_uint_array(max)
                .map(|v| check_len(v.len(), max, limits.max_elements)),
            20 => dec
                .get_hyper_array(max)
                .map(|v| check_len(v.len(), max, limits.max_elements)),
            21 => dec
                .get_uhyper_array(max)
                .map(|v| check_len(v.len(), max, limits.max_elements)),
            22 => dec
                .get_float_array(max)
                .map(|v| check_len(v.len(), max, limits.max_elements)),
            23 => dec
                .get_double_array(max)
                .map(|v| check_len(v.len(), max, limits.max_elements)),
            24 => {
                let mut out = vec![0i32; usize::from(param)];
                dec.get_int_slice(&mut out)
            }
            25 => {
                let mut out = vec![0u64; usize::from(param)];
                dec.get_uhyper_slice(&mut out)
            }
            26 => {
                let entered = dec.enter();
                assert_eq!(entered.is_ok(), depth < limits.max_depth);
                if entered.is_ok() {
                    depth += 1;
                }
                entered
            }
            27 => {
                dec.leave();
                depth = depth.saturating_sub(1);
                Ok(())
            }
            28 => dec.deserialize::<Option<Vec<u32>>>().map(drop),
            29 => dec.deserialize::<(bool, String, i16)>().map(drop),
            30 => {
                // Back to an earlier 4-byte boundary: reads may repeat.
                let to = before / 4 / (usize::from(param) + 1) * 4;
                dec.set_position(to).expect("an earlier position");
                continue;
            }
            _ => dec.finish(),
        };
        let after = dec.position();
        match outcome {
            Ok(()) => {
                assert!(after >= before && after <= data.len());
                assert_eq!((after - before) % 4, 0, "op {op} moved {before} -> {after}");
            }
            Err(e) => {
                assert_decode_error(&e, data.len());
                assert_eq!(after, before, "op {op} failed ({e}) but moved");
            }
        }
        assert!(dec.allocated() <= limits.max_alloc);
        assert_eq!(dec.remaining().len(), data.len() - after);
    }
});
