//! The C face of `crate::rpc::rpcbind`'s embedded server:
//! `xipc_rpcbind_server`, configured by its setters, then started.

use std::ffi::{c_char, c_int};
use std::sync::{Mutex, MutexGuard};

use super::{guard, nonnull, str_arg, write_out};
use crate::rpc::rpcbind::{RpcbindOptions, RpcbindServer};
use crate::sync::lock;
use crate::{Error, Result};

/// An embedded rpcbind (portmap v2, rpcbind v3/v4 on program 100000).
/// Made by `xipc_rpcbind_server_new`, configured by its setters (what
/// `xipc rpcbind` does without options is the default), then started with
/// `xipc_rpcbind_server_start`; a setter after the start is `XIPC_EINVAL`.
/// Any call may be made from any thread; only `xipc_rpcbind_server_close`
/// must come after every other call has returned.
pub struct xipc_rpcbind_server {
    state: Mutex<State>,
}

struct State {
    options: RpcbindOptions,
    running: Option<RpcbindServer>,
}

/// # Safety
/// `p` must be NULL or a live handle from `xipc_rpcbind_server_new`.
unsafe fn state<'a>(p: *const xipc_rpcbind_server) -> Result<MutexGuard<'a, State>> {
    // SAFETY: NULL is refused; otherwise live by contract.
    let s = unsafe { p.as_ref() }
        .ok_or_else(|| Error::InvalidArgument("rpcbind server is NULL".into()))?;
    Ok(lock(&s.state))
}

/// Changes the options of a server not started yet.
///
/// # Safety
/// As [`state`].
unsafe fn configure(
    p: *mut xipc_rpcbind_server,
    change: impl FnOnce(RpcbindOptions) -> Result<RpcbindOptions>,
) -> Result<()> {
    // SAFETY: forwarded contract.
    let mut st = unsafe { state(p)? };
    if st.running.is_some() {
        return Err(Error::InvalidArgument(
            "the rpcbind server has started: its options are fixed".into(),
        ));
    }
    st.options = change(st.options.clone())?;
    Ok(())
}

/// Makes an rpcbind server with the default options: port 111 of every
/// IPv4 interface and of IPv6 loopback, the Unix socket /run/rpcbind.sock
/// (on port 111 only), calls forwarded only for callers on this machine,
/// at most 4096 registrations.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpcbind_server_new(out: *mut *mut xipc_rpcbind_server) -> c_int {
    guard(|| {
        nonnull!(out);
        let handle = Box::into_raw(Box::new(xipc_rpcbind_server {
            state: Mutex::new(State {
                options: RpcbindOptions::new(),
                running: None,
            }),
        }));
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, handle) }
    })
}

/// Also listens (TCP and UDP) on `address`, a host name or an IP address
/// ("0.0.0.0" or "::" for every interface); call it once per address.
/// Once any is given, the server listens on those and on loopback (so that
/// this machine's servers can register) instead of the default addresses.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpcbind_server_listen(
    s: *mut xipc_rpcbind_server,
    address: *const c_char,
) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let address = unsafe { str_arg(address, "address")? };
        // SAFETY: forwarded contract.
        unsafe { configure(s, |o| Ok(o.listen(address))) }
    })
}

/// The TCP and UDP port on every address (default 111; 0: one the system
/// picks, which `xipc_rpcbind_server_port` tells once started).
#[no_mangle]
pub unsafe extern "C" fn xipc_rpcbind_server_set_port(
    s: *mut xipc_rpcbind_server,
    port: u16,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { configure(s, |o| Ok(o.port(port))) })
}

/// Whether CALLIT, BCAST and INDIRECT forward calls for callers on other
/// machines (default false, as rpcbind since 1.2.5; they get
/// PROC_UNAVAIL). Callers on this machine are always served.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpcbind_server_set_remote_calls(
    s: *mut xipc_rpcbind_server,
    on: bool,
) -> c_int {
    // SAFETY: forwarded contract.
    guard(|| unsafe { configure(s, |o| Ok(o.remote_calls(on))) })
}

/// The most registrations held, the server's own 12 included (default
/// 4096; at least 1, less than 12 counts as 12): past them SET answers
/// FALSE.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpcbind_server_set_max_registrations(
    s: *mut xipc_rpcbind_server,
    registrations: usize,
) -> c_int {
    guard(|| {
        if registrations == 0 {
            return Err(Error::InvalidArgument(
                "an rpcbind must hold at least 1 registration".into(),
            ));
        }
        // SAFETY: forwarded contract.
        unsafe { configure(s, |o| Ok(o.max_registrations(registrations))) }
    })
}

/// Serves also on a Unix stream socket at `path`, mode 0666 (a socket
/// another server listens on is left alone; a file there that is not a
/// socket makes `xipc_rpcbind_server_start` fail with `XIPC_EEXIST` and is
/// not touched); NULL: on none, on port 111 too.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpcbind_server_set_local_socket(
    s: *mut xipc_rpcbind_server,
    path: *const c_char,
) -> c_int {
    guard(|| {
        let path = if path.is_null() {
            None
        } else {
            // SAFETY: non-NULL, NUL-terminated by contract.
            Some(unsafe { str_arg(path, "path")? }.to_string())
        };
        // SAFETY: forwarded contract.
        unsafe {
            configure(s, |o| {
                Ok(match path {
                    Some(p) => o.local_socket(p),
                    None => o.no_local_socket(),
                })
            })
        }
    })
}

/// Listens and starts serving on background threads. A port taken on an
/// address given (or on the first default one) is `XIPC_EEXIST`, and so
/// is a file at the Unix socket's path that is not a socket; a second
/// start is `XIPC_EINVAL`.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpcbind_server_start(s: *mut xipc_rpcbind_server) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        let mut st = unsafe { state(s)? };
        if st.running.is_some() {
            return Err(Error::InvalidArgument(
                "the rpcbind server has started already".into(),
            ));
        }
        st.running = Some(RpcbindServer::start(&st.options)?);
        Ok(())
    })
}

/// `*port` receives the TCP and UDP port the server serves on; a server
/// not started is `XIPC_EINVAL`.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpcbind_server_port(
    s: *const xipc_rpcbind_server,
    port: *mut u16,
) -> c_int {
    guard(|| {
        nonnull!(port);
        // SAFETY: forwarded contract.
        let st = unsafe { state(s)? };
        let running = st
            .running
            .as_ref()
            .ok_or_else(|| Error::InvalidArgument("the rpcbind server has not started".into()))?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(port, running.port()) }
    })
}

/// Stops gracefully: calls in progress finish, then every listener and
/// connection closes. Stopping a server not started, or stopped, does
/// nothing.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpcbind_server_stop(s: *mut xipc_rpcbind_server) -> c_int {
    guard(|| {
        // SAFETY: forwarded contract.
        if let Some(running) = &unsafe { state(s)? }.running {
            running.stop();
        }
        Ok(())
    })
}

/// Stops the server (see `xipc_rpcbind_server_stop`) and frees it.
/// Accepts NULL.
#[no_mangle]
pub unsafe extern "C" fn xipc_rpcbind_server_close(s: *mut xipc_rpcbind_server) -> c_int {
    guard(|| {
        if !s.is_null() {
            // SAFETY: a live handle from `xipc_rpcbind_server_new`, by contract.
            let handle = unsafe { Box::from_raw(s) };
            let st = handle.state.into_inner().unwrap_or_else(|p| p.into_inner());
            if let Some(running) = st.running {
                running.stop();
            }
        }
        Ok(())
    })
}
