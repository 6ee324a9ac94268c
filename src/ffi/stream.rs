//! The C face of `crate::stream`: `xipc_stream` (a pipe end, FIFO, TCP or
//! Unix connection) and `xipc_listener` (a listening TCP or Unix socket).

use std::ffi::{c_char, c_int};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::{guard, into_c_bytes, nonnull, slice_arg, str_arg, timeout_arg, write_out};
use crate::stream::{self, FifoMode, Listener, Shutdown, Stream};
use crate::{Error, Result};

/// A byte stream: a pipe end, a FIFO, or a TCP or Unix connection. Release
/// with `xipc_stream_close`. One thread may receive while another sends;
/// calls in the same direction from several threads take turns; only
/// `xipc_stream_close` must come after every other call has returned.
pub struct xipc_stream {
    inner: Stream,
}

/// A listening TCP or Unix socket. Release with `xipc_listener_close`.
/// Several threads may accept on one listener at once.
pub struct xipc_listener {
    inner: Listener,
}

/// The process at the other end of a Unix socket (`SO_PEERCRED`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct xipc_peer_credentials {
    /// The peer's process id.
    pub pid: i32,
    /// The peer's effective user id.
    pub uid: u32,
    /// The peer's effective group id.
    pub gid: u32,
}

/// `xipc_fifo_open`: open the FIFO for reading.
pub const XIPC_FIFO_READ: c_int = 0;
/// `xipc_fifo_open`: open the FIFO for writing.
pub const XIPC_FIFO_WRITE: c_int = 1;

/// `xipc_stream_shutdown`: no more reading.
pub const XIPC_SHUT_RD: c_int = 0;
/// `xipc_stream_shutdown`: no more writing (the peer reads end of stream).
pub const XIPC_SHUT_WR: c_int = 1;
/// `xipc_stream_shutdown`: neither.
pub const XIPC_SHUT_RDWR: c_int = 2;

/// # Safety
/// `p` must be NULL or a live handle from this module.
unsafe fn stream_ref<'a>(p: *const xipc_stream) -> Result<&'a Stream> {
    // SAFETY: NULL is refused; otherwise a live handle by contract.
    unsafe { p.as_ref() }
        .map(|s| &s.inner)
        .ok_or_else(|| Error::InvalidArgument("stream is NULL".into()))
}

/// # Safety
/// `p` must be NULL or a live handle from this module.
unsafe fn listener_ref<'a>(p: *const xipc_listener) -> Result<&'a Listener> {
    // SAFETY: NULL is refused; otherwise a live handle by contract.
    unsafe { p.as_ref() }
        .map(|l| &l.inner)
        .ok_or_else(|| Error::InvalidArgument("listener is NULL".into()))
}

fn boxed_stream(inner: Stream) -> *mut xipc_stream {
    Box::into_raw(Box::new(xipc_stream { inner }))
}

fn boxed_listener(inner: Listener) -> *mut xipc_listener {
    Box::into_raw(Box::new(xipc_listener { inner }))
}

/// Writes a new stream handle through `out`, closing the stream if `out`
/// is NULL.
///
/// # Safety
/// `out` must be NULL or valid for a write.
unsafe fn out_stream(out: *mut *mut xipc_stream, inner: Stream) -> Result<()> {
    nonnull!(out);
    // SAFETY: non-NULL, writable by the caller's contract.
    unsafe { write_out(out, boxed_stream(inner)) }
}

// ---- creating streams ----

/// Creates an anonymous pipe: `*reader` reads what `*writer` writes. Both
/// ends are close-on-exec; see `xipc_stream_set_inheritable` to hand one to
/// a child process.
#[no_mangle]
pub unsafe extern "C" fn xipc_pipe(
    reader: *mut *mut xipc_stream,
    writer: *mut *mut xipc_stream,
) -> c_int {
    guard(|| {
        nonnull!(reader);
        nonnull!(writer);
        let (r, w) = stream::pipe()?;
        // SAFETY: both checked non-NULL, writable by contract.
        unsafe {
            write_out(reader, boxed_stream(r))?;
            write_out(writer, boxed_stream(w))
        }
    })
}

/// Creates a FIFO at `path` with exactly `mode` (e.g. 0600). An existing
/// file is `XIPC_EEXIST`.
#[no_mangle]
pub unsafe extern "C" fn xipc_mkfifo(path: *const c_char, mode: u32) -> c_int {
    guard(|| {
        // SAFETY: NUL-terminated by contract.
        let path = unsafe { str_arg(path, "path") }?;
        stream::mkfifo(path, mode)
    })
}

/// Opens the FIFO at `path` for `XIPC_FIFO_READ` or `XIPC_FIFO_WRITE`.
/// Blocking, the open waits for the other end; not blocking, it returns at
/// once (`XIPC_EAGAIN` when writing and nobody reads) and the stream is in
/// nonblocking mode.
#[no_mangle]
pub unsafe extern "C" fn xipc_fifo_open(
    path: *const c_char,
    direction: c_int,
    blocking: bool,
    out: *mut *mut xipc_stream,
) -> c_int {
    guard(|| {
        // SAFETY: NUL-terminated by contract.
        let path = unsafe { str_arg(path, "path") }?;
        let mode = match direction {
            XIPC_FIFO_READ => FifoMode::Read,
            XIPC_FIFO_WRITE => FifoMode::Write,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "direction {other} is neither XIPC_FIFO_READ nor XIPC_FIFO_WRITE"
                )))
            }
        };
        nonnull!(out);
        let s = stream::open_fifo(path, mode, blocking)?;
        // SAFETY: writable by contract.
        unsafe { out_stream(out, s) }
    })
}

/// Connects to `host` (a name or an IPv4/IPv6 address) on `port`, waiting at
/// most `timeout_ms` for the connection (name resolution is not bounded by
/// it). TCP_NODELAY is on.
#[no_mangle]
pub unsafe extern "C" fn xipc_tcp_connect(
    host: *const c_char,
    port: u16,
    timeout_ms: i64,
    out: *mut *mut xipc_stream,
) -> c_int {
    guard(|| {
        // SAFETY: NUL-terminated by contract.
        let host = unsafe { str_arg(host, "host") }?;
        nonnull!(out);
        let s = stream::tcp_connect(host, port, timeout_arg(timeout_ms)?)?;
        // SAFETY: writable by contract.
        unsafe { out_stream(out, s) }
    })
}

/// Connects to the Unix socket at `path`, waiting at most `timeout_ms`.
#[no_mangle]
pub unsafe extern "C" fn xipc_unix_connect(
    path: *const c_char,
    timeout_ms: i64,
    out: *mut *mut xipc_stream,
) -> c_int {
    guard(|| {
        // SAFETY: NUL-terminated by contract.
        let path = unsafe { str_arg(path, "path") }?;
        nonnull!(out);
        let s = stream::unix_connect(path, timeout_arg(timeout_ms)?)?;
        // SAFETY: writable by contract.
        unsafe { out_stream(out, s) }
    })
}

/// Makes a stream of a descriptor the caller owns (an inherited pipe end, a
/// socket from elsewhere). The stream owns it from now on, also on error.
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_from_fd(fd: c_int, out: *mut *mut xipc_stream) -> c_int {
    guard(|| {
        if fd < 0 {
            return Err(Error::InvalidArgument(format!("fd {fd} is negative")));
        }
        // SAFETY: the caller hands over sole ownership of an open descriptor.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        let s = Stream::from_fd(owned)?;
        // SAFETY: writable by contract.
        unsafe { out_stream(out, s) }
    })
}

// ---- listeners ----

/// Listens for TCP connections on `host` ("0.0.0.0", "::", "127.0.0.1",
/// "::1", a name) and `port` (0: the system picks one; see
/// `xipc_listener_port`).
#[no_mangle]
pub unsafe extern "C" fn xipc_tcp_listen(
    host: *const c_char,
    port: u16,
    out: *mut *mut xipc_listener,
) -> c_int {
    guard(|| {
        // SAFETY: NUL-terminated by contract.
        let host = unsafe { str_arg(host, "host") }?;
        nonnull!(out);
        let l = stream::tcp_listen(host, port)?;
        // SAFETY: checked non-NULL, writable by contract.
        unsafe { write_out(out, boxed_listener(l)) }
    })
}

/// Listens on a Unix socket at `path` created with exactly `mode` (e.g.
/// 0600). A stale socket file from a dead server is replaced; a live one is
/// `XIPC_EEXIST`.
#[no_mangle]
pub unsafe extern "C" fn xipc_unix_listen(
    path: *const c_char,
    mode: u32,
    out: *mut *mut xipc_listener,
) -> c_int {
    guard(|| {
        // SAFETY: NUL-terminated by contract.
        let path = unsafe { str_arg(path, "path") }?;
        nonnull!(out);
        let l = stream::unix_listen(path, mode)?;
        // SAFETY: checked non-NULL, writable by contract.
        unsafe { write_out(out, boxed_listener(l)) }
    })
}

/// Waits at most `timeout_ms` for a connection (`XIPC_ETIMEDOUT` after).
#[no_mangle]
pub unsafe extern "C" fn xipc_listener_accept(
    listener: *mut xipc_listener,
    timeout_ms: i64,
    out: *mut *mut xipc_stream,
) -> c_int {
    guard(|| {
        // SAFETY: live handle by contract.
        let l = unsafe { listener_ref(listener) }?;
        nonnull!(out);
        let s = l.accept(timeout_arg(timeout_ms)?)?;
        // SAFETY: writable by contract.
        unsafe { out_stream(out, s) }
    })
}

/// The port a TCP listener is bound to (`XIPC_EINVAL` for a Unix listener).
#[no_mangle]
pub unsafe extern "C" fn xipc_listener_port(
    listener: *const xipc_listener,
    port: *mut u16,
) -> c_int {
    guard(|| {
        // SAFETY: live handle by contract.
        let l = unsafe { listener_ref(listener) }?;
        let p = l
            .port()
            .ok_or_else(|| Error::InvalidArgument("a Unix listener has no port".into()))?;
        // SAFETY: writable by contract (NULL is refused).
        unsafe { write_out(port, p) }
    })
}

/// Writes the listener's descriptor to `*fd`, for poll/select/epoll
/// (readable when a connection waits). It stays owned by the listener.
#[no_mangle]
pub unsafe extern "C" fn xipc_listener_fd(listener: *const xipc_listener, fd: *mut c_int) -> c_int {
    guard(|| {
        // SAFETY: live handle by contract; `fd` checked by `write_out`.
        unsafe { write_out(fd, listener_ref(listener)?.as_raw_fd()) }
    })
}

/// Closes a listener and frees the handle (a Unix listener removes its
/// socket file). Accepts NULL (and returns 0).
#[no_mangle]
pub unsafe extern "C" fn xipc_listener_close(listener: *mut xipc_listener) -> c_int {
    guard(|| {
        if !listener.is_null() {
            // SAFETY: a live handle from `boxed_listener`, given up by the caller.
            unsafe { Box::from_raw(listener) }.inner.close();
        }
        Ok(())
    })
}

// ---- framed messages ----

/// Sends `len` bytes as one record-marked message. A message of at most
/// PIPE_BUF − 4 bytes reaches a pipe or FIFO whole even with several
/// writers. 0 means accepted (see the README on partial writes); an error
/// means nothing was written.
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_send(
    stream: *mut xipc_stream,
    data: *const u8,
    len: usize,
) -> c_int {
    guard(|| {
        // SAFETY: live handle and `len` readable bytes by contract.
        let (s, msg) = unsafe { (stream_ref(stream)?, slice_arg(data, len)?) };
        s.send(msg)
    })
}

/// Receives the next message into `buf` (`cap` bytes); `*len` is its length.
/// A message longer than `cap` is `XIPC_EMSGSIZE` and stays in the stream
/// (receive it with a bigger buffer or `xipc_stream_receive_alloc`). The
/// end of the stream is `XIPC_ECLOSED` ("end of stream" between messages,
/// otherwise the place it ended). `XIPC_EAGAIN`, `XIPC_ETIMEDOUT` and
/// `XIPC_EINTR` keep what has arrived: call again to complete the message.
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_receive(
    stream: *mut xipc_stream,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> c_int {
    guard(|| {
        // SAFETY: live handle by contract.
        let s = unsafe { stream_ref(stream) }?;
        nonnull!(len);
        let buf = if cap == 0 {
            &mut [][..]
        } else {
            nonnull!(buf);
            // SAFETY: non-NULL and writable for `cap` bytes by contract.
            unsafe { std::slice::from_raw_parts_mut(buf, cap) }
        };
        let n = s.receive_to_slice(buf)?.ok_or_else(end_of_stream)?;
        // SAFETY: checked non-NULL, writable by contract.
        unsafe { write_out(len, n) }
    })
}

/// Receives the next message into a buffer the library allocates; free it
/// with `xipc_bytes_free(*data, *len)`. Otherwise as `xipc_stream_receive`.
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_receive_alloc(
    stream: *mut xipc_stream,
    data: *mut *mut u8,
    len: *mut usize,
) -> c_int {
    guard(|| {
        // SAFETY: live handle by contract.
        let s = unsafe { stream_ref(stream) }?;
        nonnull!(data);
        nonnull!(len);
        let msg = s.receive()?.ok_or_else(end_of_stream)?;
        let (ptr, n) = into_c_bytes(msg);
        // SAFETY: both checked non-NULL, writable by contract.
        unsafe {
            write_out(data, ptr)?;
            write_out(len, n)
        }
    })
}

/// The length of a message that `xipc_stream_receive` refused with
/// `XIPC_EMSGSIZE` and keeps for the next call (`XIPC_ENOENT` when no whole
/// message is waiting).
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_next_message_len(
    stream: *const xipc_stream,
    len: *mut usize,
) -> c_int {
    guard(|| {
        // SAFETY: live handle by contract.
        let s = unsafe { stream_ref(stream) }?;
        let n = s
            .next_message_len()
            .ok_or_else(|| Error::NotFound("no whole message is waiting".into()))?;
        // SAFETY: writable by contract (NULL is refused).
        unsafe { write_out(len, n) }
    })
}

fn end_of_stream() -> Error {
    Error::Closed("end of stream".into())
}

/// The largest message `xipc_stream_receive` accepts (default 4 MiB; at
/// least 1, 0 is `XIPC_EINVAL`); a longer one is `XIPC_EMSGSIZE`, found
/// from its header before allocating.
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_set_max_message_size(
    stream: *mut xipc_stream,
    max: usize,
) -> c_int {
    guard(|| {
        // SAFETY: live handle by contract.
        let stream = unsafe { stream_ref(stream) }?;
        if max == 0 {
            return Err(Error::InvalidArgument(
                "the largest message must be at least 1 byte".into(),
            ));
        }
        stream.set_max_message_size(max);
        Ok(())
    })
}

/// The largest fragment `xipc_stream_send` writes; longer messages are
/// split (1 to 2^31 - 1, the default).
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_set_max_fragment(
    stream: *mut xipc_stream,
    max: usize,
) -> c_int {
    guard(|| {
        // SAFETY: live handle by contract.
        unsafe { stream_ref(stream) }?.set_max_fragment(max)
    })
}

// ---- raw bytes ----

/// Reads at most `cap` bytes; `*nread` 0 means end of stream.
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_read(
    stream: *mut xipc_stream,
    buf: *mut u8,
    cap: usize,
    nread: *mut usize,
) -> c_int {
    guard(|| {
        // SAFETY: live handle by contract.
        let s = unsafe { stream_ref(stream) }?;
        nonnull!(buf);
        nonnull!(nread);
        // SAFETY: non-NULL and writable for `cap` bytes by contract.
        let buf = unsafe { std::slice::from_raw_parts_mut(buf, cap) };
        let n = s.read(buf)?;
        // SAFETY: checked non-NULL, writable by contract.
        unsafe { write_out(nread, n) }
    })
}

/// Writes some of `len` bytes; `*nwritten` says how many.
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_write(
    stream: *mut xipc_stream,
    data: *const u8,
    len: usize,
    nwritten: *mut usize,
) -> c_int {
    guard(|| {
        // SAFETY: live handle and `len` readable bytes by contract.
        let (s, bytes) = unsafe { (stream_ref(stream)?, slice_arg(data, len)?) };
        nonnull!(nwritten);
        let n = s.write(bytes)?;
        // SAFETY: checked non-NULL, writable by contract.
        unsafe { write_out(nwritten, n) }
    })
}

/// Writes all `len` bytes, as `xipc_stream_send` does (without framing).
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_write_all(
    stream: *mut xipc_stream,
    data: *const u8,
    len: usize,
) -> c_int {
    guard(|| {
        // SAFETY: live handle and `len` readable bytes by contract.
        let (s, bytes) = unsafe { (stream_ref(stream)?, slice_arg(data, len)?) };
        s.write_all(bytes)
    })
}

/// Sends the rest of a message that a timeout or nonblocking mode stopped
/// half-way (0 when nothing is left).
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_flush(stream: *mut xipc_stream) -> c_int {
    guard(|| {
        // SAFETY: live handle by contract.
        unsafe { stream_ref(stream) }?.flush()
    })
}

// ---- modes and properties ----

/// How long reads and `xipc_stream_receive` may wait (default
/// `XIPC_WAIT_FOREVER`); one that waits longer is `XIPC_ETIMEDOUT`.
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_set_read_timeout(
    stream: *mut xipc_stream,
    timeout_ms: i64,
) -> c_int {
    guard(|| {
        // SAFETY: live handle by contract.
        unsafe { stream_ref(stream) }?.set_read_timeout(timeout_arg(timeout_ms)?);
        Ok(())
    })
}

/// How long writes and `xipc_stream_send` may wait (default
/// `XIPC_WAIT_FOREVER`); one that waits longer is `XIPC_ETIMEDOUT`.
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_set_write_timeout(
    stream: *mut xipc_stream,
    timeout_ms: i64,
) -> c_int {
    guard(|| {
        // SAFETY: live handle by contract.
        unsafe { stream_ref(stream) }?.set_write_timeout(timeout_arg(timeout_ms)?);
        Ok(())
    })
}

/// In nonblocking mode an operation that would wait is `XIPC_EAGAIN`.
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_set_nonblocking(
    stream: *mut xipc_stream,
    nonblocking: bool,
) -> c_int {
    guard(|| {
        // SAFETY: live handle by contract.
        unsafe { stream_ref(stream) }?.set_nonblocking(nonblocking)
    })
}

/// Whether a program started with exec keeps the descriptor (streams are
/// created close-on-exec). The child gets it with `xipc_stream_from_fd`.
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_set_inheritable(
    stream: *mut xipc_stream,
    inheritable: bool,
) -> c_int {
    guard(|| {
        // SAFETY: live handle by contract.
        unsafe { stream_ref(stream) }?.set_inheritable(inheritable)?;
        Ok(())
    })
}

/// Writes the stream's descriptor to `*fd`, for poll/select/epoll. It
/// stays owned by the stream. Messages the stream has already read ahead
/// are not visible there: receive until `XIPC_EAGAIN` before waiting.
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_fd(stream: *const xipc_stream, fd: *mut c_int) -> c_int {
    guard(|| {
        // SAFETY: live handle by contract; `fd` checked by `write_out`.
        unsafe { write_out(fd, stream_ref(stream)?.as_raw_fd()) }
    })
}

/// Closes one or both directions of a socket: `XIPC_SHUT_RD`,
/// `XIPC_SHUT_WR` or `XIPC_SHUT_RDWR` (`XIPC_EUNSUPPORTED` on a pipe).
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_shutdown(stream: *mut xipc_stream, how: c_int) -> c_int {
    guard(|| {
        // SAFETY: live handle by contract.
        let s = unsafe { stream_ref(stream) }?;
        let how = match how {
            XIPC_SHUT_RD => Shutdown::Read,
            XIPC_SHUT_WR => Shutdown::Write,
            XIPC_SHUT_RDWR => Shutdown::Both,
            other => return Err(Error::InvalidArgument(format!("shutdown mode {other}"))),
        };
        s.shutdown(how)
    })
}

/// The process at the other end of a Unix socket (`XIPC_EUNSUPPORTED` on
/// other streams).
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_peer_credentials(
    stream: *const xipc_stream,
    out: *mut xipc_peer_credentials,
) -> c_int {
    guard(|| {
        // SAFETY: live handle by contract.
        let c = unsafe { stream_ref(stream) }?.peer_credentials()?;
        let creds = xipc_peer_credentials {
            pid: c.pid,
            uid: c.uid,
            gid: c.gid,
        };
        // SAFETY: writable by contract (NULL is refused).
        unsafe { write_out(out, creds) }
    })
}

/// Closes the stream and frees the handle, whatever the result (an error is
/// one `close` reported). Accepts NULL (and returns 0).
#[no_mangle]
pub unsafe extern "C" fn xipc_stream_close(stream: *mut xipc_stream) -> c_int {
    guard(|| {
        if stream.is_null() {
            return Ok(());
        }
        // SAFETY: a live handle from `boxed_stream`, given up by the caller.
        unsafe { Box::from_raw(stream) }.inner.close()
    })
}
