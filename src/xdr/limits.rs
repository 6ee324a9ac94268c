//! Bounds on what a decoder may accept and allocate.

/// Bounds a [`Decoder`](super::Decoder) checks *before* allocating anything.
///
/// Every length prefix is also checked against the bytes that remain, so even
/// [`Limits::unlimited`] cannot make a short input allocate much.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest opaque or string body, in bytes.
    pub max_item_bytes: usize,
    /// Largest element count of one variable-length array.
    pub max_elements: usize,
    /// Deepest nesting of structs, unions, arrays and optional data.
    pub max_depth: usize,
    /// Most bytes the decoding of one message may allocate in all.
    pub max_alloc: usize,
}

impl Limits {
    /// Defaults: items of 16 MiB, 4 Mi elements, depth 64, 64 MiB in all.
    pub const DEFAULT: Limits = Limits {
        max_item_bytes: 16 << 20,
        max_elements: 4 << 20,
        max_depth: 64,
        max_alloc: 64 << 20,
    };

    /// No limits beyond the size of the input itself (and a depth of 1,024,
    /// so recursion cannot exhaust the stack).
    ///
    /// ```
    /// use xipc::xdr::{Decoder, Limits};
    ///
    /// // A 12-byte message claiming an array of a billion ints fails at once.
    /// let hostile = [0x3b, 0x9a, 0xca, 0x00, 0, 0, 0, 1, 0, 0, 0, 2];
    /// let mut dec = Decoder::with_limits(&hostile, Limits::unlimited());
    /// assert!(dec.get_opaque(None).is_err());
    /// assert_eq!(Limits::default(), Limits::DEFAULT);
    /// ```
    pub const fn unlimited() -> Limits {
        Limits {
            max_item_bytes: usize::MAX,
            max_elements: usize::MAX,
            max_depth: 1024,
            max_alloc: usize::MAX,
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}
