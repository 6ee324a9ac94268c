//! The C face of `crate::rpc`.
