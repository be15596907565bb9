//! The `scimd` command: serve, migrate, and manage tenants and tokens.

use std::process::ExitCode;

use clap::Parser;
use tokio::net::TcpListener;

use scimd::config::{Cli, Command, TenantCommand, TokenCommand};
use scimd::service::{Directory, PolicyChange};
use scimd::store::Store;
use scimd::store::{MatchingAttribute, Policy};
use scimd::{StartError, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(&cli.config.log, cli.config.log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scimd: {}", report(&e));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), StartError> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let state = scimd::build_state(&config).await?;
            let listener = TcpListener::bind(config.listen).await?;
            if let Some(issued) = scimd::first_start(&state, &config).await? {
                let base = config.public_url.clone().unwrap_or_else(|| {
                    format!(
                        "http://{}",
                        listener.local_addr().map_or(config.listen, |a| a)
                    )
                });
                println!(
                    "\nscimd is ready for Microsoft Entra ID (this is shown once):\n\n  \
                     Tenant URL:    {}/scim/v2\n  Secret Token:  {}\n\n\
                     Tenant 'default' was created with this token; `scimd token issue --tenant default` makes another.\n",
                    base.trim_end_matches('/'),
                    issued.token
                );
            }
            let address = listener.local_addr()?;
            tracing::info!(%address, "scimd listening; SCIM base path /scim/v2");
            // One line on stdout once the socket is bound, so that scripts and tests that start
            // scimd on port 0 learn the address and know it accepts connections.
            println!("listening on http://{address}");
            scimd::serve(listener, state, scimd::shutdown_signal()).await?;
        }
        Command::Migrate => {
            scimd::open_directory(&config).await?;
            println!("migrations applied");
        }
        Command::Tenant(cmd) => tenant(&scimd::open_directory(&config).await?, cmd).await?,
        Command::Token(cmd) => token(&scimd::open_directory(&config).await?, cmd).await?,
    }
    Ok(())
}

async fn tenant(dir: &Directory, cmd: TenantCommand) -> Result<(), StartError> {
    match cmd {
        TenantCommand::Create { name } => {
            let tenant = dir.create_tenant(&name).await?;
            println!("created tenant {} ({})", tenant.name, tenant.id.0);
        }
        TenantCommand::List => {
            for tenant in dir.store.tenants().await? {
                println!(
                    "{}\t{}\t{}",
                    tenant.id.0,
                    tenant.name,
                    describe(&tenant.policy)
                );
            }
        }
        TenantCommand::Set {
            name,
            matching_attribute,
            allowed_roles,
            any_role,
            require_role,
            no_require_role,
        } => {
            let matching = match matching_attribute.as_deref() {
                None => None,
                Some(m) => Some(MatchingAttribute::parse(m).ok_or_else(|| {
                    let names: Vec<&str> =
                        MatchingAttribute::ALL.iter().map(|m| m.as_str()).collect();
                    scimd::service::Error::from(scimd::scim::Error::invalid_value(format!(
                        "matching attribute '{m}' is not one of: {}",
                        names.join(", ")
                    )))
                })?),
            };
            let change = PolicyChange {
                matching,
                allowed_roles: if any_role {
                    Some(None)
                } else {
                    allowed_roles.map(Some)
                },
                require_role: if require_role {
                    Some(true)
                } else if no_require_role {
                    Some(false)
                } else {
                    None
                },
            };
            let policy = dir.set_policy(&name, &change).await?;
            println!("tenant {name}: {}", describe(&policy));
        }
    }
    Ok(())
}

async fn token(dir: &Directory, cmd: TokenCommand) -> Result<(), StartError> {
    match cmd {
        TokenCommand::Issue { tenant, label } => {
            let issued = dir.issue_token(&tenant, label.as_deref()).await?;
            eprintln!(
                "issued token {} for tenant {}; it is shown once, store it now:",
                issued.info.id, issued.info.tenant
            );
            println!("{}", issued.token);
        }
        TokenCommand::List { tenant } => {
            let tenant = dir.tenant(&tenant).await?;
            for t in dir.store.tokens(tenant.id).await? {
                let state = t.revoked.map_or("active".to_owned(), |r| {
                    format!("revoked {}", r.to_rfc3339())
                });
                println!(
                    "{}\t{}\t{}\t{}",
                    t.id,
                    t.label.unwrap_or_default(),
                    t.created.to_rfc3339(),
                    state
                );
            }
        }
        TokenCommand::Revoke { id } => {
            let t = dir.store.revoke_token(id).await.map_err(|e| match e {
                scimd::store::StoreError::NotFound => scimd::service::Error::from(
                    scimd::scim::Error::not_found(format!("no token with id {id}")),
                ),
                other => other.into(),
            })?;
            println!("revoked token {} of tenant {}", t.id, t.tenant);
        }
    }
    Ok(())
}

/// A tenant's rules in one line.
fn describe(policy: &Policy) -> String {
    let roles = match &policy.allowed_roles {
        None => "any role".to_owned(),
        Some(roles) => format!("roles {}", roles.join(",")),
    };
    let required = if policy.require_role {
        ", role required"
    } else {
        ""
    };
    format!("matching {}; {roles}{required}", policy.matching.as_str())
}

/// An error with its causes, for the operator.
fn report(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
