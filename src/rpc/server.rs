//! The RPC server most programs want: a [`Service`] that registers its
//! programs with this machine's rpcbind while it runs.

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use super::rpcbind::Registration;
use super::svc::Service;
use crate::sync::lock;
use crate::Result;

/// An ONC RPC server: a [`Service`] (every method of which it has) that
/// also registers its programs with the local rpcbind when it starts and
/// removes them when it stops. Cheap to clone: clones share one server.
///
/// ```
/// use xipc::rpc::{Client, Credential, Protocol, Server};
///
/// let server = Server::new();
/// server.set_rpcbind_registration(false);
/// // Procedure 1 of version 2 answers the caller's uid (AUTH_SYS).
/// server.register(0x2000_0103, 2, 1, |call, _args, out| match &call.cred {
///     Credential::Sys(sys) => Ok(out.put_uint(sys.uid)),
///     _ => Err(xipc::Error::Auth(1)),
/// });
/// let port = server.listen_udp("127.0.0.1", 0)?;
/// server.start()?;
///
/// let client = Client::connect("127.0.0.1", port, 0x2000_0103, 3, Protocol::Udp)?;
/// // Version 3 is not served: the reply names the versions that are.
/// assert!(matches!(client.ping(), Err(xipc::Error::ProgMismatch { low: 2, high: 2 })));
/// server.stop();
/// # Ok::<(), xipc::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Server {
    service: Service,
    rpcbind: Arc<Mutex<Rpcbind>>,
}

/// Whether to register, whether to take over a live server's
/// registration, and what is registered.
struct Rpcbind {
    on: bool,
    replace: bool,
    registration: Option<Registration>,
}

impl Default for Rpcbind {
    fn default() -> Self {
        Rpcbind {
            on: true,
            replace: false,
            registration: None,
        }
    }
}

impl Deref for Server {
    type Target = Service;

    fn deref(&self) -> &Service {
        &self.service
    }
}

impl Server {
    /// A server with no programs and no listeners: [`register`](Service::register)
    /// handlers, add listeners, then [`start`](Self::start) it.
    pub fn new() -> Server {
        Server::default()
    }

    /// Whether `start` registers with (and `stop` unregisters from) the
    /// local rpcbind, when one answers (default on). `stop` removes only
    /// the registrations that still name this server.
    pub fn set_rpcbind_registration(&self, on: bool) {
        self.rpcbind().on = on;
    }

    /// Whether `start` takes over a program version that another running
    /// server has registered with rpcbind (default off: `start` fails with
    /// [`Error::Exists`](crate::Error::Exists), naming the program, the
    /// version and the address registered). A registration whose server is
    /// gone is replaced either way.
    pub fn set_rpcbind_replace(&self, replace: bool) {
        self.rpcbind().replace = replace;
    }

    /// Registers with rpcbind (see [`set_rpcbind_registration`](Self::set_rpcbind_registration)
    /// and [`set_rpcbind_replace`](Self::set_rpcbind_replace)), then starts
    /// serving on the pool's threads. When the registration is refused,
    /// nothing starts.
    pub fn start(&self) -> Result<()> {
        let mut rb = self.rpcbind();
        let registered = rb.on && rb.registration.is_none() && !self.service.is_stopped();
        if registered {
            rb.registration = Some(Registration::register(&self.service, rb.replace)?);
        }
        if let Err(e) = self.service.start() {
            if registered {
                rb.registration = None;
            }
            return Err(e);
        }
        Ok(())
    }

    /// Starts (if needed) and blocks until [`stop`](Self::stop) is called
    /// and has finished; returns at once if the server was stopped before.
    pub fn serve_forever(&self) -> Result<()> {
        match self.start() {
            // Stopped before it could start: nothing to serve.
            Err(_) if self.service.is_stopped() => {}
            other => other?,
        }
        self.service.serve_forever()
    }

    /// Unregisters from rpcbind, then stops gracefully (see
    /// [`Service::stop`]).
    pub fn stop(&self) {
        let registration = self.rpcbind().registration.take();
        drop(registration);
        self.service.stop();
    }

    fn rpcbind(&self) -> std::sync::MutexGuard<'_, Rpcbind> {
        lock(&self.rpcbind)
    }
}
