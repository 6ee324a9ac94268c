//! Anonymous pipes and FIFOs (named pipes).

use std::fs::OpenOptions;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use nix::fcntl::OFlag;
use nix::sys::stat::Mode;

use super::{Kind, Stream};
use crate::{Error, Result};

/// A new anonymous pipe as (reader, writer), both close-on-exec. To give an
/// end to a child process, see [`Stream::set_inheritable`].
pub fn pipe() -> Result<(Stream, Stream)> {
    let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| Error::nix("pipe2", e))?;
    Ok((
        Stream::with_kind(r, Kind::Pipe, false),
        Stream::with_kind(w, Kind::Pipe, false),
    ))
}

/// Creates a FIFO at `path` with exactly `mode` (not masked by the umask).
/// An existing file at `path` is [`Error::Exists`].
pub fn mkfifo(path: impl AsRef<Path>, mode: u32) -> Result<()> {
    let path = path.as_ref();
    check_mode(mode)?;
    nix::unistd::mkfifo(path, Mode::from_bits_truncate(mode))
        .map_err(|e| Error::nix(format!("mkfifo {}", path.display()), e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::os(format!("chmod {}", path.display()), e))
}

fn check_mode(mode: u32) -> Result<()> {
    if mode & !0o7777 != 0 {
        return Err(Error::InvalidArgument(format!(
            "mode {mode:#o} has bits outside 0o7777"
        )));
    }
    Ok(())
}

/// Which end of a FIFO to open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FifoMode {
    /// The reading end (`O_RDONLY`).
    Read,
    /// The writing end (`O_WRONLY`).
    Write,
}

/// Opens the FIFO at `path` for reading or writing.
///
/// Blocking, the open waits until the other end is opened too. Not blocking,
/// opening for reading returns at once, and opening for writing while no
/// process has it open for reading is [`Error::WouldBlock`]; the stream is
/// then in nonblocking mode ([`Stream::set_nonblocking`] changes it).
///
/// ```
/// use xipc::stream::{self, FifoMode};
///
/// let path = std::env::temp_dir().join(format!("xipc-doc-{}.fifo", std::process::id()));
/// stream::mkfifo(&path, 0o600)?;
/// // Nonblocking, this one process can open both ends without waiting.
/// let reader = stream::open_fifo(&path, FifoMode::Read, false)?;
/// let writer = stream::open_fifo(&path, FifoMode::Write, false)?;
/// writer.send(b"through a FIFO")?;
/// assert_eq!(reader.receive()?.as_deref(), Some(&b"through a FIFO"[..]));
/// assert!(matches!(reader.receive(), Err(xipc::Error::WouldBlock)));
/// std::fs::remove_file(&path).unwrap();
/// # Ok::<(), xipc::Error>(())
/// ```
pub fn open_fifo(path: impl AsRef<Path>, mode: FifoMode, blocking: bool) -> Result<Stream> {
    let path = path.as_ref();
    let mut options = OpenOptions::new();
    match mode {
        FifoMode::Read => options.read(true),
        FifoMode::Write => options.write(true),
    };
    if !blocking {
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| match e.raw_os_error() {
        Some(libc::EINTR) => Error::Interrupted,
        Some(libc::ENXIO) => Error::WouldBlock,
        _ => Error::os(format!("open FIFO {}", path.display()), e),
    })?;
    let fd = OwnedFd::from(file);
    if Kind::of(fd.as_fd())? != Kind::Pipe {
        return Err(Error::InvalidArgument(format!(
            "{} is not a FIFO",
            path.display()
        )));
    }
    Ok(Stream::with_kind(fd, Kind::Pipe, !blocking))
}
