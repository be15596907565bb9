//! The `scimd` command: serve, migrate, and manage tenants and tokens.

use std::process::ExitCode;

use clap::Parser;
use tokio::net::TcpListener;

use scimd::config::{Cli, Command, Config, TenantCommand, TokenCommand};
use scimd::domain::Policy;
use scimd::service::{Directory, PolicyChange};
use scimd::{StartError, telemetry};

/// mimalloc: a request allocates and frees many small blocks (JSON documents, SQL text,
/// headers); with glibc's allocator they cost about a tenth of scimd's CPU per lookup.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(&cli.config.log, cli.config.log_format);
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scimd: {}", telemetry::chain(&e));
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), StartError> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&config).await?,
        Command::Migrate => {
            scimd::open_directory(&config).await?;
            println!("migrations applied");
        }
        Command::Tenant(cmd) => tenant(&scimd::open_directory(&config).await?, cmd).await?,
        Command::Token(cmd) => token(&scimd::open_directory(&config).await?, cmd).await?,
    }
    Ok(())
}

async fn serve(config: &Config) -> Result<(), StartError> {
    let state = scimd::build_state(config).await?;
    let listener = TcpListener::bind(config.listen).await?;
    let address = listener.local_addr()?;
    if let Some(issued) = scimd::first_start(&state, config).await? {
        let base = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}"));
        println!(
            "\nscimd is ready for Microsoft Entra ID (this is shown once):\n\n  \
             Tenant URL:    {}/scim/v2\n  Secret Token:  {}\n\n\
             Tenant 'default' was created with this token; `scimd token issue --tenant default` makes another.\n",
            base.trim_end_matches('/'),
            issued.token
        );
    }
    tracing::info!(%address, "scimd listening; SCIM base path /scim/v2");
    // One line on stdout once the socket is bound, so that scripts and tests that start
    // scimd on port 0 learn the address and know it accepts connections.
    println!("listening on http://{address}");
    scimd::serve(listener, state, scimd::shutdown_signal()).await?;
    Ok(())
}

async fn tenant(dir: &Directory, cmd: TenantCommand) -> Result<(), StartError> {
    match cmd {
        TenantCommand::Create { name } => {
            let tenant = dir.create_tenant(&name).await?;
            println!("created tenant {} ({})", tenant.name, tenant.id.0);
        }
        TenantCommand::List => {
            for tenant in dir.tenants().await? {
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
            let change = PolicyChange {
                matching: matching_attribute,
                allowed_roles: if any_role {
                    Some(None)
                } else {
                    allowed_roles.map(Some)
                },
                require_role: (require_role || no_require_role).then_some(require_role),
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
            for t in dir.tokens(&tenant).await? {
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
            let t = dir.revoke_token(id).await?;
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
