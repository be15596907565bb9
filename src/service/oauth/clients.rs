//! The OAuth clients of a tenant (Entra's "Authorize" button, client credentials), as the CLI
//! and the console register them: a client id, a secret of 32 random bytes stored as SHA-256
//! and shown once, and the redirect URIs it may use, matched exactly.

use super::super::tokens::{hash_token, secret};
use super::super::urls::https_or_loopback;
use super::super::{Directory, Error};
use crate::domain::oauth::OAuthClient;
use crate::store::OAuthStore;

/// The redirect URI Entra's provisioning service uses after "Authorize".
pub const ENTRA_REDIRECT_URI: &str = "https://portal.azure.com/TokenAuthorize";
/// Client secrets start with this, so that leaked ones are easy to recognise.
pub const CLIENT_SECRET_PREFIX: &str = "scimd_cs_";

/// A client just registered or given a new secret: the secret is here and nowhere else.
#[derive(Debug)]
pub struct IssuedClient {
    pub client: OAuthClient,
    pub secret: String,
}

/// A redirect URI a client may register: absolute `https`, or `http` on a loopback host (for
/// local development and tests), without user-info or a fragment (RFC 6749 §3.1.2).
fn check_redirect_uri(uri: &str) -> Result<(), Error> {
    https_or_loopback("redirect URI", uri)
}

impl Directory {
    /// Registers an OAuth client of `tenant` with its redirect URIs (matched exactly).
    pub async fn add_client(
        &self,
        tenant: &str,
        redirect_uris: &[String],
    ) -> Result<IssuedClient, Error> {
        for uri in redirect_uris {
            check_redirect_uri(uri)?;
        }
        let tenant = self.tenant(tenant).await?;
        let client_id = secret("scimd-")?.chars().take(6 + 24).collect::<String>();
        let secret = secret(CLIENT_SECRET_PREFIX)?;
        let client = self
            .store
            .add_client(tenant.id, &client_id, &hash_token(&secret), redirect_uris)
            .await?;
        let detail = format!("redirect URIs: {}", redirect_uris.join(" "));
        self.audited(
            "client.add",
            Some(&tenant.name),
            Some(client.client_id.clone()),
            Some(detail),
        )
        .await;
        Ok(IssuedClient { client, secret })
    }

    pub async fn clients(&self, tenant: &str) -> Result<Vec<OAuthClient>, Error> {
        let tenant = self.tenant(tenant).await?;
        Ok(self.store.clients(tenant.id).await?)
    }

    /// A new secret for the client; the old one stops working at once (tokens already issued
    /// stay valid until they expire).
    pub async fn rotate_client_secret(&self, client_id: &str) -> Result<IssuedClient, Error> {
        let secret = secret(CLIENT_SECRET_PREFIX)?;
        let client = self
            .store
            .set_client_secret(client_id, &hash_token(&secret))
            .await?;
        self.audited(
            "client.rotate",
            Some(&client.tenant_name),
            Some(client.client_id.clone()),
            None,
        )
        .await;
        Ok(IssuedClient { client, secret })
    }

    /// Removes the client and every token issued to it.
    pub async fn remove_client(&self, client_id: &str) -> Result<(), Error> {
        let tenant = self.store.client(client_id).await?.map(|c| c.tenant_name);
        self.store.remove_client(client_id).await?;
        self.audited(
            "client.remove",
            tenant.as_deref(),
            Some(client_id.to_owned()),
            None,
        )
        .await;
        Ok(())
    }
}
