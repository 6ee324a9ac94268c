//! How an embedded rpcbind serves: where it listens, whether it forwards
//! calls for other machines, how many registrations it holds.

use std::path::PathBuf;

use super::prot::{LOCAL_SOCKET, PORT};

/// Most registrations the embedded rpcbind holds by default.
pub const DEFAULT_MAX_REGISTRATIONS: usize = 4096;

/// The addresses an embedded rpcbind listens on when none is given: every
/// IPv4 interface and IPv6 loopback.
const DEFAULT_LISTEN: [&str; 2] = ["0.0.0.0", "::1"];

/// Loopback, added to the addresses given so that this machine's servers
/// can always register.
const LOOPBACK: [&str; 2] = ["127.0.0.1", "::1"];

/// The configuration of an embedded rpcbind ([`RpcbindServer`](super::RpcbindServer),
/// [`serve_with_options`](super::serve_with_options), `xipc rpcbind`).
///
/// ```
/// use xipc::rpc::rpcbind::RpcbindOptions;
///
/// let options = RpcbindOptions::new()
///     .listen("127.0.0.1")
///     .port(0)                // any free port; 111 is the usual one
///     .remote_calls(false)    // the default: forward only for this machine
///     .max_registrations(256);
/// assert_eq!(options.listen_addresses(), ["127.0.0.1", "::1"]);
/// ```
#[derive(Clone, Debug)]
pub struct RpcbindOptions {
    listen: Vec<String>,
    pub(crate) port: u16,
    pub(crate) remote_calls: bool,
    pub(crate) max_registrations: usize,
    local_socket: LocalSocket,
}

#[derive(Clone, Debug)]
enum LocalSocket {
    /// [`LOCAL_SOCKET`] on port 111, none on other ports.
    Auto,
    Off,
    At(PathBuf),
}

impl Default for RpcbindOptions {
    fn default() -> Self {
        RpcbindOptions {
            listen: Vec::new(),
            port: PORT,
            remote_calls: false,
            max_registrations: DEFAULT_MAX_REGISTRATIONS,
            local_socket: LocalSocket::Auto,
        }
    }
}

impl RpcbindOptions {
    /// What `xipc rpcbind` does without options: port 111 of every IPv4
    /// interface and of IPv6 loopback, and the Unix socket
    /// [`LOCAL_SOCKET`]; calls forwarded only for callers on this machine;
    /// at most [`DEFAULT_MAX_REGISTRATIONS`] registrations.
    pub fn new() -> RpcbindOptions {
        RpcbindOptions::default()
    }

    /// Also listens (TCP and UDP) on `address`, a host name or an IP
    /// address (`"0.0.0.0"` or `"::"` for every interface). Once any
    /// address is given, rpcbind listens on those and on loopback
    /// (127.0.0.1, and ::1 where there is IPv6), as `rpcbind -h` does, so
    /// that this machine's servers can register; a given address that
    /// cannot be listened on fails the start, loopback is skipped when
    /// taken (an address already given covers it).
    pub fn listen(mut self, address: impl Into<String>) -> RpcbindOptions {
        self.listen.push(address.into());
        self
    }

    /// The TCP and UDP port on every address (default 111; 0: one the
    /// system picks, the same on every address).
    pub fn port(mut self, port: u16) -> RpcbindOptions {
        self.port = port;
        self
    }

    /// Whether CALLIT, BCAST and INDIRECT forward calls for callers on
    /// other machines (default false, as rpcbind since 1.2.5). A caller on
    /// this machine (a Unix socket or a loopback address) is always
    /// served. A refused caller gets PROC_UNAVAIL, as from rpcbind built
    /// without remote calls (the default since 1.2.5), and nothing is
    /// forwarded.
    pub fn remote_calls(mut self, on: bool) -> RpcbindOptions {
        self.remote_calls = on;
        self
    }

    /// The most registrations held, rpcbind's own 12 included (default
    /// [`DEFAULT_MAX_REGISTRATIONS`]; less than 12 counts as 12): past
    /// them SET answers FALSE and the server says why on stderr.
    pub fn max_registrations(mut self, registrations: usize) -> RpcbindOptions {
        self.max_registrations = registrations;
        self
    }

    /// Also serves on a Unix stream socket at `path`, mode 0666 (every
    /// user may connect; changes are checked against the uid the socket
    /// reports). By default rpcbind does so at [`LOCAL_SOCKET`] on port
    /// 111 only. A socket file left by a server that is gone is replaced;
    /// a socket another server listens on is left alone (and this one
    /// serves on no Unix socket); any other file there fails the start
    /// with [`Error::Exists`](crate::Error::Exists) and is not touched.
    pub fn local_socket(mut self, path: impl Into<PathBuf>) -> RpcbindOptions {
        self.local_socket = LocalSocket::At(path.into());
        self
    }

    /// Serves on no Unix socket, on port 111 too.
    pub fn no_local_socket(mut self) -> RpcbindOptions {
        self.local_socket = LocalSocket::Off;
        self
    }

    /// The addresses listened on, in order: those given and loopback, or
    /// the default ones.
    pub fn listen_addresses(&self) -> Vec<String> {
        if self.listen.is_empty() {
            return DEFAULT_LISTEN.map(String::from).to_vec();
        }
        let mut all = self.listen.clone();
        for lo in LOOPBACK {
            if !all.iter().any(|a| a == lo) {
                all.push(lo.to_string());
            }
        }
        all
    }

    /// Whether an address was given (a failure to listen on it fails the
    /// start), rather than one of the defaults or loopback.
    pub(crate) fn is_given(&self, address: &str) -> bool {
        self.listen.iter().any(|a| a == address)
    }

    /// The Unix socket to serve on, if any.
    pub(crate) fn local_socket_path(&self) -> Option<PathBuf> {
        match &self.local_socket {
            LocalSocket::Auto if self.port == PORT => Some(PathBuf::from(LOCAL_SOCKET)),
            LocalSocket::Auto | LocalSocket::Off => None,
            LocalSocket::At(path) => Some(path.clone()),
        }
    }
}
