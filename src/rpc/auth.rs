//! RPC authentication (RFC 5531 §8–9, §14): opaque_auth, AUTH_NONE and
//! AUTH_SYS.

use crate::xdr::{Decoder, Encoder};
use crate::{Error, Result};

pub use crate::error::AuthStat;

/// Authentication flavors.
pub mod flavor {
    /// AUTH_NONE: no authentication; the body is empty.
    pub const NONE: u32 = 0;
    /// AUTH_SYS (formerly AUTH_UNIX): the caller's uid, gid and groups, unverified.
    pub const SYS: u32 = 1;
    /// AUTH_SHORT: a shorthand a server may hand back in place of an AUTH_SYS credential.
    pub const SHORT: u32 = 2;
    /// AUTH_DH: Diffie-Hellman authentication.
    pub const DH: u32 = 3;
    /// RPCSEC_GSS: GSS-API security (RFC 2203).
    pub const RPCSEC_GSS: u32 = 6;
    /// AUTH_TLS: only in the probe of RPC-with-TLS (RFC 9289), a NULL call
    /// asking the server to start TLS on the connection.
    pub const TLS: u32 = 7;
}

/// `auth_stat` values (RFC 5531 §9).
pub mod stat {
    /// AUTH_OK: success.
    pub const OK: u32 = 0;
    /// AUTH_BADCRED: the credential is malformed.
    pub const BADCRED: u32 = 1;
    /// AUTH_REJECTEDCRED: the credential was refused; the client must start a new session.
    pub const REJECTEDCRED: u32 = 2;
    /// AUTH_BADVERF: the verifier is malformed.
    pub const BADVERF: u32 = 3;
    /// AUTH_REJECTEDVERF: the verifier has expired or was replayed.
    pub const REJECTEDVERF: u32 = 4;
    /// AUTH_TOOWEAK: refused for security reasons.
    pub const TOOWEAK: u32 = 5;
    /// AUTH_INVALIDRESP: the reply's verifier is bogus.
    pub const INVALIDRESP: u32 = 6;
    /// AUTH_FAILED: failed for an unknown reason.
    pub const FAILED: u32 = 7;
}

/// Longest body of an `opaque_auth`.
pub const MAX_AUTH_BYTES: u32 = 400;
/// Longest AUTH_SYS machine name.
pub const MAX_MACHINE_NAME: u32 = 255;
/// Most supplementary groups in AUTH_SYS.
pub const MAX_GIDS: u32 = 16;

/// An `opaque_auth`: a flavor and up to 400 bytes of body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct OpaqueAuth {
    /// The authentication flavor (see [`flavor`]).
    pub flavor: u32,
    /// The flavor's data, at most [`MAX_AUTH_BYTES`] bytes.
    pub body: Vec<u8>,
}

impl OpaqueAuth {
    /// AUTH_NONE with an empty body.
    pub fn none() -> OpaqueAuth {
        OpaqueAuth::default()
    }

    /// Appends the flavor and body to `enc`; an error if the body is over 400 bytes.
    pub fn encode(&self, enc: &mut Encoder) -> Result<()> {
        if self.body.len() > MAX_AUTH_BYTES as usize {
            return Err(Error::InvalidArgument(format!(
                "authentication body of {} bytes, at most {MAX_AUTH_BYTES} allowed",
                self.body.len()
            )));
        }
        enc.put_uint(self.flavor);
        enc.put_opaque(&self.body)
    }

    /// Reads an `opaque_auth` from `dec`, refusing a body over 400 bytes.
    pub fn decode(dec: &mut Decoder<'_>) -> Result<OpaqueAuth> {
        // The common case, an empty body (AUTH_NONE, and the verifier of
        // nearly every call and reply), read in one step.
        if let Some(&[a, b, c, d, 0, 0, 0, 0]) = dec.remaining().first_chunk::<8>() {
            dec.skip(8)?;
            return Ok(OpaqueAuth {
                flavor: u32::from_be_bytes([a, b, c, d]),
                body: Vec::new(),
            });
        }
        let flavor = dec.get_uint()?;
        let body = dec.get_opaque(Some(MAX_AUTH_BYTES))?.to_vec();
        Ok(OpaqueAuth { flavor, body })
    }
}

/// The AUTH_SYS credential body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AuthSys {
    /// An arbitrary number the caller chooses ([`AuthSys::current`] uses the
    /// time in seconds).
    pub stamp: u32,
    /// The caller's host name, at most 255 bytes.
    pub machine_name: String,
    /// The caller's effective user id.
    pub uid: u32,
    /// The caller's effective group id.
    pub gid: u32,
    /// The caller's supplementary groups, at most 16.
    pub gids: Vec<u32>,
}

impl AuthSys {
    /// This process's identity: host name, effective uid and gid and up to
    /// 16 supplementary groups; the stamp is the current time in seconds.
    pub fn current() -> AuthSys {
        let machine_name = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        let mut gids: Vec<u32> = nix::unistd::getgroups()
            .map(|g| g.into_iter().map(|g| g.as_raw()).collect())
            .unwrap_or_default();
        gids.truncate(MAX_GIDS as usize);
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as u32)
            .unwrap_or(0);
        AuthSys {
            stamp,
            machine_name: truncate_name(machine_name),
            uid: nix::unistd::geteuid().as_raw(),
            gid: nix::unistd::getegid().as_raw(),
            gids,
        }
    }

    /// The credential as an `opaque_auth` of flavor AUTH_SYS.
    pub fn to_opaque(&self) -> Result<OpaqueAuth> {
        if self.machine_name.len() > MAX_MACHINE_NAME as usize {
            return Err(Error::InvalidArgument(format!(
                "AUTH_SYS machine name of {} bytes, at most {MAX_MACHINE_NAME} allowed",
                self.machine_name.len()
            )));
        }
        if self.gids.len() > MAX_GIDS as usize {
            return Err(Error::InvalidArgument(format!(
                "AUTH_SYS with {} groups, at most {MAX_GIDS} allowed",
                self.gids.len()
            )));
        }
        let mut enc = Encoder::new();
        enc.put_uint(self.stamp);
        enc.put_string(&self.machine_name)?;
        enc.put_uint(self.uid);
        enc.put_uint(self.gid);
        enc.put_uint_array(&self.gids)?;
        Ok(OpaqueAuth {
            flavor: flavor::SYS,
            body: enc.into_bytes(),
        })
    }

    /// Parses an AUTH_SYS body; every byte must be used.
    pub fn decode(body: &[u8]) -> Result<AuthSys> {
        let mut dec = Decoder::new(body);
        let stamp = dec.get_uint()?;
        let name = dec.get_string_bytes(Some(MAX_MACHINE_NAME))?;
        let machine_name = String::from_utf8_lossy(name).into_owned();
        let uid = dec.get_uint()?;
        let gid = dec.get_uint()?;
        let gids = dec.get_uint_array(Some(MAX_GIDS))?;
        dec.finish()?;
        Ok(AuthSys {
            stamp,
            machine_name,
            uid,
            gid,
            gids,
        })
    }
}

fn truncate_name(mut name: String) -> String {
    let max = MAX_MACHINE_NAME as usize;
    if name.len() > max {
        let mut cut = max;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
    }
    name
}

/// The caller's credential as a server handler sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// AUTH_NONE: no credential.
    None,
    /// AUTH_SYS: the caller's identity, as it claims it.
    Sys(AuthSys),
    /// A flavor xipc does not interpret (never produced by the server,
    /// which rejects such calls; a client may send one).
    Other {
        /// The flavor number.
        flavor: u32,
        /// The credential body, uninterpreted.
        body: Vec<u8>,
    },
}

impl Credential {
    /// Interprets a call's credential; the error is the `auth_stat` to answer.
    ///
    /// ```
    /// use xipc::rpc::{AuthSys, Credential, OpaqueAuth};
    /// let sys = AuthSys {
    ///     stamp: 1,
    ///     machine_name: "build-host".into(),
    ///     uid: 1000,
    ///     gid: 100,
    ///     gids: vec![10, 20],
    /// };
    /// let wire = Credential::Sys(sys.clone()).to_opaque()?;
    /// assert_eq!(wire.flavor, 1); // AUTH_SYS
    /// assert_eq!(Credential::parse(&wire), Ok(Credential::Sys(sys)));
    /// // An unknown flavor is refused with AUTH_REJECTEDCRED (2).
    /// let odd = OpaqueAuth { flavor: 99, body: vec![] };
    /// assert_eq!(Credential::parse(&odd), Err(2));
    /// # Ok::<(), xipc::Error>(())
    /// ```
    pub fn parse(cred: &OpaqueAuth) -> std::result::Result<Credential, AuthStat> {
        match cred.flavor {
            flavor::NONE => Ok(Credential::None),
            flavor::SYS => AuthSys::decode(&cred.body)
                .map(Credential::Sys)
                .map_err(|_| stat::BADCRED),
            _ => Err(stat::REJECTEDCRED),
        }
    }

    /// The credential as it goes on the wire.
    pub fn to_opaque(&self) -> Result<OpaqueAuth> {
        match self {
            Credential::None => Ok(OpaqueAuth::none()),
            Credential::Sys(sys) => sys.to_opaque(),
            Credential::Other { flavor, body } => Ok(OpaqueAuth {
                flavor: *flavor,
                body: body.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_sys_bytes_are_exact() {
        let sys = AuthSys {
            stamp: 1,
            machine_name: "ab".into(),
            uid: 2,
            gid: 3,
            gids: vec![4],
        };
        let o = sys.to_opaque().unwrap();
        #[rustfmt::skip]
        assert_eq!(o.body, [0,0,0,1, 0,0,0,2, b'a',b'b',0,0, 0,0,0,2, 0,0,0,3, 0,0,0,1, 0,0,0,4]);
        assert_eq!(AuthSys::decode(&o.body).unwrap(), sys);
    }

    #[test]
    fn auth_sys_bounds_are_enforced_both_ways() {
        let mut sys = AuthSys {
            gids: (0..17).collect(),
            ..AuthSys::default()
        };
        assert!(sys.to_opaque().is_err());
        sys.gids.truncate(16);
        assert!(sys.to_opaque().is_ok());
        sys.machine_name = "x".repeat(256);
        assert!(sys.to_opaque().is_err());
        sys.machine_name.pop();
        let body = sys.to_opaque().unwrap().body;
        assert_eq!(AuthSys::decode(&body).unwrap(), sys);

        // 17 gids on the wire: refused.
        let mut enc = Encoder::new();
        enc.put_uint(0);
        enc.put_string("h").unwrap();
        enc.put_uint(0);
        enc.put_uint(0);
        enc.put_uint_array(&(0..17).collect::<Vec<u32>>()).unwrap();
        let cred = OpaqueAuth {
            flavor: flavor::SYS,
            body: enc.into_bytes(),
        };
        assert_eq!(Credential::parse(&cred), Err(stat::BADCRED));
    }

    #[test]
    fn opaque_auth_over_400_bytes_is_refused() {
        let big = OpaqueAuth {
            flavor: 9,
            body: vec![0; 401],
        };
        assert!(big.encode(&mut Encoder::new()).is_err());
        let mut enc = Encoder::new();
        enc.put_uint(9);
        enc.put_opaque(&[0; 404]).unwrap();
        assert!(OpaqueAuth::decode(&mut Decoder::new(enc.as_bytes())).is_err());
    }

    #[test]
    fn empty_and_full_bodies_decode_alike() {
        for auth in [
            OpaqueAuth::none(),
            OpaqueAuth {
                flavor: flavor::SYS,
                body: vec![],
            },
            OpaqueAuth {
                flavor: 0x0102_0304,
                body: vec![7; 5],
            },
        ] {
            let mut enc = Encoder::new();
            auth.encode(&mut enc).unwrap();
            enc.put_uint(0xdead_beef);
            let mut dec = Decoder::new(enc.as_bytes());
            assert_eq!(OpaqueAuth::decode(&mut dec).unwrap(), auth);
            // What follows is left for the caller.
            assert_eq!(dec.get_uint().unwrap(), 0xdead_beef);
        }
        // Cut short: an error.
        for len in 0..8 {
            let mut dec = Decoder::new(&[0; 8][..len]);
            assert!(OpaqueAuth::decode(&mut dec).is_err());
        }
    }
}
