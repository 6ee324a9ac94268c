//! The C face of `crate::mq`: `xipc_mq`, an open POSIX message queue.
//!
//! Messages are raw bytes, passed as `const void *` and `void *` so that
//! `char` and `uint8_t` buffers both go in without a cast.

use std::ffi::{c_char, c_int, c_uint, c_void};

use super::{guard, nonnull, slice_arg, str_arg, timeout_arg, write_out};
use crate::mq::{self, MessageQueue, OpenOptions};
use crate::{Error, Result};

/// Open for receiving.
pub const XIPC_MQ_READ: c_int = 1;
/// Open for sending.
pub const XIPC_MQ_WRITE: c_int = 2;
/// Open for receiving and sending.
pub const XIPC_MQ_RDWR: c_int = XIPC_MQ_READ | XIPC_MQ_WRITE;
/// Create the queue if it does not exist.
pub const XIPC_MQ_CREATE: c_int = 4;
/// With `XIPC_MQ_CREATE`: fail with `XIPC_EEXIST` if it exists.
pub const XIPC_MQ_EXCL: c_int = 8;
/// Fail with `XIPC_EAGAIN` instead of waiting. Also the flag
/// `xipc_mq_attributes` reports for a nonblocking descriptor.
pub const XIPC_MQ_NONBLOCK: c_int = 16;
/// The longest queue name after its leading slash, in bytes.
pub const XIPC_MQ_NAME_MAX: usize = 255;
const _: () = assert!(XIPC_MQ_NAME_MAX == mq::NAME_MAX);

const ALL_FLAGS: c_int = XIPC_MQ_RDWR | XIPC_MQ_CREATE | XIPC_MQ_EXCL | XIPC_MQ_NONBLOCK;

/// An open POSIX message queue. Open with `xipc_mq_open`, release with
/// `xipc_mq_close`. Several threads may use one queue at once (each call is
/// one system call on the kernel's queue); only `xipc_mq_close` must come
/// after every other call has returned.
pub struct xipc_mq {
    inner: MessageQueue,
}

/// A queue's attributes. For `xipc_mq_open` only `max_messages` and
/// `max_message_size` are read (0 = the system default);
/// `xipc_mq_attributes` fills all four.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct xipc_mq_attr {
    /// `XIPC_MQ_NONBLOCK` or 0.
    pub flags: c_int,
    /// The most messages the queue holds.
    pub max_messages: usize,
    /// The largest message, in bytes (a receive buffer must be this large).
    pub max_message_size: usize,
    /// The messages queued now.
    pub current_messages: usize,
}

/// Called when a message arrives on an empty queue; runs on a helper thread.
pub type xipc_mq_notify_fn = Option<unsafe extern "C" fn(user: *mut c_void)>;

/// Borrows the queue behind a C handle.
///
/// # Safety
/// `p` must be NULL or a live handle from `xipc_mq_open`.
unsafe fn queue<'a>(p: *const xipc_mq) -> Result<&'a MessageQueue> {
    // SAFETY: NULL is refused; otherwise a live handle by contract.
    unsafe { p.as_ref() }
        .map(|q| &q.inner)
        .ok_or_else(|| Error::InvalidArgument("mq is NULL".into()))
}

fn options(flags: c_int, mode: c_uint, attr: Option<&xipc_mq_attr>) -> Result<OpenOptions> {
    if flags & !ALL_FLAGS != 0 {
        return Err(Error::InvalidArgument(format!(
            "unknown flags {:#x} (use XIPC_MQ_*)",
            flags & !ALL_FLAGS
        )));
    }
    if mode & !0o7777 != 0 {
        return Err(Error::InvalidArgument(format!(
            "mode {mode:#o} has bits beyond the permission bits 0o7777"
        )));
    }
    let mut opts = OpenOptions::new();
    opts.read(flags & XIPC_MQ_READ != 0)
        .write(flags & XIPC_MQ_WRITE != 0)
        .create(flags & XIPC_MQ_CREATE != 0)
        .exclusive(flags & XIPC_MQ_EXCL != 0)
        .nonblocking(flags & XIPC_MQ_NONBLOCK != 0)
        .mode(mode);
    if let Some(attr) = attr {
        if attr.max_messages != 0 {
            opts.max_messages(attr.max_messages);
        }
        if attr.max_message_size != 0 {
            opts.max_message_size(attr.max_message_size);
        }
    }
    Ok(opts)
}

/// Opens the queue `name` ("/" then 1 to `XIPC_MQ_NAME_MAX` bytes without "/").
/// `flags` combines `XIPC_MQ_READ`, `XIPC_MQ_WRITE` (at least one),
/// `XIPC_MQ_CREATE`, `XIPC_MQ_EXCL` and `XIPC_MQ_NONBLOCK`; `mode` (e.g.
/// 0600) and `attr` (NULL = system defaults) apply when the queue is created.
/// The descriptor is close-on-exec. A creation beyond a system limit fails
/// with a message naming the limit, its value and where it is set.
#[no_mangle]
pub unsafe extern "C" fn xipc_mq_open(
    name: *const c_char,
    flags: c_int,
    mode: c_uint,
    attr: *const xipc_mq_attr,
    out: *mut *mut xipc_mq,
) -> c_int {
    guard(|| {
        nonnull!(out);
        // SAFETY: by contract `name` is NULL or NUL-terminated and `attr` NULL or readable.
        let (name, attr) = unsafe { (str_arg(name, "name")?, attr.as_ref()) };
        let inner = options(flags, mode, attr)?.open(name)?;
        let handle = Box::into_raw(Box::new(xipc_mq { inner }));
        // SAFETY: checked non-NULL above.
        unsafe { write_out(out, handle) }
    })
}

/// Closes the queue and frees the handle, whatever the result (an error is
/// one `mq_close` reported). Accepts NULL (and returns 0). A registered
/// notification is removed.
#[no_mangle]
pub unsafe extern "C" fn xipc_mq_close(mq: *mut xipc_mq) -> c_int {
    guard(|| {
        if mq.is_null() {
            return Ok(());
        }
        // SAFETY: a live handle from `xipc_mq_open`, by contract.
        let handle = unsafe { Box::from_raw(mq) };
        handle.inner.close()
    })
}

/// Removes the queue `name`; processes that have it open keep using it.
#[no_mangle]
pub unsafe extern "C" fn xipc_mq_unlink(name: *const c_char) -> c_int {
    // SAFETY: NUL-terminated by contract.
    guard(|| mq::unlink(unsafe { str_arg(name, "name")? }))
}

/// Sends `len` bytes with priority `prio` (0 to sysconf(_SC_MQ_PRIO_MAX) − 1;
/// higher is received first). Waits while the queue is full unless
/// nonblocking (`XIPC_EAGAIN`). More than the queue's message size is
/// `XIPC_EMSGSIZE`. A signal does not interrupt the wait (see
/// `xipc_mq_set_retry_on_signal`).
#[no_mangle]
pub unsafe extern "C" fn xipc_mq_send(
    mq: *mut xipc_mq,
    data: *const c_void,
    len: usize,
    prio: c_uint,
) -> c_int {
    // SAFETY: a live handle, `len` readable bytes, by contract.
    guard(|| unsafe { queue(mq)?.send(slice_arg(data.cast(), len)?, prio) })
}

/// `xipc_mq_send` waiting at most `timeout_ms` milliseconds for room
/// (`XIPC_ETIMEDOUT` then; `XIPC_NO_WAIT`: not at all). `XIPC_WAIT_FOREVER`
/// waits as `xipc_mq_send` does.
#[no_mangle]
pub unsafe extern "C" fn xipc_mq_send_timeout(
    mq: *mut xipc_mq,
    data: *const c_void,
    len: usize,
    prio: c_uint,
    timeout_ms: i64,
) -> c_int {
    guard(|| {
        // SAFETY: a live handle, `len` readable bytes, by contract.
        let (queue, msg) = unsafe { (queue(mq)?, slice_arg(data.cast(), len)?) };
        match timeout_arg(timeout_ms)? {
            Some(t) => queue.send_timeout(msg, prio, t),
            None => queue.send(msg, prio),
        }
    })
}

/// Receives the oldest message of the highest priority into `buf` (`cap`
/// bytes), writing its length to `*len` and its priority to `*prio` (which
/// may be NULL). `cap` must be at least the queue's `max_message_size`, or
/// the call fails with `XIPC_EMSGSIZE` and the message stays queued. Waits
/// while the queue is empty unless nonblocking (`XIPC_EAGAIN`).
#[no_mangle]
pub unsafe extern "C" fn xipc_mq_receive(
    mq: *mut xipc_mq,
    buf: *mut c_void,
    cap: usize,
    len: *mut usize,
    prio: *mut c_uint,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { xipc_mq_receive_timeout(mq, buf, cap, len, prio, super::XIPC_WAIT_FOREVER) }
}

/// `xipc_mq_receive` waiting at most `timeout_ms` milliseconds for a message
/// (`XIPC_ETIMEDOUT` then; `XIPC_NO_WAIT`: not at all). `XIPC_WAIT_FOREVER`
/// waits as `xipc_mq_receive` does.
#[no_mangle]
pub unsafe extern "C" fn xipc_mq_receive_timeout(
    mq: *mut xipc_mq,
    buf: *mut c_void,
    cap: usize,
    len: *mut usize,
    prio: *mut c_uint,
    timeout_ms: i64,
) -> c_int {
    guard(|| {
        nonnull!(len);
        nonnull!(buf);
        // SAFETY: a live handle and `cap` writable bytes, by contract.
        let (queue, out) = unsafe {
            (
                queue(mq)?,
                std::slice::from_raw_parts_mut(buf.cast::<u8>(), cap),
            )
        };
        let (n, priority) = match timeout_arg(timeout_ms)? {
            Some(t) => queue.receive_timeout(out, t)?,
            None => queue.receive(out)?,
        };
        // SAFETY: `len` is writable and `prio` NULL or writable, by contract.
        unsafe {
            len.write(n);
            if !prio.is_null() {
                prio.write(priority);
            }
        }
        Ok(())
    })
}

/// Writes the queue's attributes (`mq_getattr`) to `*out`.
#[no_mangle]
pub unsafe extern "C" fn xipc_mq_attributes(mq: *const xipc_mq, out: *mut xipc_mq_attr) -> c_int {
    guard(|| {
        nonnull!(out);
        // SAFETY: a live handle by contract.
        let attrs = unsafe { queue(mq)? }.attributes()?;
        let attr = xipc_mq_attr {
            flags: if attrs.nonblocking() {
                XIPC_MQ_NONBLOCK
            } else {
                0
            },
            max_messages: attrs.max_messages,
            max_message_size: attrs.max_message_size,
            current_messages: attrs.current_messages,
        };
        // SAFETY: checked non-NULL; writable by contract.
        unsafe { write_out(out, attr) }
    })
}

/// Makes sends and receives fail with `XIPC_EAGAIN` instead of waiting
/// (`nonblocking` true) or wait again (false).
#[no_mangle]
pub unsafe extern "C" fn xipc_mq_set_nonblocking(mq: *mut xipc_mq, nonblocking: bool) -> c_int {
    // SAFETY: a live handle by contract.
    guard(|| unsafe { queue(mq)? }.set_nonblocking(nonblocking))
}

/// Whether a wait interrupted by a signal resumes (true, the default; a
/// timed call resumes with the time that remains) or fails with
/// `XIPC_EINTR` so that the caller can act on the signal first (false).
#[no_mangle]
pub unsafe extern "C" fn xipc_mq_set_retry_on_signal(mq: *mut xipc_mq, retry: bool) -> c_int {
    guard(|| {
        // SAFETY: a live handle by contract.
        unsafe { queue(mq)? }.set_retry_on_signal(retry);
        Ok(())
    })
}

/// Writes the queue's descriptor to `*fd`, for poll/select/epoll: readable
/// while a message is queued, writable while there is room. It stays owned
/// by the handle.
#[no_mangle]
pub unsafe extern "C" fn xipc_mq_fd(mq: *const xipc_mq, fd: *mut c_int) -> c_int {
    use std::os::fd::AsRawFd;
    guard(|| {
        nonnull!(fd);
        // SAFETY: a live handle; `fd` checked and writable by contract.
        unsafe { write_out(fd, queue(mq)?.as_raw_fd()) }
    })
}

struct UserPtr(*mut c_void);
// SAFETY: the pointer is only handed back to the caller's callback, which by
// the contract of `xipc_mq_notify` may run on another thread.
unsafe impl Send for UserPtr {}

/// Registers for one notification: `callback(user)` runs once, on a helper
/// thread, when a message arrives on this queue while it is empty and no
/// receiver is waiting (mq_notify(3) semantics). One process at a time may
/// be registered (`XIPC_EEXIST` otherwise). The registration ends when it
/// fires, when the queue is closed, or with a NULL `callback` (which cancels).
/// `callback` must be callable from another thread with `user` until then.
#[no_mangle]
pub unsafe extern "C" fn xipc_mq_notify(
    mq: *mut xipc_mq,
    callback: xipc_mq_notify_fn,
    user: *mut c_void,
) -> c_int {
    guard(|| {
        // SAFETY: a live handle by contract.
        let queue = unsafe { queue(mq)? };
        let Some(callback) = callback else {
            return queue.cancel_notify();
        };
        let user = UserPtr(user);
        queue.notify(move || {
            let user = user;
            // SAFETY: the caller promised the callback may run here with `user`.
            unsafe { callback(user.0) }
        })
    })
}
