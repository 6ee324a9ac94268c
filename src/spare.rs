//! Small message buffers kept for reuse by the thread that is done with
//! them.
//!
//! An RPC call allocates a few small buffers and frees them again: the
//! record read, the reply's header, the results handed on. glibc's
//! `malloc` and `free` cost about 130 instructions a pair here, some 600
//! of the 3,600 a client spends on a small call (callgrind). A thread
//! that is done with a small buffer keeps it instead, and the next one it
//! needs comes from there: no allocator call at all while a thread goes
//! from call to call. Only a few small buffers are kept per thread, so
//! what is kept stays bounded; large ones go back to the allocator.

use std::cell::RefCell;

/// Buffers with more capacity than this are freed, not kept.
pub(crate) const KEEP_AT_MOST: usize = 4096;
/// How many buffers a thread keeps.
const KEPT: usize = 4;

thread_local! {
    static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty vector with room for at least `capacity` bytes: one the
/// thread kept when it has one, else a new one.
#[inline]
pub(crate) fn take(capacity: usize) -> Vec<u8> {
    if capacity <= KEEP_AT_MOST {
        let kept = SPARE
            .try_with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.pop()))
            .ok()
            .flatten();
        if let Some(mut v) = kept {
            v.reserve(capacity);
            return v;
        }
    }
    Vec::with_capacity(capacity)
}

/// A vector holding a copy of `src`, in a kept buffer when there is one.
#[inline]
pub(crate) fn copy_of(src: &[u8]) -> Vec<u8> {
    let mut v = take(src.len());
    crate::copy::extend(&mut v, src);
    v
}

/// Done with `v`: the thread keeps it for the next [`take`] if it is small
/// and the thread does not hold enough already; otherwise it is freed.
#[inline]
pub(crate) fn give(mut v: Vec<u8>) {
    let cap = v.capacity();
    if cap == 0 || cap > KEEP_AT_MOST {
        return;
    }
    v.clear();
    // During the thread's teardown the buffer is simply freed.
    let _ = SPARE.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            if s.len() < KEPT {
                s.push(v);
            }
        }
    });
}

/// `v[from..]` as a vector of its own, holding no more memory than it
/// needs: a small one is copied into a new allocation of its size (and
/// `v` kept for reuse), a large one moved to the front of `v`. For bytes
/// handed out of the library (an RPC call's results), which may be kept
/// for long.
pub(crate) fn tail(mut v: Vec<u8>, from: usize) -> Vec<u8> {
    let len = v.len() - from;
    if len <= KEEP_AT_MOST && (from > 0 || v.capacity() != v.len()) {
        let out = crate::copy::to_vec(&v[from..]);
        give(v);
        return out;
    }
    v.drain(..from);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_given_back_is_taken_again() {
        std::thread::spawn(|| {
            let v = copy_of(b"a call");
            let at = v.as_ptr();
            give(v);
            let w = copy_of(b"the next");
            assert_eq!(w, b"the next");
            assert_eq!(w.as_ptr(), at);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn large_buffers_and_surplus_ones_are_freed() {
        std::thread::spawn(|| {
            give(vec![0; KEEP_AT_MOST + 1]);
            assert_eq!(SPARE.with(|s| s.borrow().len()), 0);
            for _ in 0..KEPT + 3 {
                give(Vec::with_capacity(16));
            }
            assert_eq!(SPARE.with(|s| s.borrow().len()), KEPT);
            // A request larger than any kept buffer still gets its room.
            let v = take(1000);
            assert!(v.capacity() >= 1000 && v.is_empty());
            let big = take(KEEP_AT_MOST + 1);
            assert!(big.capacity() > KEEP_AT_MOST);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_tail_holds_only_its_bytes() {
        let mut v = Vec::with_capacity(100);
        v.extend_from_slice(b"header+results");
        let t = tail(v, 7);
        assert_eq!(t, b"results");
        assert_eq!(t.capacity(), t.len());
        let big: Vec<u8> = (0..=255).cycle().take(KEEP_AT_MOST + 10).collect();
        let expect = big[8..].to_vec();
        let at = big.as_ptr();
        let t = tail(big, 8);
        assert_eq!(t, expect);
        assert_eq!(t.as_ptr(), at, "a large tail is moved within its buffer");
    }
}
