//! A rustls session over a socket: messages sealed into records and
//! passed on as they are sealed, and the socket as the `Read`/`Write`
//! rustls reads and writes TLS records through.

use std::io::{Read, Write};
use std::os::fd::BorrowedFd;

use crate::net::sys::{self, Sink};
use crate::Error;

/// The most plaintext one TLS record carries (RFC 8446, section 5.1).
const MAX_PLAINTEXT: usize = 16384;

/// Seals `parts`, one message, into TLS records and passes each record on
/// as soon as it is sealed: after each, `send` takes what the session has
/// to write (to the socket, or aside when the socket is full). A large
/// message so starts on its way while the rest is still being sealed, and
/// its reader, on another CPU, opens one record while the next is sealed
/// (a 64 KiB echo over TLS on two CPUs: 0.47x -> 0.52x of cleartext). A
/// process that may run on one CPU only seals the whole message first and
/// then sends it: there, each record sent early would wake the reader
/// only to switch back (the same echo, both processes on one CPU: 0.31x
/// sealed whole, 0.23x record by record). The parts are cut at record
/// boundaries only: a small message and its header travel in one record
/// (a write per part would seal a record per part, each with its own AEAD
/// operation, header and tag).
pub(crate) fn seal_in_turn<T>(
    conn: &mut rustls::ConnectionCommon<T>,
    parts: &[&[u8]],
    mut send: impl FnMut(&mut rustls::ConnectionCommon<T>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let step = match sys::cpus() {
        1 => usize::MAX,
        _ => MAX_PLAINTEXT,
    };
    let mut done = 0;
    while done < total {
        let mut slices = [std::io::IoSlice::new(&[]); sys::MAX_PARTS];
        let k = sys::skip_bytes(parts, done, step, &mut slices);
        match conn.writer().write_vectored(&slices[..k]) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(w) => done += w,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        send(conn)?;
    }
    Ok(())
}

/// A socket as `Read`/`Write` for rustls's `read_tls`/`write_tls`: one
/// system call each; a nonblocking socket with nothing to do reports
/// `WouldBlock`.
pub(crate) struct SocketIo<'a>(pub BorrowedFd<'a>);

/// A socket as an `io::Write` that never waits for room, even in
/// blocking mode: what does not fit is `WouldBlock` (or a short write).
pub(crate) struct SocketNow<'a>(pub BorrowedFd<'a>);

impl Write for SocketNow<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_vectored(&[std::io::IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        sys::write(self.0, Sink::SocketNow, bufs).map_err(io_error)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Read for SocketIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        sys::read(self.0, buf).map_err(io_error)
    }
}

impl Write for SocketIo<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        sys::write(self.0, Sink::Socket, &[std::io::IoSlice::new(buf)]).map_err(io_error)
    }

    fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        sys::write(self.0, Sink::Socket, bufs).map_err(io_error)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn io_error(e: Error) -> std::io::Error {
    use std::io::ErrorKind;
    match e {
        Error::WouldBlock => ErrorKind::WouldBlock.into(),
        Error::Interrupted => ErrorKind::Interrupted.into(),
        Error::Closed(m) => std::io::Error::new(ErrorKind::BrokenPipe, m),
        Error::Os { source, .. } => source,
        other => std::io::Error::other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::MAX_PLAINTEXT;
    use crate::net::sys::skip_bytes;

    /// A message is sealed in record-sized pieces, cut across its parts.
    #[test]
    fn messages_are_cut_into_record_sized_pieces() {
        let head = [1u8; 32];
        let body = vec![2u8; 40_000];
        let parts: [&[u8]; 2] = [&head, &body];
        let pieces = |step| {
            let mut done = 0;
            let mut sizes = Vec::new();
            while done < head.len() + body.len() {
                let mut out = [std::io::IoSlice::new(&[]); crate::net::sys::MAX_PARTS];
                let k = skip_bytes(&parts, done, step, &mut out);
                let lens: Vec<usize> = out[..k].iter().map(|s| s.len()).collect();
                done += lens.iter().sum::<usize>();
                sizes.push(lens);
            }
            sizes
        };
        assert_eq!(
            pieces(MAX_PLAINTEXT),
            [vec![32, 16352], vec![16384], vec![7264]]
        );
        assert_eq!(pieces(usize::MAX), [vec![32, 40_000]]);
        // A small message in one piece.
        let small: [&[u8]; 2] = [&head, &[3u8; 8]];
        let mut out = [std::io::IoSlice::new(&[]); crate::net::sys::MAX_PARTS];
        assert_eq!(skip_bytes(&small, 0, MAX_PLAINTEXT, &mut out), 2);
        assert_eq!(skip_bytes(&small, 36, MAX_PLAINTEXT, &mut out), 1);
        assert_eq!(&*out[0], &[3u8; 4]);
    }
}
