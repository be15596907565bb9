//! `scimd admin …`: the application's admins, who sign in to authorize Entra (OAuth) and to
//! use the console.

use clap::{Args, Subcommand};

use super::common::TENANT;
use scimd::StartError;
use scimd::config::Database;

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
            AdminCommand::Remove { tenant, username } => {
                dir.remove_admin(&tenant, &username).await?;
                println!("removed admin {username} from tenant {tenant}");
            }
        }
        Ok(())
    }
}

fn rights(team_admin: bool) -> &'static str {
    if team_admin {
        " (team admin: may authorize Entra)"
    } else {
        " (not a team admin: may not authorize Entra)"
    }
}

/// A password from the terminal (asked twice, not echoed) or the first line of standard input.
fn read_password() -> Result<String, StartError> {
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
