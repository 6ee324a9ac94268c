//! Byte streams: pipes, FIFOs, TCP and Unix sockets, framed with record
//! marking (issue 3).

pub mod record;
