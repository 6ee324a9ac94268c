//! Copies of message bytes that stay fast whatever the buffers' addresses.
//!
//! glibc's `memcpy` copies with `rep movsb` from about 2 KiB up (2,112
//! bytes on CPUs that announce fast short `rep movsb`). On AMD Zen 3 and
//! Zen 4 that instruction runs 15 to 30 times slower when the destination
//! lies a few bytes (1 to 15) past the source, counted modulo 64: a 16 KiB
//! copy then takes 4.7 µs instead of 0.2 (glibc 2.36, AMD EPYC, measured
//! for every pair of offsets in 0..64). Where a message's bytes land
//! depends on the allocator and on the headers before them (a 4-byte
//! record mark, a 5-byte TLS record header), so a program met the slow
//! case in some runs and not in others. Copying in pieces below that size
//! keeps glibc on its vector loop, which does not care: 1.25 µs for 64 KiB
//! against 1.22 in one `memcpy` at the best offsets, and against 19-32 µs
//! at the worst.
//!
//! The copies of message bytes that may be large go through here; small
//! fixed-size ones (integers, headers) need not, and neither do copies into
//! memory freshly taken from `malloc` for C (`ffi::wellknown`), which no
//! slice may cover before it is written (those are strings and opaques of
//! generated well-known types, small).

/// The most bytes copied by one `memcpy`: below glibc's smallest `rep
/// movsb` threshold (2,048 bytes, with 16-byte vectors), a multiple of 64.
const PIECE: usize = 1984;

/// Appends `src` to `dst`.
///
/// Inlined, with the loop for large copies a call of its own: where a
/// small string or opaque is appended (XDR encoding), the copy is as cheap
/// as `extend_from_slice` alone.
#[inline(always)]
pub(crate) fn extend(dst: &mut Vec<u8>, src: &[u8]) {
    if src.len() <= PIECE {
        dst.extend_from_slice(src);
    } else {
        extend_in_pieces(dst, src);
    }
}

#[inline(never)]
fn extend_in_pieces(dst: &mut Vec<u8>, src: &[u8]) {
    dst.reserve(src.len());
    for piece in src.chunks(PIECE) {
        dst.extend_from_slice(piece);
    }
}

/// A new vector holding `src`.
#[inline]
pub(crate) fn to_vec(src: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(src.len());
    extend(&mut v, src);
    v
}

/// Copies `src` into `dst`, which has the same length (as
/// [`slice::copy_from_slice`], which panics otherwise).
#[inline]
pub(crate) fn fill(dst: &mut [u8], src: &[u8]) {
    if src.len() <= PIECE {
        dst.copy_from_slice(src);
        return;
    }
    assert_eq!(
        dst.len(),
        src.len(),
        "copy between slices of different lengths"
    );
    for (d, s) in dst.chunks_mut(PIECE).zip(src.chunks(PIECE)) {
        d.copy_from_slice(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    #[test]
    fn every_size_and_offset_copies_exactly() {
        for n in [
            0,
            1,
            PIECE - 1,
            PIECE,
            PIECE + 1,
            3 * PIECE + 17,
            65_536 + 5,
        ] {
            let src = pattern(n + 64);
            for off in [0, 1, 5, 16, 63] {
                let s = &src[off..off + n];
                let mut v = b"head".to_vec();
                extend(&mut v, s);
                assert_eq!(&v[..4], b"head");
                assert_eq!(&v[4..], s, "extend, {n} bytes at +{off}");
                assert_eq!(to_vec(s), s, "to_vec, {n} bytes at +{off}");
                let mut d = vec![0xAA; n + 2];
                fill(&mut d[1..n + 1], s);
                assert_eq!(&d[1..n + 1], s, "fill, {n} bytes at +{off}");
                assert_eq!((d[0], d[n + 1]), (0xAA, 0xAA), "fill wrote outside");
            }
        }
    }

    #[test]
    #[should_panic(expected = "different lengths")]
    fn fill_refuses_slices_of_different_lengths() {
        let src = pattern(3 * PIECE);
        let mut dst = vec![0; 3 * PIECE - 1];
        fill(&mut dst, &src);
    }
}
