//! The C face of `crate::rpc`: `xipc_rpc_client`, `xipc_rpc_server` and the
//! `xipc_rpc_call` a handler is given.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void, CString};
use std::os::fd::AsRawFd;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::stream::xipc_peer_credentials;
use super::tls::{config, xipc_tls_config};
use super::xdr::xipc_encoder;
use super::{guard, into_c_bytes_at, nonnull, slice_arg, str_arg, timeout_arg, write_out};
use crate::error::code;
use crate::net::{TlsConfig, TlsPeer};
use crate::rpc::{AuthSys, CallInfo, Client, Credential, Protocol, Server};
use crate::stream::PeerCredentials;
use crate::xdr::Encoder;
use crate::{Error, Result};

/// An RPC client: one connection (or UDP socket) to one program version.
/// Several threads may call through one client at once (their calls are in
/// flight together); only `xipc_rpc_client_close` must come after every
/// other call has returned.
pub struct xipc_rpc_client {
    inner: Client,
}

/// An RPC server. Any call may be made from any thread, also from a
/// handler (`xipc_rpc_server_stop` there stops the server once the handler
/// returns); only `xipc_rpc_server_close` must come after every other call
/// has returned, and never from a handler.
///
/// A server has no descriptor getter: it serves every listener and
/// connection on its own threads, which wait on one epoll set of their
/// own, so no single descriptor tells a caller when there is work for it.
/// `xipc_rpc_server_serve_forever` is the call that waits for the server.
pub struct xipc_rpc_server {
    inner: Server,
}

/// The call a handler serves (valid only during the handler).
pub struct xipc_rpc_call {
    xid: u32,
    prog: u32,
    vers: u32,
    procedure: u32,
    cred: Credential,
    /// The AUTH_SYS machine name as a C string, made when a handler first
    /// asks for it (no allocation per call otherwise).
    machine_name: OnceLock<CString>,
    peer_credentials: Option<PeerCredentials>,
    tls_peer: Option<Arc<TlsPeer>>,
    /// `tls_peer` as C strings, made when a handler first asks for them.
    tls_peer_c: OnceLock<CTlsPeer>,
}

/// A TLS peer's identity as C strings, made only for calls over TLS.
struct CTlsPeer {
    subject: CString,
    sans: Vec<CString>,
    fingerprint: CString,
}

impl CTlsPeer {
    fn new(peer: &TlsPeer) -> CTlsPeer {
        let c = |s: &str| CString::new(s.replace('\0', "")).unwrap_or_default();
        CTlsPeer {
            subject: c(&peer.subject),
            sans: peer.sans.iter().map(|s| c(s)).collect(),
            fingerprint: c(&peer.fingerprint),
        }
    }
}

/// A procedure handler. `user` is the pointer given at registration,
/// `args`/`args_len` the XDR argument bytes; the handler appends the XDR
/// results to `result` and returns 0, or returns `XIPC_EGARBAGE_ARGS`,
/// `XIPC_EXDR` or `XIPC_ELIMIT` (what an `xipc_decoder` reports for
/// arguments it cannot decode: a GARBAGE_ARGS reply), `XIPC_EAUTH` to
/// refuse the caller (MSG_DENIED, AUTH_ERROR with AUTH_TOOWEAK: for example
/// a certificate identity, see `xipc_rpc_call_tls_peer`, that may not call
/// this procedure) or any other negative value (SYSTEM_ERR reply). Handlers
/// run on server threads, possibly several at once, also for calls of one
/// connection.
pub type xipc_rpc_handler = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        call: *const xipc_rpc_call,
        args: *const u8,
        args_len: usize,
        result: *mut xipc_encoder,
    ) -> c_int,
>;

thread_local! {
    /// (low, high, auth_stat) of this thread's last RPC error.
    static DETAILS: Cell<(u32, u32, u32)> = const { Cell::new((0, 0, 0)) };
}

/// Records the details of an RPC error for `xipc_rpc_last_error_details`.
fn note(err: Error) -> Error {
    let details = match err {
        Error::ProgMismatch { low, high } | Error::RpcMismatch { low, high } => (low, high, 0),
        Error::Auth(stat) => (0, 0, stat),
        _ => (0, 0, 0),
    };
    DETAILS.with(|d| d.set(details));
    err
}

/// # Safety
/// `p` must be NULL or a live client.
unsafe fn client<'a>(p: *const xipc_rpc_client) -> Result<&'a Client> {
    // SAFETY: NULL is refused; otherwise live by contract.
    unsafe { p.as_ref() }
        .map(|c| &c.inner)
        .ok_or_else(|| Error::InvalidArgument("client is NULL".into()))
}

/// # Safety
/// `p` must be NULL or a live server.
unsafe fn server<'a>(p: *const xipc_rpc_server) -> Result<&'a Server> {
    // SAFETY: NULL is refused; otherwise live by contract.
    unsafe { p.as_ref() }
        .map(|s| &s.inner)
        .ok_or_else(|| Error::InvalidArgument("server is NULL".into()))
}

/// Connects a client to program `prog` version `vers` at `host`:`port` over
/// `proto` ("tcp", "udp" or "unix"; for "unix" `host` is the socket path).
/// Port 0 looks the port up through rpcbind on `host` first. Nothing
/// listening is `XIPC_EOS` with `xipc_last_os_error()` ECONNREFUSED.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_client_connect(
    host: *const c_char,
    port: u16,
    prog: u32,
    vers: u32,
    proto: *const c_char,
    out: *mut *mut xipc_rpc_client,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (host, proto) = unsafe { (str_arg(host, "host")?, str_arg(proto, "proto")?) };
        // SAFETY: forwarded contract.
        unsafe { connect_within(host, port, prog, vers, proto, None, DEFAULT_SETUP, out) }
    })
}

/// `xipc_rpc_client_connect` with RPC-with-TLS (RFC 9289) over "tcp" or
/// "unix": the AUTH_TLS probe, then a TLS 1.3 handshake in which the
/// server's certificate must chain to `tls`'s CA bundle and name `host`
/// (or `tls`'s server name); under "mtls" the client presents its own.
/// No call is ever sent in the clear: a server that does not answer
/// STARTTLS, a failed handshake or a certificate that does not check out
/// is `XIPC_ETLS`; "udp" is `XIPC_EUNSUPPORTED` (it would need DTLS).
/// Port 0 looks the port up through rpcbind first (in the clear, as
/// rpcbind speaks no TLS).
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_client_connect_tls(
    host: *const c_char,
    port: u16,
    prog: u32,
    vers: u32,
    proto: *const c_char,
    tls: *const xipc_tls_config,
    out: *mut *mut xipc_rpc_client,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let (host, proto, tls) = unsafe {
            (
                str_arg(host, "host")?,
                str_arg(proto, "proto")?,
                config(tls)?,
            )
        };
        // SAFETY: forwarded contract.
        unsafe { connect_within(host, port, prog, vers, proto, Some(tls), DEFAULT_SETUP, out) }
    })
}

/// `xipc_rpc_client_connect`, or with a non-NULL `tls`
/// `xipc_rpc_client_connect_tls`, its whole set-up within `timeout_ms`
/// milliseconds: the rpcbind lookup when `port` is 0, the connect, and
/// under TLS the AUTH_TLS probe and the handshake (`XIPC_WAIT_FOREVER`: as
/// long as it takes; the other two allow 25,000 ms). A server that stays
/// silent past it is `XIPC_ETIMEDOUT`; `XIPC_NO_WAIT` (0) is refused with
/// `XIPC_EINVAL`. The calls' own timeout is set apart
/// (`xipc_rpc_client_set_timeout`).
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_client_connect_timeout(
    host: *const c_char,
    port: u16,
    prog: u32,
    vers: u32,
    proto: *const c_char,
    tls: *const xipc_tls_config,
    timeout_ms: i64,
    out: *mut *mut xipc_rpc_client,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract (`tls` may be NULL: no TLS).
        let (host, proto, tls) = unsafe {
            (
                str_arg(host, "host")?,
                str_arg(proto, "proto")?,
                if tls.is_null() {
                    None
                } else {
                    Some(config(tls)?)
                },
            )
        };
        let timeout = timeout_arg(timeout_ms)?;
        if timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::InvalidArgument(
                "a connection cannot be set up in 0 ms: give a positive timeout".into(),
            ));
        }
        // SAFETY: forwarded contract.
        unsafe { connect_within(host, port, prog, vers, proto, tls, timeout, out) }
    })
}

/// How long the connect functions without a timeout of their own allow
/// for setting a connection up.
const DEFAULT_SETUP: Option<Duration> = Some(crate::rpc::client::DEFAULT_TIMEOUT);

/// The body of the three connect functions: the port looked up through
/// rpcbind when it is 0 (not for a Unix socket), the connection set up
/// within `timeout`, with TLS under `tls`, and the client handed out.
///
/// # Safety
/// `out` is NULL or valid for a write.
#[allow(clippy::too_many_arguments)]
unsafe fn connect_within(
    host: &str,
    port: u16,
    prog: u32,
    vers: u32,
    proto: &str,
    tls: Option<&TlsConfig>,
    timeout: Option<Duration>,
    out: *mut *mut xipc_rpc_client,
) -> crate::Result<()> {
    nonnull!(out);
    let proto = Protocol::parse(proto)?;
    let c = if port == 0 && proto != Protocol::Unix {
        Client::lookup_timeout(host, prog, vers, proto, tls, timeout)
    } else {
        Client::connect_timeout(host, port, prog, vers, proto, tls, timeout)
    }
    .map_err(note)?;
    let handle = Box::into_raw(Box::new(xipc_rpc_client { inner: c }));
    // SAFETY: `out` checked non-NULL.
    unsafe { write_out(out, handle) }
}

/// Calls procedure `procedure` with XDR argument bytes; on success `*reply` and
/// `*reply_len` receive the XDR result bytes, to be freed with
/// `xipc_bytes_free`. An RPC error status returns its own code
/// (`XIPC_EPROG_MISMATCH`, ...; see `xipc_rpc_last_error_details`).
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_client_call(
    c: *mut xipc_rpc_client,
    procedure: u32,
    args: *const u8,
    args_len: usize,
    reply: *mut *mut u8,
    reply_len: *mut usize,
) -> c_int {
    guard(|| {
        nonnull!(reply);
        nonnull!(reply_len);
        // SAFETY: forwarded contract.
        let (c, args) = unsafe { (client(c)?, slice_arg(args, args_len)?) };
        let (message, at) = c
            .call_results_at(procedure, args, c.timeout())
            .map_err(note)?;
        let (ptr, len) = into_c_bytes_at(message, at);
        // SAFETY: out-pointers checked non-NULL.
        unsafe {
            write_out(reply, ptr)?;
            write_out(reply_len, len)
        }
    })
}

/// Sends a call that expects no reply (batched); returns once it is sent.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_client_call_batched(
    c: *mut xipc_rpc_client,
    procedure: u32,
    args: *const u8,
    args_len: usize,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { client(c)?.call_batched(procedure, slice_arg(args, args_len)?) })
}

/// Calls the NULL procedure (0).
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_client_ping(c: *mut xipc_rpc_client) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { client(c)? }.ping().map_err(note))
}

/// Sets the per-call timeout (default 25,000 ms; `XIPC_WAIT_FOREVER`: as
/// long as it takes). UDP calls are retransmitted with backoff until it
/// passes. `XIPC_NO_WAIT` (0) is refused with `XIPC_EINVAL`: every call
/// would fail at once.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_client_set_timeout(
    c: *mut xipc_rpc_client,
    timeout_ms: i64,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let client = unsafe { client(c)? };
        client.set_timeout(timeout_arg(timeout_ms)?)
    })
}

/// Whether a TCP/Unix client reconnects and retries once when its
/// connection is lost (default false).
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_client_set_reconnect(c: *mut xipc_rpc_client, on: bool) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe { client(c)? }.set_reconnect(on);
        Ok(())
    })
}

/// The largest call sent and reply accepted, in bytes (default 4 MiB on
/// streams, 65,507 on UDP, which is also the most UDP allows; a larger
/// value is lowered to it). 0 is refused with `XIPC_EINVAL`.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_client_set_max_message_size(
    c: *mut xipc_rpc_client,
    bytes: usize,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe { client(c)? }.set_max_message_size(bytes)
    })
}

/// How long a call waiting for its reply polls the socket before it
/// sleeps, in microseconds (default 50, or the `XIPC_BUSY_POLL_US`
/// environment variable; 0: it sleeps at once). Polling saves the wake-up
/// of a sleeping thread (20-25 us on a virtual machine) when client and
/// server run on different CPUs, while it keeps a CPU busy; only a call
/// that is its process's one caller waiting polls, and only in a process
/// that may run on more than one CPU. Over 1,000,000 (1 s) is refused with
/// `XIPC_EINVAL`. (A setting in microseconds, not a timeout: the C API's
/// timeouts are in milliseconds.)
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_client_set_busy_poll(
    c: *mut xipc_rpc_client,
    microseconds: u32,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe { client(c)? }.set_busy_poll(Duration::from_micros(microseconds.into()))
    })
}

/// Sends AUTH_SYS credentials with every call from now on (`machine_name`
/// at most 255 bytes, at most 16 `gids`). `machine_name` NULL uses this
/// process's identity and ignores the other arguments.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_client_set_auth_sys(
    c: *mut xipc_rpc_client,
    stamp: u32,
    machine_name: *const c_char,
    uid: u32,
    gid: u32,
    gids: *const u32,
    ngids: usize,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let c = unsafe { client(c)? };
        let sys = if machine_name.is_null() {
            AuthSys::current()
        } else {
            // SAFETY: forwarded contract.
            let (name, gids) = unsafe {
                let gids = if gids.is_null() && ngids == 0 {
                    &[][..]
                } else {
                    nonnull!(gids);
                    std::slice::from_raw_parts(gids, ngids)
                };
                (str_arg(machine_name, "machine_name")?, gids)
            };
            AuthSys {
                stamp,
                machine_name: name.to_string(),
                uid,
                gid,
                gids: gids.to_vec(),
            }
        };
        c.set_credential(&Credential::Sys(sys))
    })
}

/// Writes the descriptor of the client's socket to `*fd`: the connection of
/// a TCP or Unix client; for UDP, the client's own socket, bound to an
/// ephemeral port and connected to the server's address. It stays owned by
/// the client. It is there to inspect or tune the socket (getsockname,
/// getpeername, socket options), not to read or write: bytes read from it
/// are replies other calls wait for, and bytes written to it break the
/// framing of calls. A client that reconnects (`xipc_rpc_client_set_reconnect`)
/// gets a new socket: ask again after a reconnect.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_client_fd(c: *const xipc_rpc_client, fd: *mut c_int) -> c_int {
    guard(|| {
        // SAFETY: live handle by contract; `fd` checked by `write_out`.
        unsafe { write_out(fd, client(c)?.as_raw_fd()) }
    })
}

/// Closes the client's connection and frees the handle. Accepts NULL. It
/// returns 0: closing a client has nothing to report.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_client_close(c: *mut xipc_rpc_client) -> c_int {
    guard(|| {
        if !c.is_null() {
            // SAFETY: a live handle from `xipc_rpc_client_connect`, by contract.
            drop(unsafe { Box::from_raw(c) });
        }
        Ok(())
    })
}

/// Details of this thread's last RPC error: the version range of
/// `XIPC_EPROG_MISMATCH` and `XIPC_ERPC_MISMATCH`, the auth_stat of
/// `XIPC_EAUTH` (zeros otherwise). Any pointer may be NULL.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_last_error_details(
    low: *mut u32,
    high: *mut u32,
    auth_stat: *mut u32,
) -> c_int {
    guard(|| {
        let (l, h, s) = DETAILS.with(Cell::get);
        // SAFETY: each pointer is NULL (skipped) or writable by contract.
        unsafe {
            for (p, v) in [(low, l), (high, h), (auth_stat, s)] {
                if !p.is_null() {
                    p.write(v);
                }
            }
        }
        Ok(())
    })
}

/// Creates a server (not yet listening).
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_new(out: *mut *mut xipc_rpc_server) -> c_int {
    guard(|| {
        nonnull!(out);
        let handle = Box::into_raw(Box::new(xipc_rpc_server {
            inner: Server::new(),
        }));
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, handle) }
    })
}

/// A user pointer the C caller promises may be used from any thread.
struct UserPtr(*mut c_void);
// SAFETY: the registration contract says `user` must stay valid and be
// usable from server threads for the server's lifetime.
unsafe impl Send for UserPtr {}
// SAFETY: as above; xipc never dereferences it, only hands it back.
unsafe impl Sync for UserPtr {}

/// Serves procedure `procedure` of `prog` version `vers` with `handler`, which
/// gets `user` back on every call. Procedure 0 answers on its own unless
/// registered.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_register(
    s: *mut xipc_rpc_server,
    prog: u32,
    vers: u32,
    procedure: u32,
    handler: xipc_rpc_handler,
    user: *mut c_void,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let s = unsafe { server(s)? };
        let Some(handler) = handler else {
            return Err(Error::InvalidArgument("handler is NULL".into()));
        };
        let user = UserPtr(user);
        s.register(prog, vers, procedure, move |info, args, out| {
            call_handler(handler, &user, info, args, out)
        });
        Ok(())
    })
}

type RawHandler = unsafe extern "C" fn(
    *mut c_void,
    *const xipc_rpc_call,
    *const u8,
    usize,
    *mut xipc_encoder,
) -> c_int;

fn call_handler(
    h: RawHandler,
    user: &UserPtr,
    info: &CallInfo,
    args: &[u8],
    out: &mut Encoder,
) -> Result<()> {
    let call = xipc_rpc_call {
        xid: info.xid,
        prog: info.prog,
        vers: info.vers,
        procedure: info.procedure,
        cred: info.cred.clone(),
        machine_name: OnceLock::new(),
        peer_credentials: info.peer_credentials,
        tls_peer: info.tls_peer.clone(),
        tls_peer_c: OnceLock::new(),
    };
    // The handler appends to the server's own results buffer, lent to it
    // for the call as an encoder handle.
    let mut enc = xipc_encoder {
        inner: std::mem::take(out),
    };
    // SAFETY: the handler gets a live call, the argument bytes and a live
    // encoder, all valid for the duration of the call, as documented.
    let status = unsafe { h(user.0, &call, args.as_ptr(), args.len(), &mut enc) };
    *out = enc.inner;
    match status {
        0 => Ok(()),
        code::GARBAGE_ARGS | code::XDR | code::LIMIT => Err(Error::GarbageArgs),
        code::AUTH => Err(Error::Auth(crate::rpc::auth::stat::TOOWEAK)),
        _ => Err(Error::SystemErr),
    }
}

/// Listens on TCP `host`:`port` (0 = any port); `*bound_port` (may be NULL)
/// receives the port.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_listen_tcp(
    s: *mut xipc_rpc_server,
    host: *const c_char,
    port: u16,
    bound_port: *mut u16,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let p = unsafe { server(s)?.listen_tcp(str_arg(host, "host")?, port)? };
        if !bound_port.is_null() {
            // SAFETY: non-NULL and writable by contract.
            unsafe { bound_port.write(p) };
        }
        Ok(())
    })
}

/// `xipc_rpc_server_listen_tcp` with RPC-with-TLS (RFC 9289): a client's
/// AUTH_TLS probe is answered with STARTTLS and a TLS 1.3 handshake with
/// `tls`'s certificate follows (under "mtls" the client must present a
/// certificate that chains to `tls`'s CA bundle). Any other call before the
/// handshake is refused with an AUTH_ERROR reply. A configuration without
/// a certificate and key is `XIPC_EINVAL`.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_listen_tcp_tls(
    s: *mut xipc_rpc_server,
    host: *const c_char,
    port: u16,
    tls: *const xipc_tls_config,
    bound_port: *mut u16,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let p = unsafe { server(s)?.listen_tcp_tls(str_arg(host, "host")?, port, config(tls)?)? };
        if !bound_port.is_null() {
            // SAFETY: non-NULL and writable by contract.
            unsafe { bound_port.write(p) };
        }
        Ok(())
    })
}

/// Listens on UDP `host`:`port`, like `xipc_rpc_server_listen_tcp`.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_listen_udp(
    s: *mut xipc_rpc_server,
    host: *const c_char,
    port: u16,
    bound_port: *mut u16,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let p = unsafe { server(s)?.listen_udp(str_arg(host, "host")?, port)? };
        if !bound_port.is_null() {
            // SAFETY: non-NULL and writable by contract.
            unsafe { bound_port.write(p) };
        }
        Ok(())
    })
}

/// Listens on a Unix stream socket at `path` (removed on stop), made with
/// permissions 0600 whatever the umask: only this user (and root) may connect.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_listen_unix(
    s: *mut xipc_rpc_server,
    path: *const c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { server(s)?.listen_unix(str_arg(path, "path")?) })
}

/// `xipc_rpc_server_listen_unix` with the socket file's permission bits
/// (e.g. 0660 for a group, 0666 for everyone), set exactly whatever the umask.
/// A mode with bits beyond 0777 (file-type, setuid, setgid, sticky) is
/// refused with `XIPC_EINVAL`.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_listen_unix_mode(
    s: *mut xipc_rpc_server,
    path: *const c_char,
    mode: u32,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { server(s)?.listen_unix_with_mode(str_arg(path, "path")?, mode) })
}

/// `xipc_rpc_server_listen_unix_mode` with RPC-with-TLS, as
/// `xipc_rpc_server_listen_tcp_tls`.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_listen_unix_tls(
    s: *mut xipc_rpc_server,
    path: *const c_char,
    mode: u32,
    tls: *const xipc_tls_config,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { server(s)?.listen_unix_tls(str_arg(path, "path")?, mode, config(tls)?) })
}

/// Keeps the replies of the last `entries` calls so retransmitted calls are
/// answered from the cache (0, the default, turns it off).
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_set_duplicate_cache(
    s: *mut xipc_rpc_server,
    entries: usize,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe { server(s)? }.set_duplicate_cache(entries);
        Ok(())
    })
}

/// The largest call accepted on a stream, in bytes (default 4 MiB); a
/// bigger record closes its connection. 0 is refused with `XIPC_EINVAL`.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_set_max_message_size(
    s: *mut xipc_rpc_server,
    bytes: usize,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe { server(s)? }.set_max_message_size(bytes)
    })
}

/// How many calls of one stream connection may run at once (default 16):
/// calls a client has in flight together run concurrently, their replies
/// going out as they finish. 1 runs them in order, one at a time, as
/// libtirpc does. 0 is refused with `XIPC_EINVAL`.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_set_concurrent_calls_per_connection(
    s: *mut xipc_rpc_server,
    calls: usize,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe { server(s)? }.set_concurrent_calls_per_connection(calls)
    })
}

/// How many stream connections are served at once (default 65,536); a
/// connection accepted past the limit is closed at once. 0 is refused
/// (`XIPC_EINVAL`).
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_set_max_connections(
    s: *mut xipc_rpc_server,
    connections: usize,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe { server(s)? }.set_max_connections(connections)
    })
}

/// The pool of threads that wait for work and run handlers: `min` are
/// started with the server and kept (default 1); more are added while
/// handlers run, up to `max` (default 32), and those not needed for 30
/// seconds leave again. `max` bounds how many handlers run at once. Refused
/// (`XIPC_EINVAL`) unless 1 <= `min` <= `max`.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_set_threads(
    s: *mut xipc_rpc_server,
    min: usize,
    max: usize,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe { server(s)? }.set_threads(min, max)
    })
}

/// A function run on a server thread as it ends.
pub type xipc_rpc_thread_end = Option<unsafe extern "C" fn(user: *mut c_void)>;

/// Runs `end(user)` on each of the server's threads as it ends (it left
/// the pool after idling, or the server stopped), after the last handler
/// it ran; NULL runs nothing (the default). For a language runtime that
/// keeps per-thread state for its handlers, to release it there. `user`
/// must stay valid until the server is freed.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_set_thread_end(
    s: *mut xipc_rpc_server,
    end: xipc_rpc_thread_end,
    user: *mut c_void,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let s = unsafe { server(s)? };
        let user = UserPtr(user);
        s.on_thread_end(end.map(|end| -> Box<dyn Fn() + Send + Sync> {
            Box::new(move || {
                let user = &user;
                // SAFETY: the caller promised `end` may be called on server
                // threads with `user` for the server's lifetime.
                unsafe { end(user.0) }
            })
        }));
        Ok(())
    })
}

/// The stack of each of the server's threads, where handlers run (default
/// 2 MiB; under 64 KiB is refused with `XIPC_EINVAL`).
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_set_thread_stack_size(
    s: *mut xipc_rpc_server,
    bytes: usize,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe { server(s)? }.set_thread_stack_size(bytes)
    })
}

/// How long a server thread waiting for a caller's next call polls the
/// socket before it sleeps, in microseconds (default 50, or the
/// `XIPC_BUSY_POLL_US` environment variable; 0: it sleeps at once).
/// Polling saves the wake-up of a sleeping thread (20-25 us on a virtual
/// machine) when caller and server run on different CPUs, while it keeps a
/// CPU busy; it happens only in a process that may run on more than one
/// CPU, with no handler running, at most one connection open and no other
/// thread polling. Over 1,000,000 (1 s) is refused with `XIPC_EINVAL`. (A
/// setting in microseconds, not a timeout: the C API's timeouts are in
/// milliseconds.)
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_set_busy_poll(
    s: *mut xipc_rpc_server,
    microseconds: u32,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe { server(s)? }.set_busy_poll(Duration::from_micros(microseconds.into()))
    })
}

/// Closes stream connections idle this long (default 120,000 ms;
/// `XIPC_WAIT_FOREVER`: never). `XIPC_NO_WAIT` (0) is refused with
/// `XIPC_EINVAL`: it would close every connection at once.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_set_idle_timeout(
    s: *mut xipc_rpc_server,
    timeout_ms: i64,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let server = unsafe { server(s)? };
        server.set_idle_timeout(timeout_arg(timeout_ms)?)
    })
}

/// Whether start/stop register with and unregister from the local rpcbind
/// (default true; silently skipped when none runs). Stop removes only the
/// registrations that still name this server.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_set_rpcbind_registration(
    s: *mut xipc_rpc_server,
    on: bool,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe { server(s)? }.set_rpcbind_registration(on);
        Ok(())
    })
}

/// Whether start takes over a program version that another running server
/// has registered with rpcbind (default false: start fails with
/// `XIPC_EEXIST`, and `xipc_last_error()` names the program, the version
/// and the address registered). A registration whose server is gone is
/// replaced either way.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_set_rpcbind_replace(
    s: *mut xipc_rpc_server,
    replace: bool,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe { server(s)? }.set_rpcbind_replace(replace);
        Ok(())
    })
}

/// Registers with rpcbind (see `xipc_rpc_server_set_rpcbind_registration`
/// and `xipc_rpc_server_set_rpcbind_replace`), then starts serving on
/// background threads. A refused registration is `XIPC_EEXIST` and nothing
/// starts.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_start(s: *mut xipc_rpc_server) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { server(s)? }.start())
}

/// Serves until `xipc_rpc_server_stop` is called (from a handler or another thread)
/// and has finished; returns at once if the server was stopped before. Not for a
/// signal handler: block the signals and `sigwait` for them on a thread instead.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_serve_forever(s: *mut xipc_rpc_server) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { server(s)? }.serve_forever())
}

/// Stops gracefully: calls in progress finish, then every connection closes.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_stop(s: *mut xipc_rpc_server) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe { server(s)? }.stop();
        Ok(())
    })
}

/// Stops the server gracefully if it runs (as `xipc_rpc_server_stop`) and
/// frees the handle. Accepts NULL (and returns 0).
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_server_close(s: *mut xipc_rpc_server) -> c_int {
    guard(|| {
        if !s.is_null() {
            // SAFETY: a live handle from `xipc_rpc_server_new`, by contract.
            unsafe { Box::from_raw(s) }.inner.stop();
        }
        Ok(())
    })
}

/// # Safety
/// `call` must be NULL or the call a handler was given.
unsafe fn call_ref<'a>(call: *const xipc_rpc_call) -> Option<&'a xipc_rpc_call> {
    // SAFETY: forwarded contract.
    unsafe { call.as_ref() }
}

/// The call's transaction id (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_call_xid(call: *const xipc_rpc_call) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { call_ref(call) }.map_or(0, |c| c.xid)
}

/// The called program number (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_call_prog(call: *const xipc_rpc_call) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { call_ref(call) }.map_or(0, |c| c.prog)
}

/// The called version (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_call_vers(call: *const xipc_rpc_call) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { call_ref(call) }.map_or(0, |c| c.vers)
}

/// The called procedure (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_call_procedure(call: *const xipc_rpc_call) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { call_ref(call) }.map_or(0, |c| c.procedure)
}

/// The caller's AUTH_SYS credential: `XIPC_ENOENT` when the call carried
/// AUTH_NONE. The group ids go to `gids`, which holds `gids_cap` values (16,
/// the most AUTH_SYS carries, always suffices; fewer than the call carries
/// is `XIPC_EMSGSIZE`), and their number to `*ngids`. `*machine_name` stays
/// valid during the handler. Any output pointer may be NULL (`gids` with
/// `gids_cap` 0).
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_call_auth_sys(
    call: *const xipc_rpc_call,
    stamp: *mut u32,
    machine_name: *mut *const c_char,
    uid: *mut u32,
    gid: *mut u32,
    gids: *mut u32,
    gids_cap: usize,
    ngids: *mut usize,
) -> c_int {
    guard(|| {
        nonnull!(call);
        // SAFETY: forwarded contract.
        let call = unsafe { &*call };
        let Credential::Sys(sys) = &call.cred else {
            return Err(Error::NotFound(
                "the call carries no AUTH_SYS credential".into(),
            ));
        };
        if !gids.is_null() && sys.gids.len() > gids_cap {
            return Err(Error::TooManyElements {
                count: sys.gids.len(),
                limit: gids_cap,
            });
        }
        if gids.is_null() && gids_cap != 0 {
            return Err(Error::InvalidArgument(format!(
                "gids is NULL but gids_cap is {gids_cap}"
            )));
        }
        // SAFETY: each output is NULL (skipped) or writable by contract;
        // `gids` holds `gids_cap` ≥ the number copied.
        unsafe {
            for (p, v) in [(stamp, sys.stamp), (uid, sys.uid), (gid, sys.gid)] {
                if !p.is_null() {
                    p.write(v);
                }
            }
            if !machine_name.is_null() {
                let name = call.machine_name.get_or_init(|| {
                    CString::new(sys.machine_name.replace('\0', "")).unwrap_or_default()
                });
                machine_name.write(name.as_ptr());
            }
            if !gids.is_null() {
                std::ptr::copy_nonoverlapping(sys.gids.as_ptr(), gids, sys.gids.len());
            }
            if !ngids.is_null() {
                ngids.write(sys.gids.len());
            }
        }
        Ok(())
    })
}

/// The calling process as the kernel saw it when its connection was made
/// (`SO_PEERCRED`: pid, uid, gid), written to `*out`: only for calls that
/// came over a Unix socket; `XIPC_ENOENT` for TCP and UDP calls. Unlike
/// AUTH_SYS, the caller cannot forge it.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_call_peer_credentials(
    call: *const xipc_rpc_call,
    out: *mut xipc_peer_credentials,
) -> c_int {
    guard(|| {
        nonnull!(call);
        nonnull!(out);
        // SAFETY: forwarded contract.
        let Some(c) = unsafe { &*call }.peer_credentials else {
            return Err(Error::NotFound(
                "peer credentials exist only for calls over a Unix socket".into(),
            ));
        };
        let creds = xipc_peer_credentials {
            pid: c.pid,
            uid: c.uid,
            gid: c.gid,
        };
        // SAFETY: checked non-NULL; writable by contract.
        unsafe { write_out(out, creds) }
    })
}

/// Who called over TLS, from the certificate the client presented:
/// `*subject` its subject ("CN=client-1,O=Example"), `*fingerprint` the
/// SHA-256 of the certificate in lowercase hex, `*nsans` how many
/// subjectAltNames it has (see `xipc_rpc_call_tls_san`); the strings stay
/// valid during the handler. A TLS client without a certificate (policy
/// "tls") gives "" and 0. `XIPC_ENOENT` for a call that did not come over
/// TLS. Any output pointer may be NULL.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_call_tls_peer(
    call: *const xipc_rpc_call,
    subject: *mut *const c_char,
    fingerprint: *mut *const c_char,
    nsans: *mut usize,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let peer = unsafe { tls_peer(call)? };
        // SAFETY: each output is NULL (skipped) or writable by contract.
        unsafe {
            if !subject.is_null() {
                subject.write(peer.subject.as_ptr());
            }
            if !fingerprint.is_null() {
                fingerprint.write(peer.fingerprint.as_ptr());
            }
            if !nsans.is_null() {
                nsans.write(peer.sans.len());
            }
        }
        Ok(())
    })
}

/// The `index`th subjectAltName of a TLS caller's certificate, as
/// "DNS:name", "IP:address", "email:address" or "URI:uri"; valid during the
/// handler. An index past the last is `XIPC_EINVAL`; a call that did not
/// come over TLS `XIPC_ENOENT`.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpc_call_tls_san(
    call: *const xipc_rpc_call,
    index: usize,
    san: *mut *const c_char,
) -> c_int {
    guard(|| {
        nonnull!(san);
        // SAFETY: forwarded contract.
        let peer = unsafe { tls_peer(call)? };
        let Some(name) = peer.sans.get(index) else {
            return Err(Error::InvalidArgument(format!(
                "subjectAltName {index} of {}",
                peer.sans.len()
            )));
        };
        // SAFETY: checked non-NULL; writable by contract.
        unsafe { write_out(san, name.as_ptr()) }
    })
}

/// # Safety
/// `call` must be NULL or the call a handler was given.
unsafe fn tls_peer<'a>(call: *const xipc_rpc_call) -> Result<&'a CTlsPeer> {
    // SAFETY: forwarded contract.
    let call =
        unsafe { call_ref(call) }.ok_or_else(|| Error::InvalidArgument("call is NULL".into()))?;
    let peer = call
        .tls_peer
        .as_ref()
        .ok_or_else(|| Error::NotFound("the call did not come over TLS".into()))?;
    Ok(call.tls_peer_c.get_or_init(|| CTlsPeer::new(peer)))
}
