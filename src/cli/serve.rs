//! `scimd serve`: the SCIM server, with every setting; the command `scimd` runs when none is
//! named.

use clap::Args;
use tokio::net::TcpListener;

use scimd::StartError;
use scimd::config::Config;

#[derive(Debug, Args)]
#[command(
    after_help = "Durations: a whole number with s, m, h or d (90s, 10m, 12h, 30d); a bare \
                        number is seconds."
)]
pub struct Serve {
    // boxed: the server's settings are most of the size of every command
    #[command(flatten)]
    config: Box<Config>,
}

impl Serve {
    pub async fn run(self) -> Result<(), StartError> {
        serve(&self.config).await
    }
}

/// Serves until SIGINT or SIGTERM; on a first start, prints the connection details once.
async fn serve(config: &Config) -> Result<(), StartError> {
    // the recorder before anything counts: a count made before it is installed is lost (the
    // ACME client's first failure, with the directory down at start, came before the router)
    scimd::meter::handle();
    // the certificate first: a wrong file is reported before the database is touched
    let tls = scimd::tls::acceptor(&config.tls, config.database.data_dir.as_deref())
        .map_err(StartError::Config)?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let (acceptor, acme) = tls.map_or((None, None), |(a, acme)| (Some(a), acme));
    let state = scimd::build_state(config).await?;
    if let Some(acme) = &acme {
        // the only setter: it cannot be set already
        let _ = state.acme.set(acme.resolver());
    }
    let listener = TcpListener::bind(config.address.listen).await?;
    let address = listener.local_addr()?;
    if let Some(issued) = scimd::first_start(&state, config).await? {
        let base = config
            .address
            .public_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{address}"));
        let base = base.trim_end_matches('/');
        // the newcomer's first click: the guided page, for the tenant just made
        let link = state
            .directory
            .create_setup_link(scimd::service::BOOTSTRAP_TENANT, None, base)
            .await?;
        println!(
            "\nscimd is ready for Microsoft Entra ID (this is shown once):\n\n  \
             Tenant URL:    {base}/scim/v2\n  Secret Token:  {}\n  Setup link:    {}\n\n\
             Open the setup link (valid until {}) to be walked through connecting Microsoft Entra ID,\n\
             Okta or another identity provider, step by step, with each step checked as it happens.\n\
             Tenant 'default' was created with this token; `scimd token issue --tenant default` makes another.\n\
             The console is at {base}/admin: `scimd admin add --tenant default --username <you> --team-admin`\n\
             makes an account to sign in with.\n",
            issued.token,
            link.url,
            scimd::service::setup::expires_text(link.link.expires),
        );
    }
    if config.address.public_url.is_none() {
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
    if let Some(plain) = config.tls.http_redirect_listen {
        let listener = TcpListener::bind(plain).await?;
        let plain = listener.local_addr()?;
        let app = scimd::tls::redirect::app(
            address.port(),
            config.address.public_url.clone(),
            acme.as_ref().map(|acme| acme.resolver()),
        );
        tracing::info!(address = %plain, "plain HTTP answered with redirects to HTTPS");
        // before the `listening on` line, so that whoever waits for that line knows both
        println!("redirecting http://{plain} to https");
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    if let Some(acme) = acme {
        tokio::spawn(acme.run());
    }
    tracing::info!(%address, "scimd listening; SCIM base path /scim/v2");
    // One line on stdout once the socket is bound, so that scripts and tests that start
    // scimd on port 0 learn the address and know it accepts connections.
    println!("listening on {scheme}://{address}");
    scimd::serve_tls(listener, acceptor, state, scimd::shutdown_signal()).await?;
    Ok(())
}
