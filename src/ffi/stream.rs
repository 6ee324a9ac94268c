//! The C face of `crate::stream`.
