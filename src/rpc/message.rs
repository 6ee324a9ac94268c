//! ONC RPC v2 messages (RFC 5531 §9): call and reply headers, encoded and
//! decoded with [`crate::xdr`]. Arguments and results are opaque XDR bytes
//! that follow the header.

use super::auth::{AuthStat, Credential, OpaqueAuth};
use crate::xdr::{Decoder, Encoder};
use crate::{Error, Result};

/// The only RPC protocol version (`rpcvers`).
pub const RPC_VERSION: u32 = 2;
/// `msg_type` of a call.
pub const CALL: u32 = 0;
/// `msg_type` of a reply.
pub const REPLY: u32 = 1;
/// `reply_stat` MSG_ACCEPTED.
pub const MSG_ACCEPTED: u32 = 0;
/// `reply_stat` MSG_DENIED.
pub const MSG_DENIED: u32 = 1;

/// `accept_stat` values.
pub mod accept {
    /// The procedure ran; its results follow.
    pub const SUCCESS: u32 = 0;
    /// The program is not served here.
    pub const PROG_UNAVAIL: u32 = 1;
    /// The program is served, but not in this version; the lowest and highest
    /// versions served follow.
    pub const PROG_MISMATCH: u32 = 2;
    /// The program has no such procedure.
    pub const PROC_UNAVAIL: u32 = 3;
    /// The arguments could not be decoded.
    pub const GARBAGE_ARGS: u32 = 4;
    /// The server could not run the procedure for another reason (in xipc:
    /// the handler failed or panicked).
    pub const SYSTEM_ERR: u32 = 5;
}

/// `reject_stat` values.
pub mod reject {
    /// The caller's RPC version is not 2; the lowest and highest supported follow.
    pub const RPC_MISMATCH: u32 = 0;
    /// Authentication failed; an `auth_stat` follows.
    pub const AUTH_ERROR: u32 = 1;
}

/// The header of a call; the procedure's arguments follow it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallHeader {
    /// The transaction id the reply will echo.
    pub xid: u32,
    /// The program number.
    pub prog: u32,
    /// The program's version.
    pub vers: u32,
    /// The procedure number (`proc` in RFC 5531).
    pub procedure: u32,
    /// The credential (`cred`).
    pub cred: OpaqueAuth,
    /// The verifier (`verf`).
    pub verf: OpaqueAuth,
}

impl CallHeader {
    /// Appends the header (xid through verifier) to `enc`.
    pub fn encode(&self, enc: &mut Encoder) -> Result<()> {
        encode_call_head(
            enc,
            [self.xid, self.prog, self.vers, self.procedure],
            &self.cred,
            &self.verf,
        )
    }
}

/// Encodes a call header of `xid`, program, version and procedure (in that
/// order in `ids`) with `cred` and `verf`, from borrowed parts (a client
/// encodes its credential without copying it first).
pub(crate) fn encode_call_head(
    enc: &mut Encoder,
    ids: [u32; 4],
    cred: &OpaqueAuth,
    verf: &OpaqueAuth,
) -> Result<()> {
    let [xid, prog, vers, procedure] = ids;
    enc.put_uint(xid);
    enc.put_uint(CALL);
    enc.put_uint(RPC_VERSION);
    enc.put_uint(prog);
    enc.put_uint(vers);
    enc.put_uint(procedure);
    cred.encode(enc)?;
    verf.encode(enc)
}

/// How the status of an accepted call reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptStat {
    /// The results follow.
    Success,
    /// PROG_UNAVAIL: the program is not served here.
    ProgUnavail,
    /// The lowest and highest versions the server supports.
    ProgMismatch {
        /// The lowest version served.
        low: u32,
        /// The highest version served.
        high: u32,
    },
    /// PROC_UNAVAIL: the program has no such procedure.
    ProcUnavail,
    /// GARBAGE_ARGS: the arguments could not be decoded.
    GarbageArgs,
    /// SYSTEM_ERR: the server could not run the procedure for another reason.
    SystemErr,
}

/// Why a call was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectStat {
    /// The RPC versions the server supports (2 and 2).
    RpcMismatch {
        /// The lowest RPC version supported.
        low: u32,
        /// The highest RPC version supported.
        high: u32,
    },
    /// AUTH_ERROR: the credential or verifier was refused, with the `auth_stat`
    /// (see [`crate::rpc::auth::stat`]).
    AuthError(AuthStat),
}

/// The body of a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyBody {
    /// MSG_ACCEPTED: the call was authenticated; `stat` says what came of it.
    Accepted {
        /// The server's verifier (xipc's server sends AUTH_NONE).
        verf: OpaqueAuth,
        /// The `accept_stat`, with its data.
        stat: AcceptStat,
    },
    /// MSG_DENIED: the call was refused, with the `reject_stat`.
    Denied(RejectStat),
}

/// The header of a reply; on `Success` the results follow it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyHeader {
    /// The transaction id of the call answered.
    pub xid: u32,
    /// Accepted or denied, with the status.
    pub body: ReplyBody,
}

impl ReplyHeader {
    /// An accepted reply with an AUTH_NONE verifier.
    pub fn accepted(xid: u32, stat: AcceptStat) -> ReplyHeader {
        ReplyHeader {
            xid,
            body: ReplyBody::Accepted {
                verf: OpaqueAuth::none(),
                stat,
            },
        }
    }

    /// A denied reply.
    pub fn denied(xid: u32, stat: RejectStat) -> ReplyHeader {
        ReplyHeader {
            xid,
            body: ReplyBody::Denied(stat),
        }
    }

    /// Appends the header to `enc`.
    pub fn encode(&self, enc: &mut Encoder) -> Result<()> {
        enc.put_uint(self.xid);
        enc.put_uint(REPLY);
        match &self.body {
            ReplyBody::Accepted { verf, stat } => {
                enc.put_uint(MSG_ACCEPTED);
                verf.encode(enc)?;
                match *stat {
                    AcceptStat::Success => enc.put_uint(accept::SUCCESS),
                    AcceptStat::ProgUnavail => enc.put_uint(accept::PROG_UNAVAIL),
                    AcceptStat::ProgMismatch { low, high } => {
                        enc.put_uint(accept::PROG_MISMATCH);
                        enc.put_uint(low);
                        enc.put_uint(high);
                    }
                    AcceptStat::ProcUnavail => enc.put_uint(accept::PROC_UNAVAIL),
                    AcceptStat::GarbageArgs => enc.put_uint(accept::GARBAGE_ARGS),
                    AcceptStat::SystemErr => enc.put_uint(accept::SYSTEM_ERR),
                }
            }
            ReplyBody::Denied(stat) => {
                enc.put_uint(MSG_DENIED);
                match *stat {
                    RejectStat::RpcMismatch { low, high } => {
                        enc.put_uint(reject::RPC_MISMATCH);
                        enc.put_uint(low);
                        enc.put_uint(high);
                    }
                    RejectStat::AuthError(why) => {
                        enc.put_uint(reject::AUTH_ERROR);
                        enc.put_uint(why);
                    }
                }
            }
        }
        Ok(())
    }

    /// The whole reply message: this header, then `results` (only
    /// meaningful on `Success`).
    pub fn to_message(&self, results: &[u8]) -> Vec<u8> {
        let mut enc = Encoder::with_capacity(32 + results.len());
        // A reply header holds at most a 400-byte verifier, which always fits.
        self.encode(&mut enc).expect("reply header encodes");
        enc.put_raw(results);
        enc.into_bytes()
    }

    /// The reply message framed as one record (a 4-byte last-fragment mark,
    /// then [`to_message`](Self::to_message)'s bytes), built in one buffer
    /// so a stream write needs no further copy. UDP sends `[4..]`.
    ///
    /// ```
    /// use xipc::rpc::message::{AcceptStat, ReplyHeader};
    /// let reply = ReplyHeader::accepted(7, AcceptStat::Success);
    /// let record = reply.to_record(&[0, 0, 0, 1]);
    /// // xid, REPLY, MSG_ACCEPTED, an AUTH_NONE verifier (flavor, length),
    /// // SUCCESS and one result word: 7 words, 28 bytes, in the last fragment.
    /// assert_eq!(record[..4], [0x80, 0, 0, 28]);
    /// assert_eq!(record[4..], reply.to_message(&[0, 0, 0, 1])[..]);
    /// assert_eq!(record[4..24], [0,0,0,7, 0,0,0,1, 0,0,0,0, 0,0,0,0, 0,0,0,0]);
    /// ```
    pub fn to_record(&self, results: &[u8]) -> Vec<u8> {
        let mut enc = Encoder::with_capacity(36 + results.len());
        enc.put_uint(0);
        self.encode(&mut enc).expect("reply header encodes");
        enc.put_raw(results);
        let mut record = enc.into_bytes();
        let mark = (record.len() - 4) as u32 | crate::stream::record::LAST_FRAGMENT;
        record[..4].copy_from_slice(&mark.to_be_bytes());
        record
    }

    /// Decodes a reply header; returns it and the offset where the results start.
    pub fn decode(msg: &[u8]) -> Result<(ReplyHeader, usize)> {
        let mut dec = Decoder::new(msg);
        let xid = dec.get_uint()?;
        let at = dec.position();
        let mtype = dec.get_uint()?;
        if mtype != REPLY {
            return Err(Error::Protocol(format!(
                "byte {at}: expected a reply (msg_type 1), got msg_type {mtype}"
            )));
        }
        let at = dec.position();
        let body = match dec.get_uint()? {
            MSG_ACCEPTED => {
                let verf = OpaqueAuth::decode(&mut dec)?;
                let at = dec.position();
                let stat = match dec.get_uint()? {
                    accept::SUCCESS => AcceptStat::Success,
                    accept::PROG_UNAVAIL => AcceptStat::ProgUnavail,
                    accept::PROG_MISMATCH => AcceptStat::ProgMismatch {
                        low: dec.get_uint()?,
                        high: dec.get_uint()?,
                    },
                    accept::PROC_UNAVAIL => AcceptStat::ProcUnavail,
                    accept::GARBAGE_ARGS => AcceptStat::GarbageArgs,
                    accept::SYSTEM_ERR => AcceptStat::SystemErr,
                    other => return Err(Error::xdr(at, format!("unknown accept_stat {other}"))),
                };
                ReplyBody::Accepted { verf, stat }
            }
            MSG_DENIED => {
                let at = dec.position();
                let stat = match dec.get_uint()? {
                    reject::RPC_MISMATCH => RejectStat::RpcMismatch {
                        low: dec.get_uint()?,
                        high: dec.get_uint()?,
                    },
                    reject::AUTH_ERROR => RejectStat::AuthError(dec.get_uint()?),
                    other => return Err(Error::xdr(at, format!("unknown reject_stat {other}"))),
                };
                ReplyBody::Denied(stat)
            }
            other => return Err(Error::xdr(at, format!("unknown reply_stat {other}"))),
        };
        Ok((ReplyHeader { xid, body }, dec.position()))
    }

    /// The reply as a result: the status becomes its own [`Error`] variant.
    pub fn into_result(self) -> Result<()> {
        match self.body {
            ReplyBody::Accepted { stat, .. } => match stat {
                AcceptStat::Success => Ok(()),
                AcceptStat::ProgUnavail => Err(Error::ProgUnavail),
                AcceptStat::ProgMismatch { low, high } => Err(Error::ProgMismatch { low, high }),
                AcceptStat::ProcUnavail => Err(Error::ProcUnavail),
                AcceptStat::GarbageArgs => Err(Error::GarbageArgs),
                AcceptStat::SystemErr => Err(Error::SystemErr),
            },
            ReplyBody::Denied(RejectStat::RpcMismatch { low, high }) => {
                Err(Error::RpcMismatch { low, high })
            }
            ReplyBody::Denied(RejectStat::AuthError(why)) => Err(Error::Auth(why)),
        }
    }
}

/// The five words after the xid of nearly every reply: REPLY,
/// MSG_ACCEPTED, an AUTH_NONE verifier with no body, SUCCESS.
pub(crate) const PLAIN_SUCCESS: [u8; 20] =
    [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/// The results of a reply message, or its status as an error.
///
/// ```
/// use xipc::rpc::message::{reply_results, AcceptStat, ReplyHeader};
/// let ok = ReplyHeader::accepted(7, AcceptStat::Success).to_message(&[0, 0, 0, 1]);
/// assert_eq!(reply_results(&ok)?, [0, 0, 0, 1]);
/// let bad = ReplyHeader::accepted(7, AcceptStat::ProgMismatch { low: 1, high: 3 }).to_message(&[]);
/// assert!(matches!(reply_results(&bad), Err(xipc::Error::ProgMismatch { low: 1, high: 3 })));
/// # Ok::<(), xipc::Error>(())
/// ```
pub fn reply_results(msg: &[u8]) -> Result<&[u8]> {
    // Nearly every reply, recognised in one comparison instead of read
    // field by field.
    if msg.get(4..24) == Some(&PLAIN_SUCCESS[..]) {
        return Ok(&msg[24..]);
    }
    let (header, at) = ReplyHeader::decode(msg)?;
    header.into_result()?;
    Ok(&msg[at..])
}

/// A call as a server reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call<'a> {
    /// The fixed part: xid, program, version, procedure, credential, verifier.
    pub header: CallHeader,
    /// The credential, parsed (AUTH_NONE or AUTH_SYS).
    pub cred: Credential,
    /// The procedure's argument bytes.
    pub args: &'a [u8],
}

/// Why a call could not be accepted, and what (if anything) to answer.
#[derive(Debug)]
pub enum BadCall {
    /// Not even an xid and CALL type could be read: drop it (or close).
    Unreadable(Error),
    /// A reply arrived where a call was expected: ignore it.
    NotACall {
        /// The reply's xid.
        xid: u32,
    },
    /// Answer this denied reply.
    Deny {
        /// The call's xid, for the reply.
        xid: u32,
        /// Why it is refused.
        stat: RejectStat,
    },
}

/// Decodes a call message. Malformed credentials are AUTH_BADCRED,
/// flavors other than AUTH_NONE and AUTH_SYS AUTH_REJECTEDCRED (as libtirpc
/// answers), and a verifier other than AUTH_NONE AUTH_BADVERF.
///
/// ```
/// use xipc::rpc::message::{decode_call, CallHeader};
/// use xipc::rpc::{Credential, OpaqueAuth};
/// use xipc::xdr::Encoder;
///
/// let header = CallHeader {
///     xid: 9,
///     prog: 100000,
///     vers: 2,
///     procedure: 3,
///     cred: OpaqueAuth::none(),
///     verf: OpaqueAuth::none(),
/// };
/// let mut msg = Encoder::new();
/// header.encode(&mut msg)?;
/// msg.put_uint(42); // the arguments
/// let call = decode_call(msg.as_bytes()).unwrap();
/// assert_eq!((call.header, call.cred, call.args), (header, Credential::None, &[0, 0, 0, 42][..]));
/// # Ok::<(), xipc::Error>(())
/// ```
pub fn decode_call(msg: &[u8]) -> std::result::Result<Call<'_>, BadCall> {
    let mut dec = Decoder::new(msg);
    let xid = dec.get_uint().map_err(BadCall::Unreadable)?;
    let mtype = dec.get_uint().map_err(BadCall::Unreadable)?;
    if mtype != CALL {
        return Err(BadCall::NotACall { xid });
    }
    let deny = |stat| BadCall::Deny { xid, stat };
    let rpcvers = dec.get_uint().map_err(BadCall::Unreadable)?;
    if rpcvers != RPC_VERSION {
        return Err(deny(RejectStat::RpcMismatch {
            low: RPC_VERSION,
            high: RPC_VERSION,
        }));
    }
    let badcred = || deny(RejectStat::AuthError(super::auth::stat::BADCRED));
    let prog = dec.get_uint().map_err(|_| badcred())?;
    let vers = dec.get_uint().map_err(|_| badcred())?;
    let procedure = dec.get_uint().map_err(|_| badcred())?;
    let cred = OpaqueAuth::decode(&mut dec).map_err(|_| badcred())?;
    let verf = OpaqueAuth::decode(&mut dec)
        .map_err(|_| deny(RejectStat::AuthError(super::auth::stat::BADVERF)))?;
    let parsed = Credential::parse(&cred).map_err(|why| deny(RejectStat::AuthError(why)))?;
    if verf.flavor != super::auth::flavor::NONE {
        return Err(deny(RejectStat::AuthError(super::auth::stat::BADVERF)));
    }
    let args = dec.remaining();
    Ok(Call {
        header: CallHeader {
            xid,
            prog,
            vers,
            procedure,
            cred,
            verf,
        },
        cred: parsed,
        args,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::auth::{flavor, stat, AuthSys};

    fn call_bytes(cred: &OpaqueAuth) -> Vec<u8> {
        let mut enc = Encoder::new();
        CallHeader {
            xid: 0x01020304,
            prog: 0x20000001,
            vers: 3,
            procedure: 7,
            cred: cred.clone(),
            verf: OpaqueAuth::none(),
        }
        .encode(&mut enc)
        .unwrap();
        enc.put_uint(42);
        enc.into_bytes()
    }

    #[test]
    fn call_header_bytes_are_exact() {
        let bytes = call_bytes(&OpaqueAuth::none());
        #[rustfmt::skip]
        let want = [
            1, 2, 3, 4,  0, 0, 0, 0,  0, 0, 0, 2,  0x20, 0, 0, 1,  0, 0, 0, 3,  0, 0, 0, 7,
            0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 42,
        ];
        assert_eq!(bytes, want);
        let call = decode_call(&bytes).unwrap();
        assert_eq!(call.header.xid, 0x01020304);
        assert_eq!(call.header.procedure, 7);
        assert_eq!(call.cred, Credential::None);
        assert_eq!(call.args, &[0, 0, 0, 42]);
    }

    #[test]
    fn auth_sys_round_trips_through_a_call() {
        let sys = AuthSys {
            stamp: 9,
            machine_name: "host".into(),
            uid: 1000,
            gid: 100,
            gids: vec![4, 24],
        };
        let bytes = call_bytes(&sys.to_opaque().unwrap());
        let call = decode_call(&bytes).unwrap();
        assert_eq!(call.cred, Credential::Sys(sys));
        assert_eq!(call.header.cred.flavor, flavor::SYS);
    }

    #[test]
    fn wrong_rpcvers_is_rpc_mismatch_2_2() {
        let mut bytes = call_bytes(&OpaqueAuth::none());
        bytes[11] = 3;
        match decode_call(&bytes) {
            Err(BadCall::Deny { xid, stat }) => {
                assert_eq!(xid, 0x01020304);
                assert_eq!(stat, RejectStat::RpcMismatch { low: 2, high: 2 });
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_flavor_is_rejected_cred() {
        let cred = OpaqueAuth {
            flavor: 6,
            body: vec![1, 2, 3, 4],
        };
        match decode_call(&call_bytes(&cred)) {
            Err(BadCall::Deny { stat, .. }) => {
                assert_eq!(stat, RejectStat::AuthError(stat::REJECTEDCRED))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn truncated_header_is_badcred_or_unreadable() {
        let bytes = call_bytes(&OpaqueAuth::none());
        assert!(matches!(
            decode_call(&bytes[..6]),
            Err(BadCall::Unreadable(_))
        ));
        assert!(matches!(
            decode_call(&bytes[..26]),
            Err(BadCall::Deny {
                stat: RejectStat::AuthError(stat::BADCRED),
                ..
            })
        ));
    }

    #[test]
    fn every_reply_status_round_trips() {
        let stats = [
            AcceptStat::Success,
            AcceptStat::ProgUnavail,
            AcceptStat::ProgMismatch { low: 1, high: 4 },
            AcceptStat::ProcUnavail,
            AcceptStat::GarbageArgs,
            AcceptStat::SystemErr,
        ];
        for stat in stats {
            let h = ReplyHeader::accepted(77, stat);
            let msg = h.to_message(&[0, 0, 0, 5]);
            let (back, at) = ReplyHeader::decode(&msg).unwrap();
            assert_eq!(back, h);
            assert_eq!(at, msg.len() - 4);
        }
        for stat in [
            RejectStat::RpcMismatch { low: 2, high: 2 },
            RejectStat::AuthError(stat::TOOWEAK),
        ] {
            let h = ReplyHeader::denied(78, stat);
            let (back, _) = ReplyHeader::decode(&h.to_message(&[])).unwrap();
            assert_eq!(back, h);
        }
    }

    #[test]
    fn reply_bytes_and_errors_are_exact() {
        let msg =
            ReplyHeader::accepted(5, AcceptStat::ProgMismatch { low: 2, high: 3 }).to_message(&[]);
        #[rustfmt::skip]
        assert_eq!(msg, [0,0,0,5, 0,0,0,1, 0,0,0,0, 0,0,0,0, 0,0,0,0, 0,0,0,2, 0,0,0,2, 0,0,0,3]);
        assert!(matches!(
            reply_results(&msg),
            Err(Error::ProgMismatch { low: 2, high: 3 })
        ));
        let denied = ReplyHeader::denied(5, RejectStat::AuthError(stat::BADCRED)).to_message(&[]);
        #[rustfmt::skip]
        assert_eq!(denied, [0,0,0,5, 0,0,0,1, 0,0,0,1, 0,0,0,1, 0,0,0,1]);
        assert!(matches!(reply_results(&denied), Err(Error::Auth(1))));
        let ok = ReplyHeader::accepted(5, AcceptStat::Success).to_message(&[9, 9, 9, 9]);
        let record = ReplyHeader::accepted(5, AcceptStat::Success).to_record(&[9, 9, 9, 9]);
        assert_eq!(record[..4], [0x80, 0, 0, 28]);
        assert_eq!(record[4..], ok[..]);
        assert_eq!(reply_results(&ok).unwrap(), &[9, 9, 9, 9]);
    }

    /// The one-comparison path for a successful reply gives what reading
    /// the header field by field gives, for replies it takes and replies
    /// it must leave to the general path.
    #[test]
    fn reply_results_fast_path_agrees_with_the_header() {
        fn general(msg: &[u8]) -> Result<&[u8]> {
            let (header, at) = ReplyHeader::decode(msg)?;
            header.into_result()?;
            Ok(&msg[at..])
        }
        let mut replies = vec![
            ReplyHeader::accepted(5, AcceptStat::Success).to_message(&[]),
            ReplyHeader::accepted(u32::MAX, AcceptStat::Success)
                .to_message(&[1, 2, 3, 4, 5, 6, 7, 8]),
            ReplyHeader::accepted(5, AcceptStat::GarbageArgs).to_message(&[]),
            ReplyHeader::accepted(5, AcceptStat::ProgMismatch { low: 0, high: 0 }).to_message(&[]),
            ReplyHeader::denied(5, RejectStat::AuthError(stat::BADCRED)).to_message(&[]),
            ReplyHeader {
                xid: 5,
                body: ReplyBody::Accepted {
                    verf: OpaqueAuth {
                        flavor: flavor::SYS,
                        body: vec![],
                    },
                    stat: AcceptStat::Success,
                },
            }
            .to_message(&[0, 0, 0, 0]),
        ];
        let cut: Vec<Vec<u8>> = replies
            .iter()
            .flat_map(|r| (0..r.len()).map(|n| r[..n].to_vec()))
            .collect();
        replies.extend(cut);
        for msg in &replies {
            match (reply_results(msg), general(msg)) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{msg:?}"),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{msg:?}"),
                (a, b) => panic!("{msg:?}: {a:?} against {b:?}"),
            }
        }
    }

    #[test]
    fn hostile_reply_fields_fail_cleanly() {
        let mut msg = ReplyHeader::accepted(5, AcceptStat::Success).to_message(&[]);
        msg[19] = 0xff; // verifier length 255 with nothing behind it
        assert!(ReplyHeader::decode(&msg).is_err());
        let mut msg = ReplyHeader::accepted(5, AcceptStat::Success).to_message(&[]);
        msg[23] = 9; // accept_stat 9
        assert!(matches!(
            ReplyHeader::decode(&msg),
            Err(Error::Xdr { offset: 20, .. })
        ));
    }
}
