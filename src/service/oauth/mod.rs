//! OAuth 2.0 (RFC 6749) as Entra's "Authorize" button and client credentials use it: the
//! authorization request checked before anything is shown, a team admin's sign-in turned into a
//! single-use code (with PKCE, RFC 7636, when the client sends a challenge), and the token
//! endpoint's three grants. Access tokens are bearer tokens of the client's tenant with an
//! expiry; refresh tokens rotate, and a reused one revokes its whole family.

mod clients;
mod grants;

use std::net::IpAddr;
use std::time::Duration;

use uuid::Uuid;

pub use clients::{CLIENT_SECRET_PREFIX, ENTRA_REDIRECT_URI, IssuedClient};

use super::throttle::{AttemptKeys, Held, Throttle};
use super::tokens::{hash_token, secret};
use super::urls::https_or_loopback;
use super::{Directory, Error};
use crate::domain::oauth::{CodeGrant, OAuthClient};
use crate::store::OAuthStore;

/// How long an authorization code may wait for its exchange (RFC 6749 §4.1.2: at most 10 min).
pub const CODE_TTL: Duration = Duration::from_secs(300);
/// How long a refresh token lasts unused; each rotation starts a new one, within the family's
/// absolute lifetime (`SCIMD_OAUTH_REFRESH_MAX_AGE`).
pub const REFRESH_TTL: Duration = Duration::from_secs(90 * 24 * 3600);
/// The bounds of `SCIMD_OAUTH_ACCESS_TOKEN_TTL` (Microsoft's gallery validation: 60–360 min).
pub const ACCESS_TTL_RANGE: std::ops::RangeInclusive<u64> = 3600..=21600;
pub(super) const REFRESH_PREFIX: &str = "scimd_rt_";
const CODE_PREFIX: &str = "scimd_code_";

/// The parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3).
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct AuthorizeRequest {
    #[serde(default)]
    pub response_type: String,
    #[serde(default)]
    pub client_id: String,
    pub redirect_uri: Option<String>,
    pub state: Option<String>,
    pub scope: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// A checked authorization request: its client and where the answer goes.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub client: OAuthClient,
    pub redirect_uri: String,
}

/// Why an authorization request is not served.
#[derive(Debug)]
pub enum AuthorizeError {
    /// The client or the redirect URI cannot be trusted: an error page, never a redirect
    /// (RFC 6749 §4.1.2.1).
    Page(String),
    /// The client is known and its redirect URI registered: the error goes back to it.
    Redirect {
        redirect_uri: String,
        error: &'static str,
        description: String,
    },
    Service(Error),
}

impl From<Error> for AuthorizeError {
    fn from(e: Error) -> Self {
        AuthorizeError::Service(e)
    }
}

/// Why a sign-in gives no code: the page is shown again with the message.
#[derive(Debug)]
pub enum SignInError {
    Refused(String),
    /// The throttle held it: too many attempts from the address, or too many password checks
    /// at once.
    Held(Held),
    Service(Error),
}

impl From<Error> for SignInError {
    fn from(e: Error) -> Self {
        SignInError::Service(e)
    }
}

/// A token request's form (RFC 6749 §4.1.3, §4.4.2, §6).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TokenRequest {
    #[serde(default)]
    pub grant_type: String,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scope: Option<String>,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// An error of the token endpoint (RFC 6749 §5.2), or the server's own failure.
#[derive(Debug)]
pub enum TokenError {
    Refused {
        error: &'static str,
        description: String,
    },
    Service(Error),
}

impl From<Error> for TokenError {
    fn from(e: Error) -> Self {
        TokenError::Service(e)
    }
}

pub(super) fn refused(error: &'static str, description: impl Into<String>) -> TokenError {
    TokenError::Refused {
        error,
        description: description.into(),
    }
}

/// The OAuth part of the directory's settings.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    pub access_ttl: Duration,
    /// The absolute lifetime of a refresh-token family (`SCIMD_OAUTH_REFRESH_MAX_AGE`).
    pub refresh_max_age: Duration,
    pub sign_ins: std::sync::Arc<Throttle>,
}

impl Default for OAuthSettings {
    fn default() -> Self {
        Self {
            access_ttl: Duration::from_secs(*ACCESS_TTL_RANGE.start()),
            refresh_max_age: REFRESH_TTL,
            sign_ins: Default::default(),
        }
    }
}

impl Directory {
    /// Checks an authorization request before the sign-in page is shown (and again when it
    /// is posted): the client must exist and the redirect URI be one it registered, exactly.
    pub async fn check_authorize(
        &self,
        req: &AuthorizeRequest,
    ) -> Result<Authorization, AuthorizeError> {
        let client = match self.store.client(&req.client_id).await {
            Ok(Some(client)) => client,
            Ok(None) => {
                return Err(AuthorizeError::Page(format!(
                    "no OAuth client has the client_id '{}'; the application's operator registers one with `scimd oauth-client add`",
                    req.client_id
                )));
            }
            Err(e) => return Err(Error::from(e).into()),
        };
        let redirect_uri = match &req.redirect_uri {
            Some(uri) if client.redirect_uris.contains(uri) => uri.clone(),
            Some(uri) => {
                return Err(AuthorizeError::Page(format!(
                    "the redirect URI '{uri}' is not registered for this client; register it with `scimd oauth-client add --redirect-uri`"
                )));
            }
            None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
            None => {
                return Err(AuthorizeError::Page(
                    "the request has no redirect_uri, and the client registered several".into(),
                ));
            }
        };
        // one registered before scimd refused such URIs (with user-info, say) gets no code,
        // nor any redirect
        if let Err(refused) = https_or_loopback("redirect URI", &redirect_uri) {
            return Err(AuthorizeError::Page(format!(
                "{refused}; it was registered before scimd refused such URIs: remove the client \
                 and register it again with one that passes (`scimd oauth-client remove`, `add`)"
            )));
        }
        let back = |error, description: &str| AuthorizeError::Redirect {
            redirect_uri: redirect_uri.clone(),
            error,
            description: description.to_owned(),
        };
        if req.response_type != "code" {
            return Err(back(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
        match (&req.code_challenge, req.code_challenge_method.as_deref()) {
            (None, Some(_)) => {
                return Err(back(
                    "invalid_request",
                    "code_challenge_method without code_challenge",
                ));
            }
            (Some(c), _) if !verifier_syntax(c) => {
                return Err(back(
                    "invalid_request",
                    "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]",
                ));
            }
            // RFC 9700 §2.1.1: `plain` protects nothing once the request is seen; S256 only.
            // A challenge without a method would be `plain` (RFC 7636 §4.3), so it is refused too.
            (Some(_), m) if m != Some("S256") => {
                return Err(back(
                    "invalid_request",
                    "code_challenge_method must be S256 (plain is not accepted: RFC 9700 §2.1.1)",
                ));
            }
            _ => {}
        }
        Ok(Authorization {
            client,
            redirect_uri,
        })
    }

    /// Checks an admin's password under the sign-in throttle: the attempt is counted first
    /// (per address, at `account` — the tenant and user name as typed — and at all accounts),
    /// then checked within the budget of password checks. An unknown name takes as long as a
    /// known one and is counted like one.
    pub(crate) async fn check_admin(
        &self,
        account: &str,
        tenant: Option<crate::domain::TenantId>,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<crate::domain::oauth::Admin, SignInError> {
        let keys = AttemptKeys::new(account, address);
        if let Some(held) = self.count_sign_in(&keys).await? {
            return Err(SignInError::Held(held));
        }
        let found = match tenant {
            // a name with a NUL character names no admin (and the store cannot hold it)
            Some(tenant) if !username.contains('\0') => self
                .store
                .admin_credentials(tenant, username.trim())
                .await
                .map_err(Error::from)?,
            _ => None,
        };
        let stored = found.as_ref().map(|(_, hash)| hash.clone());
        let matches = self
            .check_password(password, stored)
            .await?
            .map_err(SignInError::Held)?;
        match found {
            Some((admin, _)) if matches => {
                self.signed_in(&keys).await?;
                Ok(admin)
            }
            _ => Err(SignInError::Refused(
                "the user name or the password is wrong".into(),
            )),
        }
    }

    /// Signs in an admin of the client's tenant and, for a team admin, issues a code.
    pub async fn sign_in(
        &self,
        req: &AuthorizeRequest,
        auth: &Authorization,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<String, SignInError> {
        let account = format!("{}/{username}", auth.client.tenant_name);
        let admin = self
            .check_admin(
                &account,
                Some(auth.client.tenant),
                username,
                password,
                address,
            )
            .await?;
        if !admin.team_admin {
            return Err(SignInError::Refused(format!(
                "'{}' is not a team admin of this application; make sure the account has team admin rights, then authorize again",
                admin.username
            )));
        }
        let code = secret(CODE_PREFIX)?;
        let grant = CodeGrant {
            client: auth.client.id,
            tenant: auth.client.tenant,
            admin: admin.id,
            redirect_uri: req.redirect_uri.clone(),
            challenge: req.code_challenge.clone(),
            challenge_method: req.code_challenge_method.clone(),
            family: Uuid::new_v4(),
            expires: self.now() + CODE_TTL,
        };
        let stored = self.store.put_code(&hash_token(&code), &grant).await;
        stored.map_err(Error::from)?;
        tracing::info!(tenant = %auth.client.tenant_name, client = %auth.client.client_id,
            admin = %admin.username, "authorization code issued");
        Ok(code)
    }
}

/// A random token for the sign-in form's double-submit cookie.
pub fn csrf_token() -> Result<String, Error> {
    secret("")
}

/// RFC 7636 §4.1: 43–128 unreserved characters (a challenge has the same shape).
pub(super) fn verifier_syntax(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}
