//! RPC-with-TLS (RFC 9289) at the RPC layer: the AUTH_TLS probe a client
//! sends in the clear, the STARTTLS reply a server answers it with, and
//! the refusal of any other call that arrives before TLS. The TLS session
//! itself is the transport's ([`crate::net::TlsConfig`]).

use super::auth::{flavor, stat, OpaqueAuth};
use super::message::{
    AcceptStat, CallHeader, RejectStat, ReplyBody, ReplyHeader, CALL, RPC_VERSION,
};
use crate::stream::record::LAST_FRAGMENT;
use crate::xdr::{Decoder, Encoder};
use crate::{Error, Result};

/// The verifier body of a server's reply to the probe.
pub const STARTTLS: &[u8; 8] = b"STARTTLS";

/// The probe, as one record: a NULL call (procedure 0) of `prog`/`vers`
/// whose credential is AUTH_TLS with an empty body and whose verifier is
/// AUTH_NONE.
///
/// ```
/// use xipc::rpc::tls::{answer_before_tls, check_starttls, probe, BeforeTls};
/// let call = probe(7, 0x2000_0001, 1);
/// let BeforeTls::StartTls(reply) = answer_before_tls(&call[4..]).expect("an answer") else {
///     panic!("the probe is answered with STARTTLS");
/// };
/// check_starttls(&reply[4..], 7)?;
/// # Ok::<(), xipc::Error>(())
/// ```
pub fn probe(xid: u32, prog: u32, vers: u32) -> Vec<u8> {
    let mut enc = Encoder::with_capacity(44);
    enc.put_uint(0);
    CallHeader {
        xid,
        prog,
        vers,
        procedure: 0,
        cred: OpaqueAuth {
            flavor: flavor::TLS,
            body: Vec::new(),
        },
        verf: OpaqueAuth::none(),
    }
    .encode(&mut enc)
    .expect("a probe header encodes");
    record(enc)
}

/// The reply to a probe, as one record: accepted, SUCCESS, with an
/// AUTH_NONE verifier whose body is "STARTTLS".
pub fn starttls_reply(xid: u32) -> Vec<u8> {
    let mut enc = Encoder::with_capacity(40);
    enc.put_uint(0);
    ReplyHeader {
        xid,
        body: ReplyBody::Accepted {
            verf: OpaqueAuth {
                flavor: flavor::NONE,
                body: STARTTLS.to_vec(),
            },
            stat: AcceptStat::Success,
        },
    }
    .encode(&mut enc)
    .expect("a reply header encodes");
    record(enc)
}

/// What a listener that requires TLS answers a call before the handshake,
/// as one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BeforeTls {
    /// The probe: STARTTLS, after which the handshake begins.
    StartTls(Vec<u8>),
    /// Any other call: refused.
    Refused(Vec<u8>),
}

/// What a listener that requires TLS answers the call message `msg` that
/// arrived before the handshake: the probe gets [`starttls_reply`]; an
/// AUTH_TLS credential with a body, or on a procedure other than NULL, is
/// AUTH_BADCRED; any other call is refused with AUTH_TOOWEAK (it would
/// cross the network in the clear). `None` for a message that is not a
/// readable call.
pub fn answer_before_tls(msg: &[u8]) -> Option<BeforeTls> {
    let mut dec = Decoder::new(msg);
    let xid = dec.get_uint().ok()?;
    if dec.get_uint().ok()? != CALL {
        return None;
    }
    let deny = |why| Some(BeforeTls::Refused(denied(xid, RejectStat::AuthError(why))));
    let header = (|| -> Result<(u32, u32, OpaqueAuth, OpaqueAuth)> {
        let rpcvers = dec.get_uint()?;
        let _prog = dec.get_uint()?;
        let _vers = dec.get_uint()?;
        let procedure = dec.get_uint()?;
        let cred = OpaqueAuth::decode(&mut dec)?;
        let verf = OpaqueAuth::decode(&mut dec)?;
        Ok((rpcvers, procedure, cred, verf))
    })();
    let Ok((rpcvers, procedure, cred, verf)) = header else {
        return deny(stat::BADCRED);
    };
    if rpcvers != RPC_VERSION {
        return Some(BeforeTls::Refused(denied(
            xid,
            RejectStat::RpcMismatch {
                low: RPC_VERSION,
                high: RPC_VERSION,
            },
        )));
    }
    if cred.flavor != flavor::TLS {
        return deny(stat::TOOWEAK);
    }
    if !cred.body.is_empty() || procedure != 0 {
        return deny(stat::BADCRED);
    }
    if verf.flavor != flavor::NONE || !verf.body.is_empty() {
        return deny(stat::BADVERF);
    }
    Some(BeforeTls::StartTls(starttls_reply(xid)))
}

/// Checks a client's reply to its probe `xid`: `Ok` for STARTTLS, else
/// [`Error::Tls`] saying what the server answered instead.
pub fn check_starttls(reply: &[u8], xid: u32) -> Result<()> {
    let no_tls = |what: String| {
        Err(Error::Tls(format!(
            "the server does not offer RPC-with-TLS: {what} (no STARTTLS); nothing was sent in the clear"
        )))
    };
    let (header, _) = match ReplyHeader::decode(reply) {
        Ok(h) => h,
        Err(e) => return no_tls(format!("its reply to the probe is not an RPC reply ({e})")),
    };
    if header.xid != xid {
        return no_tls(format!(
            "it answered xid {:#x}, not the probe's",
            header.xid
        ));
    }
    match header.body {
        ReplyBody::Accepted {
            verf,
            stat: AcceptStat::Success,
        } if verf.flavor == flavor::NONE && verf.body == STARTTLS => Ok(()),
        ReplyBody::Accepted { verf, stat } => no_tls(format!(
            "it answered {stat:?} with a verifier of flavor {} and {} bytes",
            verf.flavor,
            verf.body.len()
        )),
        ReplyBody::Denied(why) => no_tls(format!("it refused the probe ({why:?})")),
    }
}

fn denied(xid: u32, stat: RejectStat) -> Vec<u8> {
    let mut enc = Encoder::with_capacity(32);
    enc.put_uint(0);
    ReplyHeader::denied(xid, stat)
        .encode(&mut enc)
        .expect("a reply header encodes");
    record(enc)
}

/// `enc` (whose first word was left for it) as one record.
fn record(enc: Encoder) -> Vec<u8> {
    let mut bytes = enc.into_bytes();
    let mark = (bytes.len() - 4) as u32 | LAST_FRAGMENT;
    bytes[..4].copy_from_slice(&mark.to_be_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::message::ReplyHeader;

    fn call(cred_flavor: u32, cred_body: &[u8], procedure: u32) -> Vec<u8> {
        let mut enc = Encoder::new();
        CallHeader {
            xid: 9,
            prog: 1,
            vers: 1,
            procedure,
            cred: OpaqueAuth {
                flavor: cred_flavor,
                body: cred_body.to_vec(),
            },
            verf: OpaqueAuth::none(),
        }
        .encode(&mut enc)
        .unwrap();
        enc.into_bytes()
    }

    fn auth_stat(answer: Option<BeforeTls>) -> Option<u32> {
        let Some(BeforeTls::Refused(record)) = answer else {
            return None;
        };
        match ReplyHeader::decode(&record[4..]).unwrap().0.body {
            ReplyBody::Denied(RejectStat::AuthError(s)) => Some(s),
            _ => None,
        }
    }

    #[test]
    fn only_the_probe_is_answered_before_tls() {
        assert_eq!(
            answer_before_tls(&call(flavor::TLS, &[], 0)),
            Some(BeforeTls::StartTls(starttls_reply(9)))
        );
        let stat_of = |f, body: &[u8], p| auth_stat(answer_before_tls(&call(f, body, p)));
        assert_eq!(stat_of(flavor::NONE, &[], 1), Some(stat::TOOWEAK));
        assert_eq!(stat_of(flavor::NONE, &[], 0), Some(stat::TOOWEAK));
        assert_eq!(stat_of(flavor::TLS, &[1, 2, 3, 4], 0), Some(stat::BADCRED));
        assert_eq!(stat_of(flavor::TLS, &[], 3), Some(stat::BADCRED));
        assert_eq!(
            answer_before_tls(&[0, 0, 0, 9, 0, 0, 0, 1]),
            None,
            "a reply is not answered"
        );
    }

    #[test]
    fn a_client_recognises_only_starttls() {
        check_starttls(&starttls_reply(5)[4..], 5).unwrap();
        assert!(matches!(
            check_starttls(&starttls_reply(5)[4..], 6),
            Err(Error::Tls(_))
        ));
        let plain = ReplyHeader::accepted(5, AcceptStat::Success).to_message(&[]);
        let err = check_starttls(&plain, 5).unwrap_err();
        assert!(
            err.to_string().contains("does not offer RPC-with-TLS"),
            "{err}"
        );
    }
}
