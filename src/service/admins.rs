//! The application's admins, who sign in to authorize Entra (the console and OAuth's Authorize
//! page), as the CLI manages them. Passwords are hashed with Argon2id at OWASP's parameters
//! (19 MiB, 2 passes, 1 lane: the "Password Storage Cheat Sheet").

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::{Directory, Error};
use crate::domain::oauth::Admin;
use crate::scim::{self, limits};
use crate::store::OAuthStore;

/// The shortest password `admin add` accepts.
pub const MIN_PASSWORD_CHARS: usize = 12;

fn argon2() -> Result<Argon2<'static>, Error> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| Error::internal(format!("Argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string of `password` with a random salt (Argon2id).
pub fn hash_password(password: &str) -> Result<String, Error> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| Error::internal(format!("the operating system gave no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| Error::internal(format!("password salt: {e}")))?;
    Ok(argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::internal(format!("password hash: {e}")))?
        .to_string())
}

/// Whether `password` matches the PHC string `hash` (the comparison is constant-time).
pub fn verify_password(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    argon2().is_ok_and(|a| a.verify_password(password.as_bytes(), &parsed).is_ok())
}

pub(super) fn check_password(password: &str) -> Result<(), Error> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(scim::Error::invalid_value(format!(
            "password: use at least {MIN_PASSWORD_CHARS} characters"
        ))
        .at("password")
        .into());
    }
    limits::check_string("password", password)?;
    Ok(())
}

pub(super) fn check_username(username: &str) -> Result<&str, Error> {
    let username = username.trim();
    if username.is_empty() {
        return Err(scim::Error::invalid_value("username: may not be empty")
            .at("username")
            .into());
    }
    limits::check_string("username", username)?;
    limits::check_name("username", username)?;
    Ok(username)
}

impl Directory {
    pub async fn add_admin(
        &self,
        tenant: &str,
        username: &str,
        password: &str,
        team_admin: bool,
    ) -> Result<Admin, Error> {
        let username = check_username(username)?;
        check_password(password)?;
        let tenant = self.tenant(tenant).await?;
        let hash = hash_password(password)?;
        let admin = self
            .store
            .add_admin(tenant.id, username, &hash, team_admin)
            .await?;
        let detail = team_admin.then(|| "team_admin".to_owned());
        self.audited(
            "admin.add",
            Some(&tenant.name),
            Some(admin.username.clone()),
            detail,
        )
        .await;
        Ok(admin)
    }

    pub async fn admins(&self, tenant: &str) -> Result<Vec<Admin>, Error> {
        let tenant = self.tenant(tenant).await?;
        Ok(self.store.admins(tenant.id).await?)
    }

    /// Gives or takes team-admin rights.
    pub async fn set_team_admin(
        &self,
        tenant: &str,
        username: &str,
        team_admin: bool,
    ) -> Result<Admin, Error> {
        let tenant = self.tenant(tenant).await?;
        let change = self
            .store
            .update_admin(tenant.id, username, Some(team_admin), None);
        let admin = change.await?;
        let detail = format!("team_admin={team_admin}");
        self.audited(
            "admin.set",
            Some(&tenant.name),
            Some(admin.username.clone()),
            Some(detail),
        )
        .await;
        Ok(admin)
    }

    pub async fn set_admin_password(
        &self,
        tenant: &str,
        username: &str,
        password: &str,
    ) -> Result<Admin, Error> {
        check_password(password)?;
        let tenant = self.tenant(tenant).await?;
        let hash = hash_password(password)?;
        let change = self
            .store
            .update_admin(tenant.id, username, None, Some(&hash));
        let admin = change.await?;
        self.audited(
            "admin.password",
            Some(&tenant.name),
            Some(admin.username.clone()),
            None,
        )
        .await;
        Ok(admin)
    }

    pub async fn remove_admin(&self, tenant: &str, username: &str) -> Result<(), Error> {
        let tenant = self.tenant(tenant).await?;
        self.store.remove_admin(tenant.id, username).await?;
        self.audited(
            "admin.remove",
            Some(&tenant.name),
            Some(username.trim().to_owned()),
            None,
        )
        .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_argon2id_hash_and_nothing_else() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("correct horse battery", "not a hash"));
    }
}
