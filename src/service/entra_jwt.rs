//! Verification of the bearer JWTs that Microsoft Entra ID's provisioning service sends when
//! the admin leaves "Secret Token" blank: RS256 with the keys the Entra tenant publishes
//! (`keys`), issuer pinned to one Entra tenant, Entra's audience for custom apps, and the
//! provisioning service as the requesting application.
//!
//! The rules are Microsoft's, from "Tutorial: Develop and plan provisioning for a SCIM
//! endpoint in Microsoft Entra ID", section "Handling endpoint authentication",
//! https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups.

mod keys;

use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

pub use keys::KeyPolicy;

use crate::domain::clock::Clock;

/// Where an Entra tenant's OpenID configuration is, `{tenant}` standing for its id; the
/// configuration's `jwks_uri` names the tenant's signing keys.
pub const DEFAULT_METADATA_URL: &str =
    "https://login.microsoftonline.com/{tenant}/.well-known/openid-configuration";

/// The placeholder of the metadata URL template that stands for the Entra tenant id.
pub const TENANT_PLACEHOLDER: &str = "{tenant}";

/// The audience (`aud`) of Entra's provisioning tokens for every custom (non-gallery)
/// application: the application id of the non-gallery app template. The same in every Entra
/// tenant, which is why the issuer is pinned too.
pub const CUSTOM_APP_AUDIENCE: &str = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621";

/// Also accepted as the audience: the application id of the legacy Azure AD Graph
/// (`00000002-0000-0000-c000-000000000000`), which older provisioning tokens carry instead of
/// [`CUSTOM_APP_AUDIENCE`]. The issuer, tenant and requesting-application rules still apply.
pub const LEGACY_GRAPH_AUDIENCE: &str = "00000002-0000-0000-c000-000000000000";

/// The application id (`appid` in v1 tokens, `azp` in v2) of Microsoft.Azure.SyncFabric, the
/// provisioning service: the only application whose tokens are accepted.
pub const PROVISIONING_APP_ID: &str = "00000014-0000-0000-c000-000000000000";

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECONDS: u64 = 60;

/// Longer bearer values are refused before any parsing (Entra's tokens are about 1.5 KiB).
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The issuer of an Entra tenant's v1 tokens, which Entra's provisioning service sends.
fn issuer(tid: Uuid) -> String {
    format!("https://sts.windows.net/{tid}/")
}

/// Verifies Entra-issued bearer tokens. Holds one HTTP client and, per Entra tenant, the
/// signing keys it publishes (see [`KeyPolicy`] for how long they are kept and how often they
/// are fetched). Cheap to share: put it in an `Arc`.
#[derive(Debug)]
pub struct EntraKeys {
    keys: keys::KeyCache,
}

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraClaims {
    /// The Entra tenant that issued the token (the one it was verified for).
    pub tid: Uuid,
    /// The application that requested the token: [`PROVISIONING_APP_ID`].
    pub app_id: String,
    /// When the token expires (`exp`).
    pub expires: DateTime<Utc>,
    /// The object id (`oid`) of the provisioning service's principal in the tenant, if given.
    pub object_id: Option<String>,
    /// The subject (`sub`), if given.
    pub subject: Option<String>,
}

/// Why a bearer JWT is not accepted. Each message says what to check; none quotes the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtRefusal {
    /// Not a JWT as Entra makes them; the detail says which part is wrong.
    #[error("the bearer token is not a well-formed Entra token: {0}")]
    Malformed(String),
    /// `exp` is more than [`LEEWAY_SECONDS`] in the past.
    #[error(
        "the Entra token has expired (more than 60 s ago); Entra sends a fresh one with its next \
         request — if this keeps happening, check this server's clock"
    )]
    Expired,
    /// `nbf` is more than [`LEEWAY_SECONDS`] in the future.
    #[error(
        "the Entra token is not valid yet (its start is more than 60 s ahead of this server's \
         clock): check this server's clock"
    )]
    NotYetValid,
    /// The issuer or `tid` is another Entra tenant than the configured one.
    #[error(
        "the Entra token was issued for another Entra tenant than the one this scimd tenant \
         trusts: check the Entra tenant id configured for this scimd tenant"
    )]
    OtherTenant,
    /// `aud` is not the audience of Entra's provisioning tokens for custom apps.
    #[error(
        "the Entra token is not meant for a custom application's provisioning (its audience is \
         not 8adf8e6e-67b2-4cf2-a259-e3dc5476c621): only tokens that Entra's provisioning \
         service sends to a non-gallery application are accepted"
    )]
    WrongAudience,
    /// `appid`/`azp` is not the provisioning service.
    #[error(
        "the Entra token was not requested by Entra's provisioning service (its application id \
         is not 00000014-0000-0000-c000-000000000000): only the provisioning service may call \
         this endpoint with an Entra token"
    )]
    WrongApp,
    /// The token names a key the Entra tenant does not publish, even after fetching its keys
    /// again (or it was fetched again too recently to try once more).
    #[error(
        "the Entra token is signed with a key that the trusted Entra tenant does not publish: \
         it was not issued by that tenant, or the tenant's keys changed within the last minutes \
         (they are fetched again at most every few minutes)"
    )]
    UnknownKey,
    /// The signature does not verify with the key the token names.
    #[error(
        "the Entra token's signature does not match the Entra tenant's published key: the \
         token was altered or was not issued by Entra"
    )]
    BadSignature,
    /// The Entra tenant's keys could not be fetched: the caller answers 503, to be retried.
    #[error(
        "the signing keys of the trusted Entra tenant could not be fetched ({0}); the request \
         can succeed later — check that this server reaches SCIMD_ENTRA_METADATA_URL"
    )]
    KeysUnavailable(String),
}

/// Why an [`EntraKeys`] cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum EntraSetupError {
    /// The metadata URL template has no `{tenant}`.
    #[error(
        "the Entra metadata URL '{0}' has no {{tenant}} placeholder for the Entra tenant id \
         (e.g. https://login.microsoftonline.com/{{tenant}}/.well-known/openid-configuration)"
    )]
    NoTenantPlaceholder(String),
    /// The metadata URL template is not an http(s) URL.
    #[error("the Entra metadata URL '{0}' is not an http or https URL: {1}")]
    InvalidUrl(String, String),
    /// The HTTP client could not be built.
    #[error("the HTTP client that fetches Entra's signing keys could not be built")]
    Client(#[source] reqwest::Error),
}

impl EntraKeys {
    /// Fetches keys from `metadata_url_template` (`{tenant}` replaced by the Entra tenant id),
    /// with the default [`KeyPolicy`].
    pub fn new(metadata_url_template: &str) -> Result<Self, EntraSetupError> {
        Self::with_policy(metadata_url_template, KeyPolicy::default())
    }

    /// As [`EntraKeys::new`], with other cache and fetch times (tests shorten them).
    pub fn with_policy(
        metadata_url_template: &str,
        policy: KeyPolicy,
    ) -> Result<Self, EntraSetupError> {
        check_metadata_url(metadata_url_template)?;
        // With exactly one backend feature enabled jsonwebtoken picks it by itself; installing
        // it keeps verification working should another crate ever enable a second backend.
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        Ok(Self {
            keys: keys::KeyCache::new(metadata_url_template, policy)?,
        })
    }

    /// Whether a bearer value has the shape of a JWT: three non-empty base64url parts, the
    /// first a JSON header. Cheap and without crypto; scimd's own tokens never have it.
    pub fn looks_like_jwt(token: &str) -> bool {
        let mut parts = token.split('.');
        let shaped =
            (0..3).all(|_| parts.next().is_some_and(is_base64url)) && parts.next().is_none();
        shaped && token.len() <= MAX_TOKEN_BYTES && jsonwebtoken::decode_header(token).is_ok()
    }

    /// The cache's ages read on `clock` (the directory's, so that a test moves one clock).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.keys.clock = clock;
        self
    }

    /// The Entra tenant a token claims to be from — its `tid`, else the tenant in its `iss` —
    /// read WITHOUT verifying anything: only to choose which configuration to verify it with.
    pub fn claimed_tenant(token: &str) -> Option<Uuid> {
        if token.len() > MAX_TOKEN_BYTES {
            return None;
        }
        let claims = jsonwebtoken::dangerous::insecure_decode::<RawClaims>(token)
            .ok()?
            .claims;
        let from_tid = claims.tid.as_ref().and_then(uuid_in);
        from_tid.or_else(|| {
            let iss = text(&claims.iss)?;
            let rest = iss
                .strip_prefix("https://sts.windows.net/")
                .or_else(|| iss.strip_prefix("https://login.microsoftonline.com/"))?;
            Uuid::parse_str(rest.split('/').next()?).ok()
        })
    }

    /// Verifies `token` as a provisioning token of the Entra tenant `tid`: RS256 signature by
    /// a key the tenant publishes, `exp` (required) and `nbf` within [`LEEWAY_SECONDS`], issuer
    /// `https://sts.windows.net/{tid}/`, `tid` (when present) `tid`, audience
    /// [`CUSTOM_APP_AUDIENCE`] (or [`LEGACY_GRAPH_AUDIENCE`]), and `appid`/`azp`
    /// [`PROVISIONING_APP_ID`].
    pub async fn verify(&self, token: &str, tid: Uuid) -> Result<EntraClaims, JwtRefusal> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(JwtRefusal::Malformed(format!(
                "it is longer than {MAX_TOKEN_BYTES} bytes"
            )));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| not_a_jwt())?;
        if header.alg != Algorithm::RS256 {
            return Err(JwtRefusal::Malformed(format!(
                "it is signed with {:?}, not RS256 as Entra signs",
                header.alg
            )));
        }
        if header.crit.is_some() {
            return Err(JwtRefusal::Malformed(
                "its header requires extensions (crit) that scimd does not implement".into(),
            ));
        }
        let kid = header
            .kid
            .or(header.x5t)
            .filter(|kid| !kid.is_empty())
            .ok_or_else(|| JwtRefusal::Malformed("its header names no signing key (kid)".into()))?;
        let key = self.keys.key(tid, &kid).await?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp"]);
        // The audience is checked below, with a refusal of its own.
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<RawClaims>(token, &key, &validation)
            .map_err(|e| refusal(e.kind(), &kid))?
            .claims;
        claims.check(tid)
    }
}

/// The claims this module reads; kept as JSON values so that an odd type is a refusal of its
/// own below rather than a parse error.
#[derive(Debug, Deserialize)]
struct RawClaims {
    #[serde(default)]
    iss: Option<Value>,
    #[serde(default)]
    tid: Option<Value>,
    #[serde(default)]
    aud: Option<Value>,
    #[serde(default)]
    appid: Option<Value>,
    #[serde(default)]
    azp: Option<Value>,
    #[serde(default)]
    exp: Option<Value>,
    #[serde(default)]
    oid: Option<Value>,
    #[serde(default)]
    sub: Option<Value>,
}

impl RawClaims {
    /// The checks after the signature and the times: tenant, audience, application.
    fn check(self, tid: Uuid) -> Result<EntraClaims, JwtRefusal> {
        let iss = text(&self.iss)
            .ok_or_else(|| JwtRefusal::Malformed("it has no issuer (iss)".into()))?;
        if !iss.eq_ignore_ascii_case(&issuer(tid)) {
            return Err(JwtRefusal::OtherTenant);
        }
        if self.tid.as_ref().is_some_and(|t| uuid_in(t) != Some(tid)) {
            return Err(JwtRefusal::OtherTenant);
        }
        let audiences: Vec<&str> = match &self.aud {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let accepted = |aud: &&str| {
            [CUSTOM_APP_AUDIENCE, LEGACY_GRAPH_AUDIENCE]
                .iter()
                .any(|ok| aud.eq_ignore_ascii_case(ok))
        };
        if !audiences.iter().any(accepted) {
            return Err(JwtRefusal::WrongAudience);
        }
        // v1 tokens name the requesting application in `appid`, v2 tokens in `azp`: each one
        // present must be the provisioning service, and one must be.
        let named: Vec<&Value> = [&self.appid, &self.azp].into_iter().flatten().collect();
        let is_provisioning = |app: &&Value| {
            app.as_str()
                .is_some_and(|a| a.eq_ignore_ascii_case(PROVISIONING_APP_ID))
        };
        if named.is_empty() || !named.iter().all(is_provisioning) {
            return Err(JwtRefusal::WrongApp);
        }
        let expires = self
            .exp
            .as_ref()
            .and_then(|exp| exp.as_i64().or_else(|| exp.as_f64().map(|f| f as i64)))
            .and_then(|exp| DateTime::from_timestamp(exp, 0))
            .ok_or_else(|| JwtRefusal::Malformed("its expiry (exp) is not a time".into()))?;
        Ok(EntraClaims {
            tid,
            app_id: PROVISIONING_APP_ID.to_owned(),
            expires,
            object_id: text(&self.oid).map(str::to_owned),
            subject: text(&self.sub).map(str::to_owned),
        })
    }
}

/// A claim's text, if it is a string.
fn text(value: &Option<Value>) -> Option<&str> {
    value.as_ref().and_then(Value::as_str)
}

/// A claim's GUID, if it is a string holding one.
fn uuid_in(value: &Value) -> Option<Uuid> {
    value.as_str().and_then(|s| Uuid::parse_str(s).ok())
}

fn is_base64url(part: &str) -> bool {
    !part.is_empty()
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn not_a_jwt() -> JwtRefusal {
    JwtRefusal::Malformed("it is not three base64url parts with a JSON header and claims".into())
}

/// The refusal for what jsonwebtoken found wrong.
fn refusal(kind: &ErrorKind, kid: &str) -> JwtRefusal {
    match kind {
        ErrorKind::InvalidSignature => JwtRefusal::BadSignature,
        ErrorKind::ExpiredSignature => JwtRefusal::Expired,
        ErrorKind::ImmatureSignature => JwtRefusal::NotYetValid,
        ErrorKind::MissingRequiredClaim(claim) => {
            JwtRefusal::Malformed(format!("it has no {claim} claim"))
        }
        ErrorKind::InvalidClaimFormat(claim) => {
            JwtRefusal::Malformed(format!("its {claim} claim is not a number of seconds"))
        }
        ErrorKind::InvalidAlgorithm => {
            JwtRefusal::Malformed("it is not signed with RS256 as Entra signs".into())
        }
        ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat => {
            JwtRefusal::KeysUnavailable(format!("the published key {kid} is not a usable RSA key"))
        }
        _ => not_a_jwt(),
    }
}

/// Checks a metadata URL template: an http(s) URL with a `{tenant}` placeholder.
pub fn check_metadata_url(template: &str) -> Result<(), EntraSetupError> {
    if !template.contains(TENANT_PLACEHOLDER) {
        return Err(EntraSetupError::NoTenantPlaceholder(template.to_owned()));
    }
    let example = template.replace(TENANT_PLACEHOLDER, &Uuid::nil().to_string());
    let invalid = |why: String| EntraSetupError::InvalidUrl(template.to_owned(), why);
    let url = reqwest::Url::parse(&example).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!("the scheme is {}", url.scheme())));
    }
    Ok(())
}
