//! The token endpoint (RFC 6749 §3.2): client authentication by `client_secret_basic` or
//! `client_secret_post`, then the `authorization_code` (with PKCE, RFC 7636 §4.6),
//! `refresh_token` (rotating) and `client_credentials` grants.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::{
    REFRESH_PREFIX, REFRESH_TTL, TokenError, TokenRequest, TokenResponse, refused, verifier_syntax,
};
use crate::domain::oauth::{CodeGrant, OAuthClient, Rotation, TokenGrant};
use crate::service::tokens::{TOKEN_PREFIX, hash_token, secret};
use crate::service::{Directory, Error};
use crate::store::OAuthStore;

impl Directory {
    /// The token endpoint: authenticates the client, then serves its grant.
    pub async fn token(
        &self,
        req: &TokenRequest,
        basic: Option<(String, String)>,
    ) -> Result<TokenResponse, TokenError> {
        let client = self.authenticate_client(req, basic).await?;
        match req.grant_type.as_str() {
            "authorization_code" => self.exchange_code(req, &client).await,
            "refresh_token" => self.refresh(req, &client).await,
            "client_credentials" => {
                let grant = self.new_grant(&client, (Uuid::new_v4(), None), false)?;
                let stored = self.store.store_tokens(&grant.0, self.now()).await;
                stored.map_err(Error::from)?;
                tracing::info!(tenant = %client.tenant_name, client = %client.client_id,
                    "access token issued (client credentials)");
                Ok(grant.1)
            }
            "" => Err(refused("invalid_request", "grant_type is missing")),
            "password" => Err(refused(
                "unsupported_grant_type",
                "the password grant is not offered (OAuth 2.1 removes it); use authorization_code or client_credentials",
            )),
            other => Err(refused(
                "unsupported_grant_type",
                format!(
                    "grant_type '{other}' is not supported; use authorization_code, refresh_token or client_credentials"
                ),
            )),
        }
    }

    /// `client_secret_basic` or `client_secret_post` (RFC 6749 §2.3.1), never both.
    async fn authenticate_client(
        &self,
        req: &TokenRequest,
        basic: Option<(String, String)>,
    ) -> Result<OAuthClient, TokenError> {
        let posted = req
            .client_secret
            .as_ref()
            .map(|s| (req.client_id.clone(), s));
        let (id, secret) = match (basic, posted) {
            (Some(_), Some(_)) => {
                return Err(refused(
                    "invalid_request",
                    "the client authenticated twice (Authorization header and client_secret); use one",
                ));
            }
            (Some((id, secret)), None) => (id, secret),
            (None, Some((Some(id), secret))) => (id, secret.clone()),
            _ => {
                return Err(refused(
                    "invalid_client",
                    "client authentication is required: HTTP Basic or client_id and client_secret in the form",
                ));
            }
        };
        let client = self.store.client(&id).await.map_err(Error::from)?;
        let hash = hash_token(&secret);
        match client {
            Some(c) if bool::from(c.secret_hash.as_slice().ct_eq(&hash)) => Ok(c),
            _ => Err(refused(
                "invalid_client",
                "unknown client_id or wrong client secret",
            )),
        }
    }

    async fn exchange_code(
        &self,
        req: &TokenRequest,
        client: &OAuthClient,
    ) -> Result<TokenResponse, TokenError> {
        let Some(code) = &req.code else {
            return Err(refused("invalid_request", "code is missing"));
        };
        let now = self.now();
        let taken = self.store.take_code(&hash_token(code), now).await;
        let Some((grant, first)) = taken.map_err(Error::from)? else {
            return Err(refused("invalid_grant", "the code is not valid"));
        };
        if grant.client != client.id {
            return Err(refused(
                "invalid_grant",
                "the code was issued to another client",
            ));
        }
        if !first {
            // RFC 6749 §4.1.2: a code used twice revokes what it gave
            let revoked = self.store.revoke_family(grant.family, now).await;
            revoked.map_err(Error::from)?;
            tracing::warn!(tenant = %client.tenant_name, client = %client.client_id,
                "an authorization code was used twice; its tokens are revoked");
            return Err(refused(
                "invalid_grant",
                "the code was already used; the tokens issued for it are revoked",
            ));
        }
        if grant.expires <= now {
            return Err(refused("invalid_grant", "the code has expired"));
        }
        if grant.redirect_uri.is_some() && grant.redirect_uri != req.redirect_uri {
            return Err(refused(
                "invalid_grant",
                "redirect_uri differs from the authorization request's",
            ));
        }
        check_verifier(&grant, req.code_verifier.as_deref())?;
        let (tokens, response) = self.new_grant(client, (grant.family, Some(grant.admin)), true)?;
        let stored = self.store.store_tokens(&tokens, now).await;
        stored.map_err(Error::from)?;
        tracing::info!(tenant = %client.tenant_name, client = %client.client_id,
            "tokens issued for an authorization code");
        Ok(response)
    }

    async fn refresh(
        &self,
        req: &TokenRequest,
        client: &OAuthClient,
    ) -> Result<TokenResponse, TokenError> {
        let Some(old) = &req.refresh_token else {
            return Err(refused("invalid_request", "refresh_token is missing"));
        };
        // the family, its admin and its start are the old token's; the store keeps them
        let (next, response) = self.new_grant(client, (Uuid::nil(), None), true)?;
        let max_age = self.oauth.refresh_max_age;
        let rotation = self
            .store
            .rotate_refresh(&hash_token(old), client.id, &next, self.now(), max_age)
            .await
            .map_err(Error::from)?;
        match rotation {
            Rotation::Rotated => Ok(response),
            Rotation::Unknown => Err(refused(
                "invalid_grant",
                "the refresh token is not valid for this client",
            )),
            Rotation::Expired => Err(refused("invalid_grant", "the refresh token has expired")),
            Rotation::Reused => {
                tracing::warn!(tenant = %client.tenant_name, client = %client.client_id,
                    "a used refresh token was presented again; its family is revoked");
                Err(refused(
                    "invalid_grant",
                    "the refresh token was already used; every token of this authorization is revoked, authorize again",
                ))
            }
        }
    }

    /// New random tokens for `client`, of `family` as authorized by an admin (if one did), and
    /// the response that shows them.
    fn new_grant(
        &self,
        client: &OAuthClient,
        (family, admin): (Uuid, Option<Uuid>),
        with_refresh: bool,
    ) -> Result<(TokenGrant, TokenResponse), Error> {
        let access = secret(TOKEN_PREFIX)?;
        let refresh = if with_refresh {
            Some(secret(REFRESH_PREFIX)?)
        } else {
            None
        };
        let now = self.now();
        let ttl = self.oauth.access_ttl;
        let grant = TokenGrant {
            tenant: client.tenant,
            client: client.id,
            family,
            admin,
            family_started: now,
            access_hash: hash_token(&access).to_vec(),
            access_expires: now + ttl,
            refresh: refresh.as_ref().map(|r| {
                let ends = now + REFRESH_TTL.min(self.oauth.refresh_max_age);
                (hash_token(r).to_vec(), ends)
            }),
        };
        let response = TokenResponse {
            access_token: access,
            token_type: "Bearer",
            expires_in: ttl.as_secs(),
            refresh_token: refresh,
        };
        Ok((grant, response))
    }
}

/// RFC 7636 §4.6: the verifier must match the code's challenge; without a challenge no
/// verifier is expected.
fn check_verifier(grant: &CodeGrant, verifier: Option<&str>) -> Result<(), TokenError> {
    let Some(challenge) = &grant.challenge else {
        return match verifier {
            None => Ok(()),
            Some(_) => Err(refused(
                "invalid_grant",
                "code_verifier sent for a code requested without code_challenge",
            )),
        };
    };
    let Some(verifier) = verifier.filter(|v| verifier_syntax(v)) else {
        return Err(refused(
            "invalid_grant",
            "code_verifier is missing or malformed (RFC 7636 §4.1)",
        ));
    };
    // only S256 challenges are accepted (a code stored with another method from before that
    // rule matches no verifier)
    let derived = match grant.challenge_method.as_deref() {
        Some("S256") => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
        _ => {
            return Err(refused(
                "invalid_grant",
                "the code's challenge method is not S256",
            ));
        }
    };
    if bool::from(derived.as_bytes().ct_eq(challenge.as_bytes())) {
        Ok(())
    } else {
        Err(refused(
            "invalid_grant",
            "code_verifier does not match the code_challenge",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_s256_verifier_matches_the_challenge_of_rfc_7636_appendix_b() {
        let grant = CodeGrant {
            client: Uuid::nil(),
            tenant: crate::domain::TenantId(Uuid::nil()),
            admin: Uuid::nil(),
            redirect_uri: None,
            challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
            challenge_method: Some("S256".into()),
            family: Uuid::nil(),
            expires: chrono::Utc::now(),
        };
        assert!(
            check_verifier(&grant, Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).is_ok()
        );
        assert!(
            check_verifier(&grant, Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK")).is_err()
        );
        assert!(check_verifier(&grant, None).is_err());
    }
}
