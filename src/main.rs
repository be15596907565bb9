//! The `scimd` command: serve, migrate, and manage tenants and tokens.

use std::process::ExitCode;

use clap::Parser;
use tokio::net::TcpListener;

use scimd::config::{
    AdminCommand, Cli, Command, Config, OAuthClientCommand, TenantCommand, TokenCommand,
};
use scimd::domain::Policy;
use scimd::domain::activity::ActivityFilter;

mod extensions;
mod report;
mod webhooks;
use scimd::service::{Directory, IssuedClient, PolicyChange};
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
        Command::Admin(cmd) => admin(&scimd::open_directory(&config).await?, cmd).await?,
        Command::OauthClient(cmd) => {
            oauth_client(&scimd::open_directory(&config).await?, cmd).await?
        }
        Command::Activity {
            tenant,
            since,
            resource,
            request_id,
            status,
            operation,
            limit,
            json,
        } => {
            let filter = ActivityFilter {
                since,
                resource,
                request_id,
                status_class: status,
                operation,
                limit,
                until: None,
                refused: false,
            };
            let dir = scimd::open_directory(&config).await?;
            report::activity(&dir.activity(&tenant, &filter).await?, json);
        }
        Command::Webhook(cmd) => {
            webhooks::webhook(&scimd::open_directory(&config).await?, cmd).await?
        }
        Command::Schema(cmd) => {
            extensions::schema(&scimd::open_directory(&config).await?, cmd).await?
        }
        Command::Events(cmd) => {
            webhooks::events(&scimd::open_directory(&config).await?, cmd).await?
        }
        Command::Cycles {
            tenant,
            since,
            json,
        } => {
            let since = since.unwrap_or_else(|| chrono::Utc::now() - chrono::TimeDelta::days(30));
            let gap = chrono::TimeDelta::from_std(config.cycle_gap)
                .unwrap_or(chrono::TimeDelta::minutes(10));
            let dir = scimd::open_directory(&config).await?;
            report::cycles(&dir.cycles(&tenant, since, gap).await?, json);
        }
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
    if config.public_url.is_none() {
        tracing::warn!(
            issuer = %config.root_url(),
            "SCIMD_PUBLIC_URL is not set: the OAuth issuer and the events' `iss` are the \
             listening address; set it to the URL Entra reaches scimd at"
        );
    }
    if config.metrics_listen.is_none() && config.metrics_token.is_none() {
        tracing::info!(
            "/metrics is not served: set SCIMD_METRICS_LISTEN (an address of their own) or \
             SCIMD_METRICS_TOKEN (on the main address, for bearers of the token)"
        );
    }
    if let Some(metrics) = config.metrics_listen {
        let listener = TcpListener::bind(metrics).await?;
        let app = axum::Router::new().route("/metrics", axum::routing::get(scimd::meter::render));
        tracing::info!(address = %listener.local_addr()?, "metrics on their own address");
        tokio::spawn(async move { axum::serve(listener, app).await });
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
            entra_tenant_id,
            no_entra_tenant_id,
            unknown_attributes,
        } => {
            let change = PolicyChange {
                matching: matching_attribute,
                allowed_roles: if any_role {
                    Some(None)
                } else {
                    allowed_roles.map(Some)
                },
                require_role: (require_role || no_require_role).then_some(require_role),
                entra_tenant: if no_entra_tenant_id {
                    Some(None)
                } else {
                    entra_tenant_id.map(Some)
                },
                unknown_attributes,
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

async fn admin(dir: &Directory, cmd: AdminCommand) -> Result<(), StartError> {
    match cmd {
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

async fn oauth_client(dir: &Directory, cmd: OAuthClientCommand) -> Result<(), StartError> {
    match cmd {
        OAuthClientCommand::Add {
            tenant,
            redirect_uris,
            json,
        } => show_secret(&dir.add_client(&tenant, &redirect_uris).await?, json),
        OAuthClientCommand::List { tenant } => {
            for c in dir.clients(&tenant).await? {
                println!(
                    "{}\t{}\t{}",
                    c.client_id,
                    c.redirect_uris.join(" "),
                    c.created.to_rfc3339()
                );
            }
        }
        OAuthClientCommand::RotateSecret { client_id, json } => {
            show_secret(&dir.rotate_client_secret(&client_id).await?, json);
        }
        OAuthClientCommand::Remove { client_id } => {
            dir.remove_client(&client_id).await?;
            println!("removed OAuth client {client_id} and its tokens");
        }
    }
    Ok(())
}

/// A client's id and its new secret, shown once.
fn show_secret(issued: &IssuedClient, json: bool) {
    if json {
        let out = serde_json::json!({"client_id": issued.client.client_id, "client_secret": issued.secret});
        println!("{out}");
        return;
    }
    eprintln!(
        "OAuth client of tenant {}; the secret is shown once, store it now:",
        issued.client.tenant_name
    );
    println!("client_id:     {}", issued.client.client_id);
    println!("client_secret: {}", issued.secret);
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
    let entra = policy
        .entra_tenant
        .map(|t| format!("; accepts tokens of Entra tenant {t}"))
        .unwrap_or_default();
    format!(
        "matching {}; {roles}{required}{entra}; unknown attributes: {}",
        policy.matching.as_str(),
        policy.unknown_attributes.as_str()
    )
}
