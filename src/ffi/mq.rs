//! The C face of `crate::mq`.
