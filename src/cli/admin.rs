//! `scimd admin …`: the application's admins, who sign in to authorize Entra (OAuth) and to
//! use the console.

use clap::{Args, Subcommand};

use super::common::TENANT;
use scimd::StartError;
use scimd::config::{Address, Database};
use scimd::service::invitations::{IssuedInvitation, parse_validity};

#[derive(Debug, Args)]
pub struct Admin {
    #[command(flatten)]
    database: Database,
    #[command(subcommand)]
    command: AdminCommand,
}

/// The help of `--username`, the same in every admin command.
const USERNAME: &str = "The admin's user name, as they sign in with it";

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Add an admin; the password is read from standard input (prompted for on a terminal).
    Add {
        #[arg(long, help = TENANT)]
        tenant: String,
        #[arg(long, help = USERNAME)]
        username: String,
        /// May authorize Entra's connection (the "team admin" right).
        #[arg(long)]
        team_admin: bool,
    },
    /// List a tenant's admins.
    List {
        #[arg(long, help = TENANT)]
        tenant: String,
    },
    /// Give or take the team-admin right.
    Set {
        #[arg(long, help = TENANT)]
        tenant: String,
        #[arg(long, help = USERNAME)]
        username: String,
        /// Give the right to authorize Entra's connection.
        #[arg(
            long,
            conflicts_with = "no_team_admin",
            required_unless_present = "no_team_admin"
        )]
        team_admin: bool,
        /// Take the right away (what the admin authorized is revoked with it).
        #[arg(long)]
        no_team_admin: bool,
    },
    /// Set a new password, read from standard input (prompted for on a terminal).
    Password {
        #[arg(long, help = TENANT)]
        tenant: String,
        #[arg(long, help = USERNAME)]
        username: String,
    },
    /// Invite an admin to set their password in a browser: prints the link once (single use;
    /// a new one revokes the last). An admin not added yet is added without a password.
    Invite {
        #[arg(long, help = TENANT)]
        tenant: String,
        #[arg(long, help = USERNAME)]
        username: String,
        /// When the admin is added now: may authorize Entra's connection.
        #[arg(long)]
        team_admin: bool,
        /// How long the link works: 90m, 12h, 3d (1 hour to 30 days).
        #[arg(long, value_name = "VALIDITY", default_value = "7d")]
        expires: String,
        /// Print {"username": …, "invitation_url": …, "invitation_expires": …}.
        #[arg(long)]
        json: bool,
        // the link is on the URL the server is reached at (SCIMD_PUBLIC_URL)
        #[command(flatten)]
        address: Address,
    },
    /// Opt a team admin in to the tenant's alerts (changes of provisioning health), e-mailed
    /// to this address, or out.
    Notify {
        #[arg(long, help = TENANT)]
        tenant: String,
        #[arg(long, help = USERNAME)]
        username: String,
        /// The address the admin's alerts go to.
        #[arg(
            long,
            value_name = "ADDRESS",
            conflicts_with = "off",
            required_unless_present = "off"
        )]
        email: Option<String>,
        /// Stop e-mailing the admin alerts.
        #[arg(long)]
        off: bool,
    },
    /// Remove an admin.
    Remove {
        #[arg(long, help = TENANT)]
        tenant: String,
        #[arg(long, help = USERNAME)]
        username: String,
    },
}

impl Admin {
    pub async fn run(self) -> Result<(), StartError> {
        let dir = scimd::open_database(&self.database).await?;
        match self.command {
            AdminCommand::Add {
                tenant,
                username,
                team_admin,
            } => {
                let password = read_password()?;
                let admin = dir
                    .add_admin(&tenant, &username, &password, team_admin)
                    .await?;
                println!(
                    "added admin {} to tenant {tenant}{}",
                    admin.username,
                    rights(admin.team_admin)
                );
            }
            AdminCommand::List { tenant } => {
                for a in dir.admins(&tenant).await? {
                    let role = if a.team_admin { "team admin" } else { "member" };
                    println!("{}\t{role}\t{}", a.username, a.created.to_rfc3339());
                }
            }
            AdminCommand::Set {
                tenant,
                username,
                team_admin,
                no_team_admin,
            } => {
                let admin = dir
                    .set_team_admin(&tenant, &username, team_admin && !no_team_admin)
                    .await?;
                println!(
                    "admin {} of tenant {tenant}{}",
                    admin.username,
                    rights(admin.team_admin)
                );
            }
            AdminCommand::Notify {
                tenant,
                username,
                email,
                off,
            } => {
                let email = if off { None } else { email };
                match dir
                    .set_admin_notify(&tenant, &username, email.as_deref())
                    .await?
                {
                    Some(email) => {
                        println!("admin {username} of tenant {tenant}: alerts to {email}")
                    }
                    None => println!("admin {username} of tenant {tenant}: no alerts"),
                }
            }
            AdminCommand::Password { tenant, username } => {
                let password = read_password()?;
                let admin = dir
                    .set_admin_password(&tenant, &username, &password)
                    .await?;
                println!(
                    "set the password of admin {} of tenant {tenant}",
                    admin.username
                );
            }
            AdminCommand::Invite {
                tenant,
                username,
                team_admin,
                expires,
                json,
                address,
            } => {
                let validity = Some(parse_validity(&expires)?);
                let root = address.root_url();
                let wanted = username.trim().to_lowercase();
                let known = dir
                    .admins(&tenant)
                    .await?
                    .iter()
                    .any(|a| a.username.to_lowercase() == wanted);
                let issued = if known {
                    dir.invite_admin(&tenant, &username, validity, &root)
                        .await?
                } else {
                    dir.add_invited_admin(&tenant, &username, team_admin, validity, &root)
                        .await?
                };
                show_invitation(&tenant, &issued, json);
            }
            AdminCommand::Remove { tenant, username } => {
                dir.remove_admin(&tenant, &username).await?;
                println!("removed admin {username} from tenant {tenant}");
            }
        }
        Ok(())
    }
}

/// The invitation link, printed once.
fn show_invitation(tenant: &str, issued: &IssuedInvitation, json: bool) {
    if json {
        let shown = serde_json::json!({
            "username": issued.admin.username,
            "invitation_url": issued.url,
            "invitation_expires": issued.expires.to_rfc3339(),
        });
        println!("{shown}");
        return;
    }
    println!(
        "invited admin {} of tenant {tenant}; send them this link, shown once, valid until {}:",
        issued.admin.username,
        issued.expires.to_rfc3339()
    );
    println!("{}", issued.url);
}

fn rights(team_admin: bool) -> &'static str {
    if team_admin {
        " (team admin: may authorize Entra)"
    } else {
        " (not a team admin: may not authorize Entra)"
    }
}

/// A password from the terminal (asked twice, not echoed) or the first line of standard input.
pub(super) fn read_password() -> Result<String, StartError> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        if first != again {
            return Err(StartError::Config("the two passwords differ".into()));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
