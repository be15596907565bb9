//! instant-acme's HTTP client: its requests sent with scimd's reqwest, which trusts
//! `SCIMD_ACME_CA_FILE` as well as the usual roots.

use std::future::Future;
use std::pin::Pin;

use axum::body::Bytes;
use instant_acme::{BodyWrapper, BytesResponse, HttpClient};

/// instant-acme's requests sent with reqwest (already in the build, and trusting
/// `SCIMD_ACME_CA_FILE`).
pub(super) struct Http(pub(super) reqwest::Client);

impl HttpClient for Http {
    fn request(
        &self,
        req: axum::http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let client = self.0.clone();
        Box::pin(async move {
            let other = |e: Box<dyn std::error::Error + Send + Sync>| instant_acme::Error::Other(e);
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(axum::body::Body::new(body), 1024 * 1024)
                .await
                .map_err(|e| other(Box::new(e)))?;
            let req = reqwest::Request::try_from(axum::http::Request::from_parts(parts, body))
                .map_err(|e| other(Box::new(e)))?;
            let rsp = client.execute(req).await.map_err(|e| other(Box::new(e)))?;
            let mut head = axum::http::Response::builder().status(rsp.status());
            if let Some(headers) = head.headers_mut() {
                *headers = rsp.headers().clone();
            }
            let (parts, ()) = head
                .body(())
                .map_err(instant_acme::Error::Http)?
                .into_parts();
            let body = rsp.bytes().await.map_err(|e| other(Box::new(e)))?;
            Ok(BytesResponse {
                parts,
                body: Box::new(body),
            })
        })
    }
}
