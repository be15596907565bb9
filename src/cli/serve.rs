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
    let state = scimd::build_state(config).await?;
    let listener = TcpListener::bind(config.address.listen).await?;
    let address = listener.local_addr()?;
    if let Some(issued) = scimd::first_start(&state, config).await? {
        let base = config
            .address
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
    if config.address.public_url.is_none() {
        tracing::warn!(
            issuer = %config.address.root_url(),
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
