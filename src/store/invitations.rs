//! The store's part of admin invitations: a single-use link, kept as the SHA-256 of its token,
//! that lets an admin added without a password set one. An admin has one invitation at most:
//! issuing one deletes the others, and removing the admin deletes theirs.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::oauth::{Admin, Invitation};
use crate::store::StoreError;

/// Admin invitations.
pub trait InvitationStore {
    /// Stores the invitation of `admin` (`token_hash`, valid until `expires`), deleting the
    /// ones issued to the admin before.
    fn put_invitation(
        &self,
        token_hash: &[u8],
        admin: &Admin,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The invitation of this token, used or expired ones too; `None` when there is none.
    fn invitation(
        &self,
        token_hash: &[u8],
    ) -> impl Future<Output = Result<Option<Invitation>, StoreError>> + Send;
    /// Uses up the invitation if it is neither used nor expired at `now`, in one conditional
    /// update (of two uses at once, one wins): the invitation, or `None`.
    fn use_invitation(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<Invitation>, StoreError>> + Send;
}
