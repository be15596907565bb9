//! HTTPS on the main listener, and one connection served: rustls on the `ring` provider, TLS
//! 1.2 and 1.3 only (Microsoft Entra's provisioning service requires 1.2 or later), ALPN
//! `http/1.1` (the server speaks HTTP/1.1 only), the certificate from files re-read when they
//! change ([`files`]); on a TLS connection each request carries `Transport { tls: true }` (so
//! cookies are `Secure` and URLs `https://`) and each answer `Strict-Transport-Security`.
//! [`redirect`]: the plain listener that sends clients to HTTPS (and answers ACME's HTTP-01).

pub mod acme;
pub mod files;
pub mod redirect;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, header};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::Watcher;
use rustls::ServerConfig;
use tokio::net::TcpStream;
use tower::ServiceExt;

use crate::config::Tls;
use crate::http::client::Transport;

pub use tokio_rustls::TlsAcceptor;

/// What `Strict-Transport-Security` says on HTTPS answers: a year (RFC 6797 §6.1.1).
const HSTS: &str = "max-age=31536000";

/// The acceptor of the main listener as `settings` describe it (`data_dir`: SCIMD_DATA_DIR,
/// beside which ACME keeps its files), and the ACME client to run when ACME provides the
/// certificate: `None` for plain HTTP. An error names the setting and the file at fault.
pub fn acceptor(
    settings: &Tls,
    data_dir: Option<&std::path::Path>,
) -> Result<Option<(TlsAcceptor, Option<acme::Acme>)>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    if let Some(acme_settings) = settings.acme(data_dir) {
        if acme_settings.challenge == acme::challenge::Choice::Http01
            && !acme_settings.http_listener
        {
            return Err(
                "SCIMD_ACME_CHALLENGE=http-01 is answered on the plain listener: it needs \
                 SCIMD_HTTP_REDIRECT_LISTEN"
                    .into(),
            );
        }
        let client = acme::Acme::new(acme_settings, Arc::clone(&provider))?;
        let mut config = server_config(provider, client.resolver())?;
        config.alpn_protocols.push(acme::ACME_TLS_ALPN.to_vec());
        return Ok(Some((TlsAcceptor::from(Arc::new(config)), Some(client))));
    }
    let (Some(cert), Some(key)) = (&settings.tls_cert, &settings.tls_key) else {
        if settings.http_redirect_listen.is_some() {
            return Err(
                "SCIMD_HTTP_REDIRECT_LISTEN redirects to HTTPS: it needs SCIMD_TLS_CERT or \
                 SCIMD_ACME_DOMAINS"
                    .into(),
            );
        }
        return Ok(None);
    };
    let resolver = files::FileCert::load(cert, key, Arc::clone(&provider))?;
    Ok(Some((
        TlsAcceptor::from(Arc::new(server_config(provider, Arc::new(resolver))?)),
        None,
    )))
}

/// The server's TLS: versions 1.2 and 1.3, the provider's cipher suites (ECDHE with AES-GCM or
/// ChaCha20-Poly1305), the certificate `resolver` picks, ALPN `http/1.1`.
fn server_config(
    provider: Arc<rustls::crypto::CryptoProvider>,
    resolver: Arc<dyn rustls::server::ResolvesServerCert>,
) -> Result<ServerConfig, String> {
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS cannot be set up: {e}"))?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Serves one accepted connection with `router`, after a TLS handshake when `tls` is given (a
/// client that does not finish it within `handshake_timeout` is dropped). `watcher` holds
/// graceful shutdown until the connection is done.
pub async fn serve_connection(
    stream: TcpStream,
    tls: Option<TlsAcceptor>,
    handshake_timeout: Duration,
    http: hyper::server::conn::http1::Builder,
    router: axum::Router,
    watcher: Watcher,
) {
    // the peer's address rides on each request (the sign-in throttle counts per address)
    let peer = stream.peer_addr().ok();
    let Some(acceptor) = tls else {
        return serve_http(TokioIo::new(stream), peer, false, http, router, watcher).await;
    };
    match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
        // a validation server's TLS-ALPN-01 check ends with the handshake (RFC 8737 §3)
        Ok(Ok(stream)) if stream.get_ref().1.alpn_protocol() == Some(acme::ACME_TLS_ALPN) => {}
        Ok(Ok(stream)) => serve_http(TokioIo::new(stream), peer, true, http, router, watcher).await,
        Ok(Err(e)) => tracing::debug!(error = %e, ?peer, "TLS handshake failed"),
        Err(_) => tracing::debug!(?peer, "TLS handshake not finished in time"),
    }
}

/// HTTP/1.1 on `io`: each request told its peer and whether it came over TLS.
async fn serve_http<I>(
    io: I,
    peer: Option<SocketAddr>,
    tls: bool,
    http: hyper::server::conn::http1::Builder,
    router: axum::Router,
    watcher: Watcher,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = router
        .map_request(move |req: axum::http::Request<hyper::body::Incoming>| {
            let mut req = req.map(axum::body::Body::new);
            if let Some(peer) = peer {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
            }
            req.extensions_mut().insert(Transport { tls });
            req
        })
        .map_response(move |mut res: axum::response::Response| {
            if tls {
                res.headers_mut()
                    .entry(header::STRICT_TRANSPORT_SECURITY)
                    .or_insert(HeaderValue::from_static(HSTS));
            }
            res
        });
    let connection =
        http.serve_connection(io, hyper_util::service::TowerToHyperService::new(service));
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!(error = %e, "connection closed with an error");
    }
}
