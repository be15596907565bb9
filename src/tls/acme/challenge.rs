//! The challenges scimd answers to prove it holds its names (RFC 8555 §8): TLS-ALPN-01
//! (RFC 8737) on the HTTPS listener itself, and HTTP-01 (RFC 8555 §8.3) on the plain listener of
//! `SCIMD_HTTP_REDIRECT_LISTEN`; which of them an authorization is answered with
//! (`SCIMD_ACME_CHALLENGE`); and the answers of the order under way, which the listeners read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use instant_acme::ChallengeType;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;

/// Which challenge scimd answers (`SCIMD_ACME_CHALLENGE`). The values have `//` comments,
/// not doc comments: `--help` lists them by name after the setting's own explanation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Choice {
    // TLS-ALPN-01 when the CA offers it; else HTTP-01, when the redirect listener is on.
    #[default]
    Auto,
    // TLS-ALPN-01 only (port 443 must reach scimd).
    #[value(name = "tls-alpn-01")]
    TlsAlpn01,
    // HTTP-01 only, on the redirect listener (port 80 must reach it).
    #[value(name = "http-01")]
    Http01,
}

/// The challenge type to answer, of those an authorization `offered`: `http_listener` says
/// whether the redirect listener (where HTTP-01 is answered) is on.
pub fn pick(
    choice: Choice,
    http_listener: bool,
    offered: &[ChallengeType],
) -> Result<ChallengeType, String> {
    let has = |t: &ChallengeType| offered.contains(t);
    let (tls, http) = (ChallengeType::TlsAlpn01, ChallengeType::Http01);
    match choice {
        Choice::TlsAlpn01 if has(&tls) => Ok(tls),
        Choice::TlsAlpn01 => Err("the ACME server offers no tls-alpn-01 challenge".into()),
        Choice::Http01 if has(&http) => Ok(http),
        Choice::Http01 => Err("the ACME server offers no http-01 challenge".into()),
        Choice::Auto if has(&tls) => Ok(tls),
        Choice::Auto if http_listener && has(&http) => Ok(http),
        Choice::Auto if has(&http) => Err(
            "the ACME server offers http-01 but not tls-alpn-01: set SCIMD_HTTP_REDIRECT_LISTEN \
             (port 80) to answer it"
                .into(),
        ),
        Choice::Auto => {
            Err("the ACME server offers neither tls-alpn-01 nor http-01 challenges".into())
        }
    }
}

/// The answers of the order under way: a certificate per name for TLS-ALPN-01, a key
/// authorization per token for HTTP-01.
#[derive(Debug, Default)]
pub struct Pending {
    tls: Mutex<HashMap<String, Arc<CertifiedKey>>>,
    http: Mutex<HashMap<String, String>>,
}

impl Pending {
    /// The TLS-ALPN-01 certificate for `name` (lower case), while its validation is pending.
    pub fn tls(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        let tls = self.tls.lock().unwrap_or_else(|e| e.into_inner());
        tls.get(name).cloned()
    }

    /// The key authorization of HTTP-01 `token`, while its validation is pending.
    pub fn http(&self, token: &str) -> Option<String> {
        let http = self.http.lock().unwrap_or_else(|e| e.into_inner());
        http.get(token).cloned()
    }

    pub(super) fn answer_tls(&self, name: String, cert: CertifiedKey) {
        let mut tls = self.tls.lock().unwrap_or_else(|e| e.into_inner());
        tls.insert(name, Arc::new(cert));
    }

    pub(super) fn answer_http(&self, token: String, key_authorization: String) {
        let mut http = self.http.lock().unwrap_or_else(|e| e.into_inner());
        http.insert(token, key_authorization);
    }

    /// The order is over: nothing is answered any more.
    pub(super) fn clear(&self) {
        self.tls.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.http.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// The certificate that answers a TLS-ALPN-01 challenge for `name`: self-signed, for `name`
/// only, with the critical acmeIdentifier extension holding `digest` (RFC 8737 §3).
pub(super) fn tls_alpn_cert(
    name: &str,
    digest: &[u8],
    provider: &CryptoProvider,
) -> Result<CertifiedKey, String> {
    let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let mut params =
        rcgen::CertificateParams::new(vec![name.to_owned()]).map_err(|e| e.to_string())?;
    params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(digest)];
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    // not `from_der`: its check parses the certificate with webpki, which refuses the critical
    // acmeIdentifier extension; the key is the one just made for it
    let signer = provider
        .key_provider
        .load_private_key(private)
        .map_err(|e| format!("the challenge key: {e}"))?;
    Ok(CertifiedKey::new(vec![cert.der().clone()], signer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_prefers_tls_alpn_and_falls_back_to_http_only_with_the_redirect_listener() {
        let (tls, http) = (ChallengeType::TlsAlpn01, ChallengeType::Http01);
        let both = [http.clone(), ChallengeType::Dns01, tls.clone()];
        assert_eq!(pick(Choice::Auto, true, &both), Ok(tls.clone()));
        assert_eq!(pick(Choice::Auto, false, &both), Ok(tls.clone()));
        assert_eq!(
            pick(Choice::Auto, true, std::slice::from_ref(&http)),
            Ok(http.clone())
        );
        assert!(
            pick(Choice::Auto, false, std::slice::from_ref(&http))
                .unwrap_err()
                .contains("set SCIMD_HTTP_REDIRECT_LISTEN")
        );
        assert!(
            pick(Choice::Auto, true, &[ChallengeType::Dns01])
                .unwrap_err()
                .contains("neither")
        );
        assert_eq!(pick(Choice::Http01, true, &both), Ok(http.clone()));
        assert_eq!(pick(Choice::TlsAlpn01, true, &both), Ok(tls));
        assert_eq!(
            pick(Choice::TlsAlpn01, true, &[http]),
            Err("the ACME server offers no tls-alpn-01 challenge".to_owned())
        );
    }
}
