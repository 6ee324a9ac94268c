//! POSIX message queues: named, kernel-held queues of discrete messages with
//! priorities, shared by any process that knows the name (`mq_overview(7)`).
//!
//! [`MessageQueue`] is a thin wrapper over the `mq_*` calls of the C library.
//! Each wrapper makes one call and turns its errno into an [`Error`] in one
//! place; the only logic of its own is name and argument validation, the
//! timeout loop (a monotonic deadline, re-anchored to `CLOCK_REALTIME` at
//! every try, so a signal resumes the wait with the time left and a clock
//! stepped forward does not cut it short; a clock stepped back during one try
//! lengthens that try, as the kernel measures it in `CLOCK_REALTIME`) and
//! messages that name the system limit a creation hit.
//!
//! ```
//! use std::time::Duration;
//! use xipc::mq::OpenOptions;
//!
//! let name = format!("/xipc-doc-{}", std::process::id());
//! let q = OpenOptions::new().create(true).max_messages(10).max_message_size(64).open(&name)?;
//! q.send(b"routine", 1)?;
//! q.send(b"urgent", 9)?;
//! // The highest priority comes out first.
//! let mut buf = vec![0; q.max_message_size()];
//! let (len, prio) = q.receive(&mut buf)?;
//! assert_eq!((&buf[..len], prio), (&b"urgent"[..], 9));
//! let (len, prio) = q.receive(&mut buf)?;
//! assert_eq!((&buf[..len], prio), (&b"routine"[..], 1));
//! // Empty now: a timed receive gives up.
//! let empty = q.receive_timeout(&mut buf, Duration::from_millis(10));
//! assert!(matches!(empty, Err(xipc::Error::TimedOut(_))));
//! xipc::mq::unlink(&name)?;
//! # Ok::<(), xipc::Error>(())
//! ```
//!
//! Errors: `EAGAIN` is [`Error::WouldBlock`], a timed call running out is
//! [`Error::TimedOut`], `EMSGSIZE` is [`Error::MessageTooLarge`] (the message
//! stays queued), `ENOENT` [`Error::NotFound`], `EEXIST` [`Error::Exists`],
//! `EACCES` [`Error::Permission`], `EINTR` (only when retrying is turned off
//! with [`MessageQueue::set_retry_on_signal`]) [`Error::Interrupted`]; the
//! rest are [`Error::Os`] with their errno.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// The longest queue name after its leading slash (`NAME_MAX`).
pub const NAME_MAX: usize = 255;

/// Where Linux sets the limits a queue creation can run into.
const MSG_MAX_PATH: &str = "/proc/sys/fs/mqueue/msg_max";
const MSGSIZE_MAX_PATH: &str = "/proc/sys/fs/mqueue/msgsize_max";
const MSG_DEFAULT_PATH: &str = "/proc/sys/fs/mqueue/msg_default";
const MSGSIZE_DEFAULT_PATH: &str = "/proc/sys/fs/mqueue/msgsize_default";
const QUEUES_MAX_PATH: &str = "/proc/sys/fs/mqueue/queues_max";

/// Checks a queue name: a leading slash, then 1 to [`NAME_MAX`] bytes with no
/// slash and no NUL.
pub fn validate_name(name: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::InvalidArgument(format!(
            "queue name {name:?} {why}; a queue name is \"/\" followed by 1 to {NAME_MAX} bytes without \"/\""
        )))
    };
    let Some(rest) = name.strip_prefix('/') else {
        return bad("does not start with \"/\"");
    };
    if rest.is_empty() {
        return bad("is empty after the \"/\"");
    }
    if rest.contains('/') {
        return bad("contains a second \"/\"");
    }
    if rest.contains('\0') {
        return bad("contains a NUL byte");
    }
    if rest.len() > NAME_MAX {
        return bad(&format!("is {} bytes long after the \"/\"", rest.len()));
    }
    Ok(())
}

fn c_name(name: &str) -> Result<CString> {
    validate_name(name)?;
    Ok(CString::new(name).expect("validated: no NUL"))
}

/// The highest priority plus one (`sysconf(_SC_MQ_PRIO_MAX)`; 32768 on Linux).
pub fn priority_limit() -> u32 {
    static LIMIT: OnceLock<u32> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        // SAFETY: sysconf reads a constant and has no preconditions.
        let value = unsafe { libc::sysconf(libc::_SC_MQ_PRIO_MAX) };
        // POSIX guarantees at least 32 (_POSIX_MQ_PRIO_MAX).
        u32::try_from(value).ok().filter(|&v| v >= 32).unwrap_or(32)
    })
}

fn read_proc_number(path: &str) -> Option<usize> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Removes the queue `name`. Processes that have it open keep using it; the
/// queue is destroyed when the last one closes it.
pub fn unlink(name: &str) -> Result<()> {
    let c = c_name(name)?;
    // SAFETY: `c` is a valid NUL-terminated string.
    if unsafe { libc::mq_unlink(c.as_ptr()) } == -1 {
        return Err(Error::last_os(format!("mq_unlink {name}")));
    }
    Ok(())
}

/// A queue's attributes, as `mq_getattr` reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attributes {
    /// The descriptor's flags: `O_NONBLOCK` or 0.
    pub flags: i64,
    /// The most messages the queue holds.
    pub max_messages: usize,
    /// The largest message, in bytes.
    pub max_message_size: usize,
    /// The messages queued now.
    pub current_messages: usize,
}

impl Attributes {
    /// Whether calls on this descriptor fail with [`Error::WouldBlock`] instead of waiting.
    pub fn nonblocking(&self) -> bool {
        self.flags & i64::from(libc::O_NONBLOCK) != 0
    }
}

/// How to open a queue, in the style of `std::fs::OpenOptions`. By default a
/// queue is opened for reading and writing, blocking, without creating it;
/// a created queue gets mode 0600.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    read: bool,
    write: bool,
    create: bool,
    exclusive: bool,
    nonblocking: bool,
    mode: u32,
    max_messages: Option<usize>,
    max_message_size: Option<usize>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            read: true,
            write: true,
            create: false,
            exclusive: false,
            nonblocking: false,
            mode: 0o600,
            max_messages: None,
            max_message_size: None,
        }
    }
}

impl OpenOptions {
    /// Read and write, blocking, no creation, mode 0600.
    pub fn new() -> Self {
        Self::default()
    }
    /// Open for receiving.
    pub fn read(&mut self, yes: bool) -> &mut Self {
        self.read = yes;
        self
    }
    /// Open for sending.
    pub fn write(&mut self, yes: bool) -> &mut Self {
        self.write = yes;
        self
    }
    /// Create the queue if it does not exist (`O_CREAT`).
    pub fn create(&mut self, yes: bool) -> &mut Self {
        self.create = yes;
        self
    }
    /// With `create`, fail with [`Error::Exists`] if the queue exists (`O_EXCL`).
    pub fn exclusive(&mut self, yes: bool) -> &mut Self {
        self.exclusive = yes;
        self
    }
    /// Fail with [`Error::WouldBlock`] instead of waiting (`O_NONBLOCK`).
    pub fn nonblocking(&mut self, yes: bool) -> &mut Self {
        self.nonblocking = yes;
        self
    }
    /// Permission bits of a created queue (default 0600; the umask applies).
    pub fn mode(&mut self, mode: u32) -> &mut Self {
        self.mode = mode;
        self
    }
    /// Capacity of a created queue (default: `/proc/sys/fs/mqueue/msg_default`).
    pub fn max_messages(&mut self, n: usize) -> &mut Self {
        self.max_messages = Some(n);
        self
    }
    /// Largest message of a created queue (default: `/proc/sys/fs/mqueue/msgsize_default`).
    pub fn max_message_size(&mut self, n: usize) -> &mut Self {
        self.max_message_size = Some(n);
        self
    }

    fn oflag(&self) -> Result<libc::c_int> {
        let mut flags = match (self.read, self.write) {
            (true, true) => libc::O_RDWR,
            (true, false) => libc::O_RDONLY,
            (false, true) => libc::O_WRONLY,
            (false, false) => {
                return Err(Error::InvalidArgument(
                    "a queue must be opened for reading, writing or both".into(),
                ))
            }
        };
        flags |= libc::O_CLOEXEC;
        if self.create {
            flags |= libc::O_CREAT;
        }
        if self.exclusive {
            if !self.create {
                return Err(Error::InvalidArgument(
                    "exclusive applies only when creating a queue".into(),
                ));
            }
            flags |= libc::O_EXCL;
        }
        if self.nonblocking {
            flags |= libc::O_NONBLOCK;
        }
        Ok(flags)
    }

    /// The attributes to create with, or None for the system's defaults.
    fn create_attr(&self) -> Result<Option<(usize, usize)>> {
        if !self.create || (self.max_messages.is_none() && self.max_message_size.is_none()) {
            return Ok(None);
        }
        let maxmsg = self
            .max_messages
            .unwrap_or_else(|| read_proc_number(MSG_DEFAULT_PATH).unwrap_or(10));
        let msgsize = self
            .max_message_size
            .unwrap_or_else(|| read_proc_number(MSGSIZE_DEFAULT_PATH).unwrap_or(8192));
        if maxmsg == 0 || msgsize == 0 {
            return Err(Error::InvalidArgument(format!(
                "max_messages ({maxmsg}) and max_message_size ({msgsize}) must be at least 1"
            )));
        }
        if maxmsg > libc::c_long::MAX as usize || msgsize > libc::c_long::MAX as usize {
            return Err(Error::InvalidArgument(
                "max_messages or max_message_size is out of range".into(),
            ));
        }
        Ok(Some((maxmsg, msgsize)))
    }

    /// Opens (or creates) the queue `name`.
    pub fn open(&self, name: &str) -> Result<MessageQueue> {
        let c = c_name(name)?;
        let oflag = self.oflag()?;
        let attr = self.create_attr()?;
        let mode = self.mode as libc::mode_t;
        // SAFETY: an all-zero mq_attr is valid; the fields we use are set below.
        let mut raw: libc::mq_attr = unsafe { std::mem::zeroed() };
        let attr_ptr = match attr {
            Some((maxmsg, msgsize)) => {
                raw.mq_maxmsg = maxmsg as libc::c_long;
                raw.mq_msgsize = msgsize as libc::c_long;
                &mut raw as *mut libc::mq_attr
            }
            None => std::ptr::null_mut(),
        };
        // SAFETY: `c` is NUL-terminated; the variadic mode and attribute
        // pointer (NULL or a live mq_attr) are what mq_open reads with O_CREAT.
        let mqd = unsafe { libc::mq_open(c.as_ptr(), oflag, mode, attr_ptr) };
        if mqd == -1 {
            let err = io::Error::last_os_error();
            return Err(self.open_error(name, attr, err));
        }
        // SAFETY: mq_open returned a new descriptor that we alone own; on
        // Linux a queue descriptor is a file descriptor.
        let fd = unsafe { OwnedFd::from_raw_fd(mqd) };
        ensure_cloexec(&fd)?;
        let queue = MessageQueue {
            fd,
            name: name.to_owned(),
            max_message_size: 0,
            max_messages: 0,
            retry_on_signal: AtomicBool::new(true),
        };
        let attrs = queue.attributes()?;
        Ok(MessageQueue {
            max_message_size: attrs.max_message_size,
            max_messages: attrs.max_messages,
            ..queue
        })
    }

    /// Turns an mq_open failure into an error that names the system limit it hit.
    fn open_error(&self, name: &str, attr: Option<(usize, usize)>, err: io::Error) -> Error {
        let context = format!("mq_open {name}");
        let errno = err.raw_os_error().unwrap_or(0);
        let limit = |text: String| Error::Os {
            context: format!("{context}: {text}"),
            source: io::Error::from_raw_os_error(errno),
        };
        match errno {
            libc::EINVAL if attr.is_some() => {
                let (maxmsg, msgsize) = attr.expect("checked");
                let mut why = Vec::new();
                if let Some(max) = read_proc_number(MSG_MAX_PATH).filter(|&m| maxmsg > m) {
                    why.push(format!(
                        "max_messages {maxmsg} exceeds the system limit msg_max = {max} (set in {MSG_MAX_PATH})"
                    ));
                }
                if let Some(max) = read_proc_number(MSGSIZE_MAX_PATH).filter(|&m| msgsize > m) {
                    why.push(format!(
                        "max_message_size {msgsize} exceeds the system limit msgsize_max = {max} (set in {MSGSIZE_MAX_PATH})"
                    ));
                }
                if why.is_empty() {
                    why.push(format!(
                        "the kernel refused max_messages {maxmsg} / max_message_size {msgsize} \
                         (limits: {MSG_MAX_PATH}, {MSGSIZE_MAX_PATH})"
                    ));
                }
                limit(why.join("; "))
            }
            libc::EMFILE => {
                let soft = soft_rlimit(libc::RLIMIT_MSGQUEUE);
                let files = soft_rlimit(libc::RLIMIT_NOFILE);
                limit(format!(
                    "a per-process or per-user limit was reached: RLIMIT_MSGQUEUE = {soft} bytes \
                     for all of this user's queues (`ulimit -q`, /etc/security/limits.conf) or \
                     RLIMIT_NOFILE = {files} descriptors (`ulimit -n`)"
                ))
            }
            libc::ENOSPC => limit(format!(
                "the system-wide number of queues reached queues_max = {} (set in {QUEUES_MAX_PATH})",
                read_proc_number(QUEUES_MAX_PATH).map_or("?".into(), |n| n.to_string())
            )),
            libc::ENOMEM => limit(format!(
                "out of memory creating the queue (max_messages x max_message_size = {} bytes)",
                attr.map_or(0, |(m, s)| m.saturating_mul(s))
            )),
            libc::ENOENT if !self.create => {
                Error::NotFound(format!("{context}: no queue by that name"))
            }
            _ => Error::os(context, err),
        }
    }
}

/// The soft limit of a resource, as text ("unlimited" when it is).
fn soft_rlimit(resource: libc::__rlimit_resource_t) -> String {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a live rlimit for getrlimit to fill.
    if unsafe { libc::getrlimit(resource, &mut limit) } == -1 {
        return "?".into();
    }
    if limit.rlim_cur == libc::RLIM_INFINITY {
        "unlimited".into()
    } else {
        limit.rlim_cur.to_string()
    }
}

fn ensure_cloexec(fd: &OwnedFd) -> Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    let flags = fcntl(fd, FcntlArg::F_GETFD).map_err(|e| Error::nix("fcntl F_GETFD", e))?;
    let flags = FdFlag::from_bits_truncate(flags);
    if !flags.contains(FdFlag::FD_CLOEXEC) {
        fcntl(fd, FcntlArg::F_SETFD(flags | FdFlag::FD_CLOEXEC))
            .map_err(|e| Error::nix("fcntl F_SETFD", e))?;
    }
    Ok(())
}

fn too_large(size: usize, limit: usize) -> Error {
    Error::MessageTooLarge { size, limit }
}

/// How long a send or receive may wait.
#[derive(Clone, Copy)]
enum Wait {
    /// As the descriptor says: wait while blocking, fail while nonblocking.
    Mode,
    /// Until this monotonic instant.
    Until(Instant),
}

impl Wait {
    fn after(timeout: Duration) -> Wait {
        // A timeout too large to represent is as good as none.
        Instant::now()
            .checked_add(timeout)
            .map_or(Wait::Mode, Wait::Until)
    }
}

/// `CLOCK_REALTIME` now plus `d`: the absolute time mq_timed* expect.
fn realtime_after(d: Duration) -> libc::timespec {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_REALTIME)
        .map(|t| Duration::new(t.tv_sec().max(0) as u64, t.tv_nsec() as u32))
        .unwrap_or_default();
    let at = now.saturating_add(d);
    libc::timespec {
        tv_sec: at.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
        tv_nsec: at.subsec_nanos() as libc::c_long,
    }
}

/// An open POSIX message queue. Not `Clone`; [`close`](Self::close) takes it
/// by value and dropping it closes it (on Linux a queue descriptor is a file
/// descriptor and `mq_close` is `close`). The descriptor is close-on-exec.
#[derive(Debug)]
pub struct MessageQueue {
    fd: OwnedFd,
    name: String,
    max_message_size: usize,
    max_messages: usize,
    retry_on_signal: AtomicBool,
}

impl MessageQueue {
    /// Opens the existing queue `name` for reading and writing, blocking.
    pub fn open(name: &str) -> Result<MessageQueue> {
        OpenOptions::new().open(name)
    }

    /// Creates the queue `name` (or opens it if it exists) with mode 0600.
    pub fn create(
        name: &str,
        max_messages: usize,
        max_message_size: usize,
    ) -> Result<MessageQueue> {
        OpenOptions::new()
            .create(true)
            .max_messages(max_messages)
            .max_message_size(max_message_size)
            .open(name)
    }

    /// The name this queue was opened by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The largest message this queue carries (fixed when it was created):
    /// a receive buffer must be at least this large.
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// The most messages this queue holds (fixed when it was created).
    pub fn max_messages(&self) -> usize {
        self.max_messages
    }

    /// Whether a blocking call interrupted by a signal is resumed (the
    /// default, with the remaining time for a timed call) or fails with
    /// [`Error::Interrupted`] so the caller can run its signal handlers first
    /// (what the Python binding does, as Python itself does).
    pub fn set_retry_on_signal(&self, retry: bool) {
        self.retry_on_signal.store(retry, Ordering::Relaxed);
    }

    fn raw(&self) -> libc::mqd_t {
        self.fd.as_raw_fd()
    }

    /// Sends `msg` with `priority` (0 to [`priority_limit`] − 1; higher is
    /// received first). Waits while the queue is full, unless nonblocking.
    pub fn send(&self, msg: &[u8], priority: u32) -> Result<()> {
        self.send_wait(msg, priority, Wait::Mode)
    }

    /// [`send`](Self::send) waiting at most `timeout` for room
    /// ([`Error::TimedOut`] then).
    pub fn send_timeout(&self, msg: &[u8], priority: u32, timeout: Duration) -> Result<()> {
        self.send_wait(msg, priority, Wait::after(timeout))
    }

    fn send_wait(&self, msg: &[u8], priority: u32, wait: Wait) -> Result<()> {
        if priority >= priority_limit() {
            return Err(Error::InvalidArgument(format!(
                "priority {priority} is out of range: 0 to {}",
                priority_limit() - 1
            )));
        }
        if msg.len() > self.max_message_size {
            return Err(too_large(msg.len(), self.max_message_size));
        }
        let ptr = msg.as_ptr().cast::<libc::c_char>();
        self.retrying(wait, "mq_send", msg.len(), |deadline| {
            // SAFETY: `ptr` points to `msg.len()` readable bytes; `deadline`,
            // when given, is a live timespec.
            let rc = unsafe {
                match deadline {
                    None => libc::mq_send(self.raw(), ptr, msg.len(), priority),
                    Some(at) => libc::mq_timedsend(self.raw(), ptr, msg.len(), priority, at),
                }
            };
            if rc == -1 {
                Err(io::Error::last_os_error())
            } else {
                Ok(())
            }
        })
    }

    /// Receives the oldest message of the highest priority into `buf`,
    /// returning its length and priority. `buf` must hold at least
    /// [`max_message_size`](Self::max_message_size) bytes, or the call fails
    /// with [`Error::MessageTooLarge`] and the message stays queued. Waits
    /// while the queue is empty, unless nonblocking.
    pub fn receive(&self, buf: &mut [u8]) -> Result<(usize, u32)> {
        self.receive_wait(buf, Wait::Mode)
    }

    /// [`receive`](Self::receive) waiting at most `timeout` for a message
    /// ([`Error::TimedOut`] then).
    pub fn receive_timeout(&self, buf: &mut [u8], timeout: Duration) -> Result<(usize, u32)> {
        self.receive_wait(buf, Wait::after(timeout))
    }

    /// [`receive`](Self::receive) into a new vector of the message's length.
    pub fn receive_vec(&self) -> Result<(Vec<u8>, u32)> {
        let mut buf = vec![0; self.max_message_size];
        let (len, priority) = self.receive(&mut buf)?;
        buf.truncate(len);
        Ok((buf, priority))
    }

    fn receive_wait(&self, buf: &mut [u8], wait: Wait) -> Result<(usize, u32)> {
        let cap = buf.len();
        let ptr = buf.as_mut_ptr().cast::<libc::c_char>();
        let mut priority = 0;
        let len = self.retrying(wait, "mq_receive", cap, |deadline| {
            // SAFETY: `ptr` points to `cap` writable bytes and `priority` is a
            // live u32; `deadline` is a live timespec for the timed call.
            let n = unsafe {
                match deadline {
                    None => libc::mq_receive(self.raw(), ptr, cap, &mut priority),
                    Some(at) => libc::mq_timedreceive(self.raw(), ptr, cap, &mut priority, at),
                }
            };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        })?;
        Ok((len, priority))
    }

    /// Runs one mq call until it succeeds, fails for good or the deadline
    /// passes. A timed try is given `CLOCK_REALTIME` now + the time left on
    /// the monotonic deadline, so EINTR resumes with the remaining time and
    /// an early ETIMEDOUT after the clock was stepped forward is retried.
    fn retrying<T>(
        &self,
        wait: Wait,
        call: &str,
        len: usize,
        mut attempt: impl FnMut(Option<&libc::timespec>) -> io::Result<T>,
    ) -> Result<T> {
        loop {
            let result = match wait {
                Wait::Mode => attempt(None),
                Wait::Until(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    attempt(Some(&realtime_after(left)))
                }
            };
            let err = match result {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            match (err.raw_os_error(), wait) {
                (Some(libc::EINTR), _) if self.retry_on_signal.load(Ordering::Relaxed) => continue,
                (Some(libc::ETIMEDOUT), Wait::Until(deadline)) if Instant::now() < deadline => {
                    continue
                }
                _ => return Err(self.map_errno(call, len, err)),
            }
        }
    }

    /// The one place an mq_send/mq_receive errno becomes an [`Error`].
    fn map_errno(&self, call: &str, len: usize, err: io::Error) -> Error {
        let name = &self.name;
        match err.raw_os_error() {
            Some(libc::EMSGSIZE) if call == "mq_receive" => too_large(self.max_message_size, len),
            Some(libc::EMSGSIZE) => too_large(len, self.max_message_size),
            Some(libc::ETIMEDOUT) => Error::TimedOut(format!("{call} on {name}")),
            Some(libc::EBADF) => Error::InvalidArgument(format!(
                "{call} on {name}: the queue was not opened for {}",
                if call == "mq_receive" {
                    "reading"
                } else {
                    "writing"
                }
            )),
            _ => Error::os(format!("{call} on {name}"), err),
        }
    }

    /// The queue's attributes now (`mq_getattr`).
    pub fn attributes(&self) -> Result<Attributes> {
        // SAFETY: an all-zero mq_attr is valid for mq_getattr to overwrite.
        let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
        // SAFETY: `attr` is a live, writable mq_attr.
        if unsafe { libc::mq_getattr(self.raw(), &mut attr) } == -1 {
            return Err(Error::last_os(format!("mq_getattr {}", self.name)));
        }
        Ok(Attributes {
            flags: attr.mq_flags as i64,
            max_messages: attr.mq_maxmsg as usize,
            max_message_size: attr.mq_msgsize as usize,
            current_messages: attr.mq_curmsgs as usize,
        })
    }

    /// Makes sends and receives on this descriptor fail with
    /// [`Error::WouldBlock`] instead of waiting (or wait again).
    pub fn set_nonblocking(&self, nonblocking: bool) -> Result<()> {
        // SAFETY: an all-zero mq_attr is valid; mq_setattr reads only mq_flags.
        let mut attr: libc::mq_attr = unsafe { std::mem::zeroed() };
        attr.mq_flags = if nonblocking {
            libc::O_NONBLOCK as libc::c_long
        } else {
            0
        };
        // SAFETY: `attr` is a live mq_attr; the old attributes are not asked for.
        if unsafe { libc::mq_setattr(self.raw(), &attr, std::ptr::null_mut()) } == -1 {
            return Err(Error::last_os(format!("mq_setattr {}", self.name)));
        }
        Ok(())
    }

    /// Registers for one notification: the returned [`Notification`]'s
    /// descriptor becomes readable when a message arrives on this queue while
    /// it is empty and no receiver is waiting (`mq_notify(3)`, delivered
    /// through a netlink socket as the C library's `SIGEV_THREAD` is). One
    /// process at a time may be registered on a queue; the registration ends
    /// when it fires, with [`cancel_notify`](Self::cancel_notify), or when
    /// this process closes the queue.
    pub fn notify_fd(&self) -> Result<Notification> {
        let sock = nix::sys::socket::socket(
            nix::sys::socket::AddressFamily::Netlink,
            nix::sys::socket::SockType::Raw,
            nix::sys::socket::SockFlag::SOCK_CLOEXEC,
            nix::sys::socket::SockProtocol::NetlinkRoute,
        )
        .map_err(|e| Error::nix("socket AF_NETLINK for mq_notify", e))?;
        let cookie = [0u8; NOTIFY_COOKIE_LEN];
        // SAFETY: sigevent is plain data; all-zero is valid and the fields the
        // kernel reads for SIGEV_THREAD are set below.
        let mut event: libc::sigevent = unsafe { std::mem::zeroed() };
        event.sigev_notify = libc::SIGEV_THREAD;
        event.sigev_signo = sock.as_raw_fd();
        event.sigev_value = libc::sigval {
            sival_ptr: cookie.as_ptr() as *mut libc::c_void,
        };
        // The raw system call: the C library's mq_notify would run its own
        // thread for SIGEV_THREAD; the kernel copies the cookie and keeps a
        // reference to the socket.
        // SAFETY: `event` and the cookie it points to are live for the call.
        let rc = unsafe { libc::syscall(libc::SYS_mq_notify, self.raw(), &event) };
        if rc == -1 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EBUSY) {
                return Err(Error::Exists(format!(
                    "mq_notify {}: a process is already registered for notification on this queue",
                    self.name
                )));
            }
            return Err(Error::os(format!("mq_notify {}", self.name), err));
        }
        Ok(Notification { sock })
    }

    /// Registers for one notification and runs `callback` on a helper thread
    /// when it fires (see [`notify_fd`](Self::notify_fd)). The thread ends
    /// without calling `callback` when the registration is cancelled or the
    /// queue closed.
    pub fn notify<F>(&self, callback: F) -> Result<()>
    where
        F: FnOnce() + Send + 'static,
    {
        let notification = self.notify_fd()?;
        std::thread::Builder::new()
            .name("xipc-mq-notify".into())
            .spawn(move || {
                if let Ok(true) = notification.wait() {
                    callback();
                }
            })
            .map_err(|e| Error::os("spawning the mq notification thread", e))?;
        Ok(())
    }

    /// Removes this process's notification registration, if any.
    pub fn cancel_notify(&self) -> Result<()> {
        // SAFETY: a NULL sigevent asks to unregister.
        let rc = unsafe { libc::mq_notify(self.raw(), std::ptr::null()) };
        if rc == -1 {
            return Err(Error::last_os(format!("mq_notify {} (cancel)", self.name)));
        }
        Ok(())
    }

    /// Removes the queue's name (see [`unlink`]); this descriptor stays usable.
    pub fn unlink(&self) -> Result<()> {
        unlink(&self.name)
    }

    /// Closes the queue, reporting an error that dropping would ignore.
    pub fn close(self) -> Result<()> {
        let mqd = self.into_raw_fd();
        // SAFETY: we owned `mqd` and give it up here.
        if unsafe { libc::mq_close(mqd) } == -1 {
            return Err(Error::last_os("mq_close"));
        }
        Ok(())
    }

    fn into_raw_fd(self) -> RawFd {
        use std::os::fd::IntoRawFd;
        self.fd.into_raw_fd()
    }
}

impl AsRawFd for MessageQueue {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for MessageQueue {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Length of the cookie the kernel sends through a notification socket, and
/// the values of its last byte (linux/mqueue.h).
const NOTIFY_COOKIE_LEN: usize = 32;
const NOTIFY_WOKENUP: u8 = 1;
const NOTIFY_REMOVED: u8 = 2;

/// A pending notification from [`MessageQueue::notify_fd`]: its descriptor
/// becomes readable once, when the notification fires or is removed.
#[derive(Debug)]
pub struct Notification {
    sock: OwnedFd,
}

impl Notification {
    /// Blocks until the notification fires (`true`) or its registration is
    /// removed by cancelling or closing the queue (`false`).
    pub fn wait(&self) -> Result<bool> {
        let mut cookie = [0u8; NOTIFY_COOKIE_LEN];
        loop {
            // SAFETY: `cookie` is a live buffer of NOTIFY_COOKIE_LEN bytes.
            let n = unsafe {
                libc::recv(
                    self.sock.as_raw_fd(),
                    cookie.as_mut_ptr().cast(),
                    cookie.len(),
                    libc::MSG_WAITALL,
                )
            };
            if n == -1 {
                let err = io::Error::last_os_error();
                if err.raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                return Err(Error::os("recv mq notification", err));
            }
            if n as usize != NOTIFY_COOKIE_LEN {
                return Err(Error::Protocol(format!(
                    "mq notification of {n} bytes, expected {NOTIFY_COOKIE_LEN}"
                )));
            }
            return match cookie[NOTIFY_COOKIE_LEN - 1] {
                NOTIFY_WOKENUP => Ok(true),
                NOTIFY_REMOVED => Ok(false),
                other => Err(Error::Protocol(format!(
                    "mq notification with unknown state {other}"
                ))),
            };
        }
    }
}

impl AsRawFd for Notification {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl AsFd for Notification {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert!(validate_name("/a").is_ok());
        assert!(validate_name(&format!("/{}", "x".repeat(NAME_MAX))).is_ok());
        for bad in ["", "/", "a", "a/b", "/a/b", "//", "/a\0b"] {
            let err = validate_name(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{bad:?}: {err}");
        }
        let long = format!("/{}", "x".repeat(NAME_MAX + 1));
        let err = validate_name(&long).unwrap_err().to_string();
        assert!(err.contains("is 256 bytes long"), "{err}");
    }

    #[test]
    fn options_refuse_contradictions() {
        let err = OpenOptions::new()
            .read(false)
            .write(false)
            .oflag()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)));
        let err = OpenOptions::new().exclusive(true).oflag().unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)));
        let flags = OpenOptions::new()
            .create(true)
            .exclusive(true)
            .nonblocking(true)
            .oflag();
        assert_eq!(
            flags.unwrap(),
            libc::O_RDWR | libc::O_CLOEXEC | libc::O_CREAT | libc::O_EXCL | libc::O_NONBLOCK
        );
    }

    #[test]
    fn priority_limit_is_posix() {
        assert!(priority_limit() >= 32);
    }
}
