//! The duplicate-request cache: remembers the replies to recent calls so a
//! retransmitted call is answered from the cache and its handler runs once
//! (at-most-once execution).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

/// Who sent a call, as far as the cache can tell clients apart.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// A TCP or UDP peer address.
    Addr(SocketAddr),
    /// A Unix-socket connection (peers there are usually unnamed).
    Connection(u64),
}

/// What identifies a call: xid, client, procedure and a checksum of the arguments.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestKey {
    /// The call's transaction id.
    pub xid: u32,
    /// Who sent it.
    pub client: ClientKey,
    /// The program number.
    pub prog: u32,
    /// The program's version.
    pub vers: u32,
    /// The procedure number.
    pub procedure: u32,
    /// A [`checksum`] of the argument bytes, so a reused xid with new arguments
    /// is a new call.
    pub checksum: u64,
}

/// What the cache knows about a call.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Never seen: run it (the cache now marks it in progress).
    New,
    /// Seen and still running: drop the retransmission.
    InProgress,
    /// Seen and answered: send this reply again.
    Done(Vec<u8>),
}

enum Slot {
    InProgress,
    Done(Vec<u8>),
}

/// A bounded cache; the oldest entries are forgotten first.
///
/// ```
/// use xipc::rpc::drc::{checksum, ClientKey, DuplicateCache, Lookup, RequestKey};
/// let mut cache = DuplicateCache::new(64);
/// let key = RequestKey {
///     xid: 1,
///     client: ClientKey::Addr("127.0.0.1:900".parse().unwrap()),
///     prog: 0x2000_0106,
///     vers: 1,
///     procedure: 2,
///     checksum: checksum(b"args"),
/// };
/// assert_eq!(cache.begin(&key), Lookup::New); // run the handler
/// assert_eq!(cache.begin(&key), Lookup::InProgress); // a retransmission meanwhile
/// cache.finish(&key, b"reply");
/// assert_eq!(cache.begin(&key), Lookup::Done(b"reply".to_vec()));
/// ```
pub struct DuplicateCache {
    capacity: usize,
    slots: HashMap<RequestKey, Slot>,
    order: VecDeque<RequestKey>,
}

impl DuplicateCache {
    /// A cache of at most `capacity` calls (at least 1).
    pub fn new(capacity: usize) -> DuplicateCache {
        DuplicateCache {
            capacity: capacity.max(1),
            slots: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Looks `key` up; a new key is recorded as in progress.
    pub fn begin(&mut self, key: &RequestKey) -> Lookup {
        match self.slots.get(key) {
            Some(Slot::InProgress) => return Lookup::InProgress,
            Some(Slot::Done(reply)) => return Lookup::Done(reply.clone()),
            None => {}
        }
        while self.slots.len() >= self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.slots.remove(&old);
                }
                None => break,
            }
        }
        self.slots.insert(key.clone(), Slot::InProgress);
        self.order.push_back(key.clone());
        Lookup::New
    }

    /// Records the reply of a call that [`begin`](Self::begin) called new.
    pub fn finish(&mut self, key: &RequestKey, reply: &[u8]) {
        if let Some(slot) = self.slots.get_mut(key) {
            *slot = Slot::Done(crate::copy::to_vec(reply));
        }
    }

    /// Forgets a call that produced no reply.
    pub fn abandon(&mut self, key: &RequestKey) {
        self.slots.remove(key);
    }

    /// Calls remembered now.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

/// A cheap 64-bit checksum of the argument bytes: FNV-1a's step applied to
/// 8-byte words (then the tail bytes), so it runs at memory speed.
pub fn checksum(bytes: &[u8]) -> u64 {
    const PRIME: u64 = 0x0100_0000_01b3;
    let mut words = bytes.chunks_exact(8);
    let mut h = (0xcbf2_9ce4_8422_2325u64 ^ bytes.len() as u64).wrapping_mul(PRIME);
    for w in &mut words {
        let w = u64::from_le_bytes(w.try_into().expect("8-byte chunk"));
        h = (h ^ w).wrapping_mul(PRIME);
    }
    for &b in words.remainder() {
        h = (h ^ b as u64).wrapping_mul(PRIME);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(xid: u32, args: &[u8]) -> RequestKey {
        RequestKey {
            xid,
            client: ClientKey::Addr("127.0.0.1:900".parse().unwrap()),
            prog: 1,
            vers: 1,
            procedure: 1,
            checksum: checksum(args),
        }
    }

    #[test]
    fn retransmission_gets_the_cached_reply() {
        let mut c = DuplicateCache::new(4);
        assert_eq!(c.begin(&key(1, b"a")), Lookup::New);
        assert_eq!(c.begin(&key(1, b"a")), Lookup::InProgress);
        c.finish(&key(1, b"a"), b"reply");
        assert_eq!(c.begin(&key(1, b"a")), Lookup::Done(b"reply".to_vec()));
        // Same xid, other arguments: a different call.
        assert_eq!(c.begin(&key(1, b"b")), Lookup::New);
    }

    #[test]
    fn oldest_entries_are_evicted() {
        let mut c = DuplicateCache::new(2);
        for xid in 0..3 {
            assert_eq!(c.begin(&key(xid, b"")), Lookup::New);
            c.finish(&key(xid, b""), b"r");
        }
        assert_eq!(c.len(), 2);
        assert_eq!(c.begin(&key(0, b"")), Lookup::New);
        assert_eq!(c.begin(&key(2, b"")), Lookup::Done(b"r".to_vec()));
    }

    #[test]
    fn checksum_tells_arguments_apart() {
        assert_eq!(checksum(b"abcdefghij"), checksum(b"abcdefghij"));
        assert_ne!(checksum(b"abcdefghij"), checksum(b"abcdefghik"));
        assert_ne!(checksum(b""), checksum(b"\0"));
        assert_ne!(checksum(&[0; 8]), checksum(&[0; 16]));
    }
}
