//! SECURITY.md states limits and defaults that live in the code; this test
//! holds it to them, so that a change of a default cannot leave the page
//! saying something else (it had, once: a thread per connection and 4,096
//! connections, long after both had changed). The server's, the client's,
//! rpcbind's, XDR's and record marking's are checked.

use xipc::rpc::auth::{MAX_AUTH_BYTES, MAX_GIDS, MAX_MACHINE_NAME};
use xipc::rpc::client::{DEFAULT_TIMEOUT, INITIAL_RETRANSMIT, MAX_RETRANSMIT};
use xipc::rpc::protocol::MAX_UDP_MESSAGE;
use xipc::rpc::rpcbind::DEFAULT_MAX_REGISTRATIONS;
use xipc::rpc::svc::{
    DEFAULT_CALLS_PER_CONNECTION, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    TLS_HANDSHAKE_TIMEOUT,
};
use xipc::stream::record::{DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_RECORD};
use xipc::xdr::Limits;

/// The page with its lines joined, so a phrase may span a line break.
fn page() -> String {
    let text = include_str!("../SECURITY.md");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `n` as the page writes counts: with a comma every three digits.
fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// `n` bytes in whole MiB, as the page writes sizes.
fn mib(n: usize) -> String {
    assert_eq!(n % (1 << 20), 0, "{n} is not a whole number of MiB");
    format!("{} MiB", n >> 20)
}

#[test]
fn security_md_states_the_defaults_the_code_has() {
    let page = page();
    let limits = Limits::default();
    let facts = [
        // The RPC server.
        format!(
            "at most {} calls of one connection at once",
            DEFAULT_CALLS_PER_CONNECTION
        ),
        format!(
            "most {} connections at once (`set_max_connections`)",
            count(DEFAULT_MAX_CONNECTIONS)
        ),
        format!(
            "Idle connections close after {} s",
            DEFAULT_IDLE_TIMEOUT.as_secs()
        ),
        format!(
            "closed after {} s without a call",
            DEFAULT_IDLE_TIMEOUT.as_secs()
        ),
        format!(
            "TLS handshake must finish within {} s",
            TLS_HANDSHAKE_TIMEOUT.as_secs()
        ),
        format!(
            "holds at most {} registrations",
            count(DEFAULT_MAX_REGISTRATIONS)
        ),
        // XDR decoding.
        format!("| `max_item_bytes` | {} |", mib(limits.max_item_bytes)),
        format!(
            "| `max_elements` | {} Mi ({}) |",
            limits.max_elements >> 20,
            count(limits.max_elements)
        ),
        format!("| `max_depth` | {} |", limits.max_depth),
        format!("| `max_alloc` | {} |", mib(limits.max_alloc)),
        // Record marking.
        format!(
            "| `max_record` | {} (`DEFAULT_MAX_RECORD`) |",
            mib(DEFAULT_MAX_RECORD)
        ),
        format!(
            "| `max_fragments` | {} (`DEFAULT_MAX_FRAGMENTS`) |",
            count(DEFAULT_MAX_FRAGMENTS)
        ),
        // The RPC client.
        format!(
            "| client call timeout | {} s; UDP retransmits from {} ms, doubling up to {} s |",
            DEFAULT_TIMEOUT.as_secs(),
            INITIAL_RETRANSMIT.as_millis(),
            MAX_RETRANSMIT.as_secs()
        ),
        format!(
            "| largest reply a client reads | {} on streams, {} bytes on UDP |",
            mib(DEFAULT_MAX_RECORD),
            count(MAX_UDP_MESSAGE)
        ),
        // ONC RPC credentials.
        format!("| {MAX_AUTH_BYTES} bytes (RFC 5531) | `MAX_AUTH_BYTES` |"),
        format!("| {MAX_MACHINE_NAME} bytes | `MAX_MACHINE_NAME` |"),
        format!("| {MAX_GIDS} | `MAX_GIDS` |"),
    ];
    let missing: Vec<&String> = facts
        .iter()
        .filter(|f| !page.contains(f.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "SECURITY.md no longer says (with today's defaults): {missing:#?}"
    );
}

#[test]
fn counts_are_written_with_commas() {
    assert_eq!(count(16), "16");
    assert_eq!(count(4096), "4,096");
    assert_eq!(count(65_536), "65,536");
    assert_eq!(count(4_194_304), "4,194,304");
}
