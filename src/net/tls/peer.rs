//! Who the peer of a TLS connection is: its certificate's subject (as
//! RFC 4514 writes a distinguished name), subjectAltNames and SHA-256
//! fingerprint, as handlers see them.

use crate::{Error, Result};

/// Who the peer of a TLS connection is, from its certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsPeer {
    /// The certificate's subject, as RFC 4514 writes a distinguished name:
    /// "CN=client-1,O=Example" for a certificate made with
    /// `-subj "/O=Example/CN=client-1"` (RFC 4514 starts from the last RDN).
    pub subject: String,
    /// Its subjectAltNames, each with its kind: "DNS:host.example",
    /// "IP:192.0.2.7", "email:ops@example.org", "URI:spiffe://...".
    pub sans: Vec<String>,
    /// The SHA-256 digest of the certificate (its DER bytes), in lowercase
    /// hexadecimal.
    pub fingerprint: String,
}

impl TlsPeer {
    /// What the certificate `der` says.
    pub fn from_der(der: &[u8]) -> Result<TlsPeer> {
        use x509_parser::extensions::GeneralName;
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| Error::Protocol(format!("the peer's certificate: {e}")))?;
        let mut sans = Vec::new();
        if let Ok(Some(ext)) = cert.subject_alternative_name() {
            for name in &ext.value.general_names {
                sans.push(match name {
                    GeneralName::DNSName(n) => format!("DNS:{n}"),
                    GeneralName::RFC822Name(n) => format!("email:{n}"),
                    GeneralName::URI(n) => format!("URI:{n}"),
                    GeneralName::IPAddress(ip) => match ip.len() {
                        4 => format!(
                            "IP:{}",
                            std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*ip).expect("4 bytes"))
                        ),
                        16 => format!(
                            "IP:{}",
                            std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*ip).expect("16 bytes"))
                        ),
                        _ => continue,
                    },
                    _ => continue,
                });
            }
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        let fingerprint = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        Ok(TlsPeer {
            subject: rfc4514(cert.subject()),
            sans,
            fingerprint,
        })
    }
}

/// A distinguished name as RFC 4514 writes it: the last RDN first, RDNs
/// joined by ",", the attributes of one RDN by "+", each as SHORT=value
/// (the dotted OID when the type has no short name), with the characters
/// RFC 4514 reserves escaped; a value that is not a string is "#" and its
/// DER in hexadecimal.
fn rfc4514(name: &x509_parser::x509::X509Name) -> String {
    use x509_parser::der_parser::asn1_rs::ToDer;
    use x509_parser::objects::{oid2abbrev, oid_registry};
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            let attrs: Vec<String> = rdn
                .iter()
                .map(|attr| {
                    let kind = oid2abbrev(attr.attr_type(), oid_registry())
                        .map(str::to_string)
                        .unwrap_or_else(|_| attr.attr_type().to_id_string());
                    let value = match attr.as_str() {
                        Ok(v) => escape_dn_value(v),
                        Err(_) => {
                            let der = attr.attr_value().to_der_vec().unwrap_or_default();
                            let hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
                            format!("#{hex}")
                        }
                    };
                    format!("{kind}={value}")
                })
                .collect();
            attrs.join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

/// Escapes an RFC 4514 attribute value.
fn escape_dn_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if c == '\0' {
            out.push_str("\\00");
            continue;
        }
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_dn_value;

    #[test]
    fn dn_values_are_escaped_as_rfc_4514_says() {
        assert_eq!(escape_dn_value("plain value"), "plain value");
        assert_eq!(
            escape_dn_value("a,b+c\"d\\e<f>g;h"),
            "a\\,b\\+c\\\"d\\\\e\\<f\\>g\\;h"
        );
        assert_eq!(escape_dn_value("#lead"), "\\#lead");
        assert_eq!(escape_dn_value(" both "), "\\ both\\ ");
        assert_eq!(escape_dn_value("mid#dle"), "mid#dle");
        assert_eq!(escape_dn_value("nul\0"), "nul\\00");
    }
}
