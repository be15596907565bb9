//! Invitations of the application's admins: an admin added without a password gets a
//! single-use link (32 random bytes, kept as SHA-256, shown once) to open in a browser and set
//! their password. It expires (7 days unless told otherwise, 1 hour to 30 days); a new one
//! revokes the previous; removing the admin revokes theirs.

use chrono::{DateTime, TimeDelta, Utc};

use super::admins::{check_password, check_username, hash_password};
use super::tokens::{hash_token, secret};
use super::{Directory, Error};
use crate::domain::oauth::Admin;
use crate::scim;
use crate::store::{InvitationStore, OAuthStore};

/// How long an invitation is valid unless told otherwise.
pub const DEFAULT_INVITATION_DAYS: i64 = 7;
/// The shortest and longest validity an invitation may be given.
const SHORTEST: TimeDelta = TimeDelta::hours(1);
const LONGEST: TimeDelta = TimeDelta::days(30);
/// Invitation tokens start with this, so that leaked links are easy to recognise.
const INVITATION_PREFIX: &str = "scimd_inv_";
/// Where the invitation page is, below scimd's root URL.
pub const INVITATION_PATH: &str = "/admin/invitation";

/// An invitation just issued: its URL is here and nowhere else.
#[derive(Debug)]
pub struct IssuedInvitation {
    pub admin: Admin,
    pub url: String,
    pub expires: DateTime<Utc>,
}

/// What a person opening an invitation link finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvitationState {
    /// Valid: the tenant and user name it sets a password for.
    Open { tenant: String, username: String },
    /// Used already, or expired.
    Gone,
    /// No such invitation (or never was).
    Unknown,
}

/// The validities [`parse_validity`] takes, as a regular expression (for the API document):
/// 60 to 43200 minutes, 1 to 720 hours, 1 to 30 days, without leading zeros.
pub const VALIDITY_PATTERN: &str = "^(([6-9][0-9]|[1-9][0-9]{2,3}|[1-3][0-9]{4}|4[0-2][0-9]{3}|43[01][0-9]{2}|43200)m|([1-9]|[1-9][0-9]|[1-6][0-9]{2}|7[01][0-9]|720)h|([1-9]|[12][0-9]|30)d)$";

/// A validity such as `3d`, `12h` or `90m`, between 1 hour and 30 days: digits without a
/// leading zero, then the unit ([`VALIDITY_PATTERN`]).
pub fn parse_validity(text: &str) -> Result<TimeDelta, Error> {
    let refuse = || -> Error {
        scim::Error::invalid_value(format!(
            "expires_in: '{}' is not a validity between 1h and 30d: write a number and m, h or \
             d, such as 3d",
            text.chars().take(40).collect::<String>()
        ))
        .at("expires_in")
        .into()
    };
    let split = text.len().checked_sub(1).ok_or_else(refuse)?;
    if !text.is_char_boundary(split) {
        return Err(refuse());
    }
    let (number, unit) = text.split_at(split);
    let digits = !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit());
    if !digits || number.starts_with('0') || number.len() > 6 {
        return Err(refuse());
    }
    let n: i64 = number.parse().map_err(|_| refuse())?;
    let delta = match unit {
        "m" => TimeDelta::try_minutes(n),
        "h" => TimeDelta::try_hours(n),
        "d" => TimeDelta::try_days(n),
        _ => None,
    }
    .ok_or_else(refuse)?;
    if delta < SHORTEST || delta > LONGEST {
        return Err(refuse());
    }
    Ok(delta)
}

impl Directory {
    /// Adds an admin without a password and issues their invitation (`root`: the URL scimd
    /// is reached at), valid for `validity` (7 days when `None`).
    pub async fn add_invited_admin(
        &self,
        tenant: &str,
        username: &str,
        team_admin: bool,
        validity: Option<TimeDelta>,
        root: &str,
    ) -> Result<IssuedInvitation, Error> {
        let username = check_username(username)?;
        let found = self.tenant(tenant).await?;
        // until they set one, their password is a random secret nobody knows: a sign-in is
        // refused, and takes as long as any other
        let unknown = hash_password(&secret("")?)?;
        let admin = self
            .store
            .add_admin(found.id, username, &unknown, team_admin)
            .await?;
        let detail = if team_admin {
            "team_admin invited"
        } else {
            "invited"
        };
        self.audited(
            "admin.add",
            Some(&found.name),
            Some(admin.username.clone()),
            Some(detail.to_owned()),
        )
        .await;
        self.invite_admin(tenant, &admin.username, validity, root)
            .await
    }

    /// Issues a fresh invitation for an admin of `tenant`, revoking the previous one.
    pub async fn invite_admin(
        &self,
        tenant: &str,
        username: &str,
        validity: Option<TimeDelta>,
        root: &str,
    ) -> Result<IssuedInvitation, Error> {
        let found = self.tenant(tenant).await?;
        let wanted = username.trim().to_lowercase();
        let admins = self.store.admins(found.id).await?;
        let Some(admin) = admins
            .into_iter()
            .find(|a| a.username.to_lowercase() == wanted)
        else {
            return Err(scim::Error::not_found(format!(
                "tenant {} has no admin {}",
                found.name,
                username.trim()
            ))
            .into());
        };
        let validity = validity.unwrap_or(TimeDelta::days(DEFAULT_INVITATION_DAYS));
        let token = secret(INVITATION_PREFIX)?;
        let now = self.now();
        let expires = now + validity;
        self.store
            .put_invitation(&hash_token(&token), &admin, now, expires)
            .await?;
        self.audited(
            "admin.invite",
            Some(&found.name),
            Some(admin.username.clone()),
            Some(format!("expires={}", expires.to_rfc3339())),
        )
        .await;
        let url = format!("{}{INVITATION_PATH}/{token}", root.trim_end_matches('/'));
        Ok(IssuedInvitation {
            admin,
            url,
            expires,
        })
    }

    /// What the invitation link with `token` is: open (for whom), used or expired, unknown.
    pub async fn invitation(&self, token: &str) -> Result<InvitationState, Error> {
        if token.len() > 256 || token.contains('\0') {
            return Ok(InvitationState::Unknown);
        }
        let Some(found) = self.store.invitation(&hash_token(token)).await? else {
            return Ok(InvitationState::Unknown);
        };
        if found.used.is_some() || found.expires <= self.now() {
            return Ok(InvitationState::Gone);
        }
        Ok(InvitationState::Open {
            tenant: found.tenant_name,
            username: found.admin.username,
        })
    }

    /// Sets the invited admin's password and uses the invitation up: the admin, or the state
    /// that kept it from being used (the password is checked first, and a refused password
    /// leaves the invitation valid).
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: &str,
    ) -> Result<Result<(Admin, String), InvitationState>, Error> {
        match self.invitation(token).await? {
            InvitationState::Open { .. } => {}
            other => return Ok(Err(other)),
        }
        check_password(password)?;
        let hash = hash_password(password)?;
        let Some(found) = self
            .store
            .use_invitation(&hash_token(token), self.now())
            .await?
        else {
            return Ok(Err(InvitationState::Gone));
        };
        let admin = self
            .store
            .update_admin(found.admin.tenant, &found.admin.username, None, Some(&hash))
            .await?;
        self.audited(
            "admin.invitation_used",
            Some(&found.tenant_name),
            Some(admin.username.clone()),
            None,
        )
        .await;
        Ok(Ok((admin, found.tenant_name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validities_are_minutes_hours_or_days_between_an_hour_and_thirty_days() {
        assert_eq!(parse_validity("3d").unwrap(), TimeDelta::days(3));
        assert_eq!(parse_validity("12h").unwrap(), TimeDelta::hours(12));
        assert_eq!(parse_validity("90m").unwrap(), TimeDelta::minutes(90));
        assert_eq!(parse_validity("30d").unwrap(), TimeDelta::days(30));
        assert_eq!(parse_validity("43200m").unwrap(), TimeDelta::days(30));
        assert_eq!(parse_validity("720h").unwrap(), TimeDelta::days(30));
        assert_eq!(parse_validity("60m").unwrap(), TimeDelta::hours(1));
        let bad = [
            "",
            "d",
            "31d",
            "59m",
            "0h",
            "-1d",
            "+3d",
            "03d",
            " 3d",
            "3d ",
            "3w",
            "3",
            "€",
            "721h",
            "43201m",
            "9999999999999999999d",
        ];
        for bad in bad {
            let e = parse_validity(bad).unwrap_err();
            assert!(
                matches!(&e, Error::Scim(s) if s.attribute() == Some("expires_in")),
                "{bad}: {e:?}"
            );
        }
    }
}
