//! Answering calls, without any I/O: a call message in, a reply out. The
//! event loop, the UDP endpoint and the fuzzers all go through
//! [`Dispatcher::dispatch`].

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::net::TlsPeer;
use crate::rpc::auth::Credential;
use crate::rpc::drc::{checksum, ClientKey, DuplicateCache, Lookup, RequestKey};
use crate::rpc::message::{
    decode_call, AcceptStat, BadCall, RejectStat, ReplyHeader, PLAIN_SUCCESS,
};
use crate::stream::record::LAST_FRAGMENT;
use crate::stream::PeerCredentials;
use crate::sync::{lock, read, write};
use crate::xdr::Encoder;
use crate::{Error, Result};

/// Who called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Peer {
    /// A TCP connection, by the caller's address.
    Tcp(SocketAddr),
    /// A UDP datagram, by the caller's address.
    Udp(SocketAddr),
    /// A Unix-socket connection, numbered by the server.
    Unix(u64),
}

/// What a handler learns about the call it serves.
#[derive(Clone, Debug)]
pub struct CallInfo {
    /// The call's transaction id.
    pub xid: u32,
    /// The program number.
    pub prog: u32,
    /// The program's version.
    pub vers: u32,
    /// The procedure number.
    pub procedure: u32,
    /// The caller's credential (AUTH_NONE or AUTH_SYS).
    pub cred: Credential,
    /// Who called.
    pub peer: Peer,
    /// The server-side address the call came in on, when known.
    pub local: Option<SocketAddr>,
    /// The calling process as the kernel saw it when the connection was
    /// made (`SO_PEERCRED`: pid, uid, gid): Unix sockets only, None on TCP
    /// and UDP. Unlike an AUTH_SYS credential, the caller cannot forge it.
    pub peer_credentials: Option<PeerCredentials>,
    /// The TLS session's peer, for a call that came over RPC-with-TLS
    /// (None for a cleartext call): what the client's certificate says,
    /// checked against the listener's CA bundle under mutual TLS (all
    /// empty when the client presented none).
    pub tls_peer: Option<Arc<TlsPeer>>,
}

/// Where a call came from: what a connection (or a datagram) tells about
/// its caller, the same for every call it carries.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Who called.
    pub peer: Peer,
    /// The server-side address, when known.
    pub local: Option<SocketAddr>,
    /// The calling process, on a Unix socket.
    pub peer_credentials: Option<PeerCredentials>,
    /// The TLS peer, once the connection's TLS handshake has finished.
    pub tls_peer: Option<Arc<TlsPeer>>,
}

impl Caller {
    /// How the duplicate-request cache tells this caller apart.
    fn key(&self) -> ClientKey {
        match self.peer {
            Peer::Tcp(a) | Peer::Udp(a) => ClientKey::Addr(a),
            Peer::Unix(id) => ClientKey::Connection(id),
        }
    }
}

/// A procedure's implementation: given the call and its XDR argument
/// bytes, it appends the XDR results to the encoder (which starts empty).
/// `Err(Error::GarbageArgs)` (or an XDR or limit error from decoding the
/// arguments) answers GARBAGE_ARGS; `Err(Error::ProgUnavail)`,
/// `Err(Error::ProgMismatch { .. })` and `Err(Error::ProcUnavail)` answer
/// their own status (for a handler that forwards calls);
/// `Err(Error::Auth(stat))` refuses the caller (MSG_DENIED, AUTH_ERROR
/// with that `auth_stat`, for a handler that checks who calls); any other error
/// (or a panic) answers SYSTEM_ERR, and whatever the handler encoded is
/// dropped.
pub type Handler = dyn Fn(&CallInfo, &[u8], &mut Encoder) -> Result<()> + Send + Sync;

/// What a handler inside the crate may answer: its results, or nothing at
/// all (rpcbind's CALLIT stays silent when the call it forwards fails).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    Results,
    Silence,
}

type StoredHandler = dyn Fn(&CallInfo, &[u8], &mut Encoder) -> Result<Answer> + Send + Sync;

/// Looked up on every call: hashed with foldhash, not SipHash (the keys
/// come from callers, but a program's table holds only what the server
/// registered, so no caller can grow it).
type Programs = FastMap<u32, BTreeMap<u32, FastMap<u32, Arc<StoredHandler>>>>;
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The programs a server answers, and its duplicate-request cache.
///
/// ```
/// use xipc::rpc::svc::{Caller, Dispatcher, Peer};
/// use xipc::rpc::message::{reply_results, CallHeader};
/// use xipc::rpc::OpaqueAuth;
/// use xipc::xdr::Encoder;
///
/// let d = Dispatcher::new();
/// d.register(0x2000_0001, 1, 1, |_, args, out| {
///     out.put_raw(args); // echo
///     Ok(())
/// });
/// let mut call = Encoder::new();
/// CallHeader { xid: 5, prog: 0x2000_0001, vers: 1, procedure: 1,
///              cred: OpaqueAuth::none(), verf: OpaqueAuth::none() }.encode(&mut call)?;
/// call.put_uint(42);
/// let caller = Caller { peer: Peer::Unix(1), local: None, peer_credentials: None, tls_peer: None };
/// let reply = d.answer(call.as_bytes(), &caller).expect("a reply");
/// assert_eq!(reply_results(&reply)?, [0, 0, 0, 42]);
/// # Ok::<(), xipc::Error>(())
/// ```
#[derive(Default)]
pub struct Dispatcher {
    programs: RwLock<Programs>,
    drc: Mutex<Option<DuplicateCache>>,
    /// `drc` holds a cache (read without its lock on every call).
    drc_on: AtomicBool,
}

impl Dispatcher {
    /// Answers no program yet.
    pub fn new() -> Dispatcher {
        Dispatcher::default()
    }

    /// Serves `procedure` of `prog` version `vers` with `handler`
    /// (replacing an earlier one). Procedure 0 answers on its own unless
    /// registered.
    pub fn register<F>(&self, prog: u32, vers: u32, procedure: u32, handler: F)
    where
        F: Fn(&CallInfo, &[u8], &mut Encoder) -> Result<()> + Send + Sync + 'static,
    {
        self.register_answer(prog, vers, procedure, move |info, args, out| {
            handler(info, args, out).map(|()| Answer::Results)
        });
    }

    /// [`register`](Self::register) for a handler that may send no reply.
    pub(crate) fn register_answer<F>(&self, prog: u32, vers: u32, procedure: u32, handler: F)
    where
        F: Fn(&CallInfo, &[u8], &mut Encoder) -> Result<Answer> + Send + Sync + 'static,
    {
        let mut programs = write(&self.programs);
        programs
            .entry(prog)
            .or_default()
            .entry(vers)
            .or_default()
            .insert(procedure, Arc::new(handler));
    }

    /// Every (program, version) served.
    pub fn versions(&self) -> Vec<(u32, u32)> {
        let programs = read(&self.programs);
        let mut all: Vec<(u32, u32)> = programs
            .iter()
            .flat_map(|(p, vs)| vs.keys().map(move |v| (*p, *v)))
            .collect();
        all.sort_unstable();
        all
    }

    /// Keeps the replies of the last `entries` calls so retransmissions are
    /// answered from the cache (0 turns the cache off).
    pub fn set_duplicate_cache(&self, entries: usize) {
        let mut drc = lock(&self.drc);
        *drc = (entries > 0).then(|| DuplicateCache::new(entries));
        self.drc_on.store(entries > 0, Ordering::SeqCst);
    }

    /// Answers the call message `msg` from `caller`. The results go into
    /// `results` (cleared first); the return value is what to send before
    /// them: a record mark counting both, then the reply header. `None`
    /// means nothing is sent (an unreadable message, a reply where a call
    /// was expected, a retransmission still being answered, or a handler
    /// that stays silent). A datagram leaves out the 4-byte record mark.
    pub fn dispatch(&self, msg: &[u8], caller: &Caller, results: &mut Encoder) -> Option<Vec<u8>> {
        results.clear();
        let call = match decode_call(msg) {
            Ok(call) => call,
            Err(BadCall::Deny { xid, stat }) => {
                return Some(head(&ReplyHeader::denied(xid, stat), 0))
            }
            Err(BadCall::NotACall { .. }) | Err(BadCall::Unreadable(_)) => return None,
        };
        let h = &call.header;
        let key = match self.drc_on.load(Ordering::SeqCst) {
            true => self.drc_begin(h.xid, caller, h.prog, h.vers, h.procedure, call.args),
            false => None,
        };
        let key = match key {
            Some(Err(done)) => return done,
            Some(Ok(key)) => Some(key),
            None => None,
        };
        let info = CallInfo {
            xid: h.xid,
            prog: h.prog,
            vers: h.vers,
            procedure: h.procedure,
            cred: call.cred,
            peer: caller.peer.clone(),
            local: caller.local,
            peer_credentials: caller.peer_credentials,
            tls_peer: caller.tls_peer.clone(),
        };
        let reply = self.run(&info, call.args, results);
        if let Some(key) = key {
            if let Some(cache) = lock(&self.drc).as_mut() {
                match &reply {
                    Some(head) => cache.finish(&key, &[&head[4..], results.as_bytes()].concat()),
                    None => cache.abandon(&key),
                }
            }
        }
        reply
    }

    /// The whole reply message (without record mark) to `msg`, as
    /// [`dispatch`](Self::dispatch) answers it.
    pub fn answer(&self, msg: &[u8], caller: &Caller) -> Option<Vec<u8>> {
        let mut results = Encoder::new();
        let head = self.dispatch(msg, caller, &mut results)?;
        Some([&head[4..], results.as_bytes()].concat())
    }

    /// Looks the call up in the duplicate-request cache, when there is one:
    /// `Ok(key)` to run it (and record the reply under `key`), `Err(what
    /// to send)` when it was seen before.
    #[allow(clippy::type_complexity)]
    fn drc_begin(
        &self,
        xid: u32,
        caller: &Caller,
        prog: u32,
        vers: u32,
        procedure: u32,
        args: &[u8],
    ) -> Option<std::result::Result<RequestKey, Option<Vec<u8>>>> {
        let mut drc = lock(&self.drc);
        let cache = drc.as_mut()?;
        let key = RequestKey {
            xid,
            client: caller.key(),
            prog,
            vers,
            procedure,
            checksum: checksum(args),
        };
        Some(match cache.begin(&key) {
            Lookup::New => Ok(key),
            Lookup::InProgress => Err(None),
            Lookup::Done(message) => {
                let mut record = mark(message.len()).to_vec();
                crate::copy::extend(&mut record, &message);
                Err(Some(record))
            }
        })
    }

    fn run(&self, info: &CallInfo, args: &[u8], results: &mut Encoder) -> Option<Vec<u8>> {
        let handler = {
            let programs = read(&self.programs);
            let Some(versions) = programs.get(&info.prog) else {
                return Some(accepted(info.xid, AcceptStat::ProgUnavail));
            };
            let Some(procs) = versions.get(&info.vers) else {
                let low = versions.keys().next().copied().unwrap_or(0);
                let high = versions.keys().next_back().copied().unwrap_or(0);
                return Some(accepted(info.xid, AcceptStat::ProgMismatch { low, high }));
            };
            match procs.get(&info.procedure) {
                Some(h) => h.clone(),
                None if info.procedure == 0 => {
                    return Some(accepted(info.xid, AcceptStat::Success))
                }
                None => return Some(accepted(info.xid, AcceptStat::ProcUnavail)),
            }
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| handler(info, args, results)));
        let stat = match outcome {
            Ok(Ok(Answer::Results)) => return Some(success_head(info.xid, results.len())),
            Ok(Ok(Answer::Silence)) => {
                results.clear();
                return None;
            }
            // Arguments that are malformed or exceed a decoding limit.
            Ok(Err(Error::GarbageArgs | Error::Xdr { .. } | Error::Limit { .. })) => {
                AcceptStat::GarbageArgs
            }
            Ok(Err(Error::ProgUnavail)) => AcceptStat::ProgUnavail,
            Ok(Err(Error::ProgMismatch { low, high })) => AcceptStat::ProgMismatch { low, high },
            Ok(Err(Error::ProcUnavail)) => AcceptStat::ProcUnavail,
            // The handler refuses the caller (by its identity, say).
            Ok(Err(Error::Auth(why))) => {
                results.clear();
                let header = ReplyHeader::denied(info.xid, RejectStat::AuthError(why));
                return Some(head(&header, 0));
            }
            Ok(Err(_)) | Err(_) => AcceptStat::SystemErr,
        };
        results.clear();
        Some(accepted(info.xid, stat))
    }
}

/// An accepted reply without results, as a record mark and header.
fn accepted(xid: u32, stat: AcceptStat) -> Vec<u8> {
    head(&ReplyHeader::accepted(xid, stat), 0)
}

/// The record mark (counting the header and `results_len` bytes of results
/// after it) and `header`.
pub(crate) fn head(header: &ReplyHeader, results_len: usize) -> Vec<u8> {
    let mut enc = Encoder::from_vec(crate::spare::take(48));
    enc.put_uint(0);
    // A reply header holds at most a 400-byte verifier, which always fits.
    header.encode(&mut enc).expect("reply header encodes");
    let mut bytes = enc.into_bytes();
    let len = bytes.len() - 4 + results_len;
    bytes[..4].copy_from_slice(&mark(len));
    bytes
}

/// [`head`] of a successful reply with an AUTH_NONE verifier, nearly every
/// reply: its seven words written at once, not encoded one by one.
pub(crate) fn success_head(xid: u32, results_len: usize) -> Vec<u8> {
    const WORDS: usize = 6;
    let mut bytes = crate::spare::take(4 + 4 * WORDS);
    bytes.extend_from_slice(&mark(4 * WORDS + results_len));
    bytes.extend_from_slice(&xid.to_be_bytes());
    bytes.extend_from_slice(&PLAIN_SUCCESS);
    bytes
}

/// The mark of a one-fragment record of `len` bytes.
fn mark(len: usize) -> [u8; 4] {
    (len as u32 | LAST_FRAGMENT).to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The successful reply's header written at once is the one encoded
    /// field by field.
    #[test]
    fn success_head_is_the_encoded_header() {
        for (xid, results_len) in [(0, 0), (0x0102_0304, 4), (u32::MAX, 70_000)] {
            let encoded = head(
                &ReplyHeader::accepted(xid, AcceptStat::Success),
                results_len,
            );
            assert_eq!(success_head(xid, results_len), encoded);
        }
    }
}
