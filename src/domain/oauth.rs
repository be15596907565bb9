//! The vocabulary of OAuth 2.0 (RFC 6749) in scimd: the application's admins who sign in to
//! authorize a connection, OAuth clients per tenant, authorization codes and the tokens issued
//! for them. Secrets never appear here: the store keeps hashes, the service compares them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::TenantId;

/// An account of the application's own staff that can sign in to scimd for one tenant. Only
/// a team admin may authorize a connection (Microsoft's GoToMeeting tutorial: "make sure the
/// account has team admin rights").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    pub id: Uuid,
    pub tenant: TenantId,
    pub username: String,
    pub team_admin: bool,
    pub created: DateTime<Utc>,
}

/// An invitation of an admin to set their password, as the store keeps it (the link's token
/// itself is never kept: only its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub admin: Admin,
    pub tenant_name: String,
    pub expires: DateTime<Utc>,
    /// When it was used; an invitation works once.
    pub used: Option<DateTime<Utc>>,
}

/// An OAuth client of one tenant: Entra's provisioning connection, registered by the
/// application's operator with the redirect URIs it may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// The row's id (tokens and codes refer to it).
    pub id: Uuid,
    pub tenant: TenantId,
    pub tenant_name: String,
    /// The public `client_id`.
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    pub created: DateTime<Utc>,
    /// SHA-256 of the client secret.
    pub secret_hash: Vec<u8>,
}

/// An authorization code being issued (RFC 6749 §4.1.2), bound to its client, the redirect
/// URI of the request and, with PKCE (RFC 7636), the code challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeGrant {
    pub client: Uuid,
    pub tenant: TenantId,
    pub admin: Uuid,
    pub redirect_uri: Option<String>,
    pub challenge: Option<String>,
    pub challenge_method: Option<String>,
    /// Every token issued for the code belongs to this family.
    pub family: Uuid,
    pub expires: DateTime<Utc>,
}

/// Tokens to store for one grant: an access token (a row of `tokens`, with an expiry) and,
/// for the authorization code and refresh grants, a refresh token of the same family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub tenant: TenantId,
    pub client: Uuid,
    pub family: Uuid,
    /// The admin who authorized the family (none for client credentials): removing the admin
    /// or taking their team-admin right revokes it.
    pub admin: Option<Uuid>,
    /// When the family was authorized; it ends at an absolute age, however often it rotates.
    pub family_started: DateTime<Utc>,
    pub access_hash: Vec<u8>,
    pub access_expires: DateTime<Utc>,
    pub refresh: Option<(Vec<u8>, DateTime<Utc>)>,
}

/// What happened to a refresh token presented for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// It was valid: it is used up and the new tokens are stored.
    Rotated,
    /// No such token for this client.
    Unknown,
    /// It has expired.
    Expired,
    /// It was already used or revoked: every token of its family is now revoked.
    Reused,
}

/// What a bearer token's hash names, before any decision: the tenant and the token's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The token's id (never its value).
    pub id: Uuid,
    pub tenant: super::Tenant,
    /// The stored hash, for a constant-time comparison.
    pub hash: Vec<u8>,
    pub revoked: bool,
    pub expires: Option<DateTime<Utc>>,
    /// The `client_id` of the OAuth client an access token was issued to.
    pub client: Option<String>,
}
