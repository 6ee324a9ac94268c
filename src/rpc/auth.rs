//! RPC authentication (RFC 5531 §8–9, §14): opaque_auth, AUTH_NONE and
//! AUTH_SYS.

use crate::xdr::{Decoder, Encoder};
use crate::{Error, Result};

pub use crate::error::AuthStat;

/// Authentication flavors.
pub mod flavor {
    pub const NONE: u32 = 0;
    pub const SYS: u32 = 1;
    pub const SHORT: u32 = 2;
    pub const DH: u32 = 3;
    pub const RPCSEC_GSS: u32 = 6;
}

/// `auth_stat` values (RFC 5531 §9).
pub mod stat {
    pub const OK: u32 = 0;
    pub const BADCRED: u32 = 1;
    pub const REJECTEDCRED: u32 = 2;
    pub const BADVERF: u32 = 3;
    pub const REJECTEDVERF: u32 = 4;
    pub const TOOWEAK: u32 = 5;
    pub const INVALIDRESP: u32 = 6;
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
    pub flavor: u32,
    pub body: Vec<u8>,
}

impl OpaqueAuth {
    /// AUTH_NONE with an empty body.
    pub fn none() -> OpaqueAuth {
        OpaqueAuth::default()
    }

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

    pub fn decode(dec: &mut Decoder<'_>) -> Result<OpaqueAuth> {
        let flavor = dec.get_uint()?;
        let body = dec.get_opaque(Some(MAX_AUTH_BYTES))?.to_vec();
        Ok(OpaqueAuth { flavor, body })
    }
}

/// The AUTH_SYS credential body.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AuthSys {
    pub stamp: u32,
    pub machine_name: String,
    pub uid: u32,
    pub gid: u32,
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
    None,
    Sys(AuthSys),
    /// A flavor xipc does not interpret (never produced by the server,
    /// which rejects such calls; a client may send one).
    Other {
        flavor: u32,
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
}
