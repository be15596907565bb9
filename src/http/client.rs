//! Who sent a request: the client's address and whether the request reached scimd over TLS.
//! They are the TCP peer's own unless the peer is one of `SCIMD_TRUSTED_PROXIES`; only then are
//! `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` believed. Anyone else's
//! forwarding headers are ignored, so a client can claim neither another address (to dodge the
//! sign-in throttle or to spend someone else's), nor TLS, nor a host name.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

/// The networks whose forwarding headers scimd believes (`SCIMD_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(networks)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A network in CIDR notation (`10.0.0.0/8`, `fd00::/8`) or one address (`10.1.2.3`).
pub fn network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    IpNet::from_str(text)
        .or_else(|_| IpAddr::from_str(text).map(IpNet::from))
        .map_err(|_| format!("'{text}' is neither an IP address nor a network such as 10.0.0.0/8"))
}

/// What scimd knows of the sender of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    /// The client's address: the peer's, or the one a trusted proxy reports.
    pub address: Option<IpAddr>,
    /// The request reached scimd, or the trusted proxy in front of it, over TLS.
    pub tls: bool,
    /// The host name a trusted proxy says the client asked for (`X-Forwarded-Host`).
    pub forwarded_host: Option<String>,
}

/// Whether the connection a request came on is TLS (set on the request by the listener).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transport {
    pub tls: bool,
}

impl Client {
    /// The client of a request from `peer` (on a TLS connection or not) with `headers`.
    pub fn identify(
        proxies: &TrustedProxies,
        peer: Option<IpAddr>,
        tls: bool,
        headers: &HeaderMap,
    ) -> Self {
        let peer = peer.map(canonical);
        let trusted = peer.is_some_and(|p| proxies.contains(p));
        if !trusted {
            return Client {
                address: peer,
                tls,
                forwarded_host: None,
            };
        }
        let header = |name: &str| {
            headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect::<Vec<_>>()
                .join(",")
        };
        Client {
            address: forwarded_for(proxies, &header("x-forwarded-for")).or(peer),
            tls: tls || first(&header("x-forwarded-proto")).eq_ignore_ascii_case("https"),
            forwarded_host: Some(first(&header("x-forwarded-host")).to_owned())
                .filter(|h| !h.is_empty() && h.len() <= 255),
        }
    }
}

/// The first value of a comma-separated header: what the proxy nearest the client set.
fn first(list: &str) -> &str {
    list.split(',').next().unwrap_or_default().trim()
}

/// The client's address in `X-Forwarded-For`: read from the right (each proxy appends the
/// address it received from), the first that is not itself a trusted proxy. Entries to its
/// left were written by the client and are not believed.
fn forwarded_for(proxies: &TrustedProxies, list: &str) -> Option<IpAddr> {
    let mut last = None;
    for entry in list.rsplit(',') {
        let ip = parse_entry(entry.trim())?;
        if !proxies.contains(ip) {
            return Some(ip);
        }
        last = Some(ip);
    }
    last
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:80`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = IpAddr::from_str(entry) {
        return Some(canonical(ip));
    }
    SocketAddr::from_str(entry).ok().map(|s| canonical(s.ip()))
}

/// An IPv4 address mapped into IPv6 (`::ffff:10.0.0.1`, as a dual-stack socket reports IPv4
/// peers) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Puts the request's [`Client`] on it, for the handlers, the throttle and the cookies.
pub async fn identify(
    State(proxies): State<TrustedProxies>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let tls = req.extensions().get::<Transport>().is_some_and(|t| t.tls);
    let client = Client::identify(&proxies, peer, tls, req.headers());
    req.extensions_mut().insert(client);
    next.run(req).await
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Client>()
            .cloned()
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|n| network(n).unwrap()).collect())
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarding_headers_are_ignored_unless_the_peer_is_a_trusted_proxy() {
        let forged = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil.example"),
        ]);
        let peer: IpAddr = "198.51.100.7".parse().unwrap();
        let client = Client::identify(&proxies(&["10.0.0.0/8"]), Some(peer), false, &forged);
        assert_eq!(
            client,
            Client {
                address: Some(peer),
                tls: false,
                forwarded_host: None
            }
        );
    }

    #[test]
    fn a_trusted_proxy_reports_the_client_the_rightmost_untrusted_address() {
        let list = proxies(&["10.0.0.0/8", "192.0.2.1"]);
        let sent = headers(&[
            ("x-forwarded-for", "6.6.6.6, 203.0.113.9:4711"),
            ("x-forwarded-for", "192.0.2.1"),
            ("x-forwarded-proto", "https,http"),
            ("x-forwarded-host", "scim.example.com"),
        ]);
        let client = Client::identify(&list, Some("10.1.2.3".parse().unwrap()), false, &sent);
        assert_eq!(client.address, Some("203.0.113.9".parse().unwrap()));
        assert!(client.tls);
        assert_eq!(client.forwarded_host.as_deref(), Some("scim.example.com"));
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        let via_v6 = Client::identify(&list, Some(mapped), false, &sent);
        assert_eq!(via_v6.address, client.address, "IPv4-mapped peers are IPv4");
    }

    #[test]
    fn a_malformed_or_missing_forwarded_for_leaves_the_peer() {
        let list = proxies(&["127.0.0.1"]);
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        for value in ["", "not-an-address", "203.0.113.9, junk"] {
            let client = Client::identify(
                &list,
                Some(peer),
                false,
                &headers(&[("x-forwarded-for", value)]),
            );
            assert_eq!(client.address, Some(peer), "{value:?}");
        }
        assert!(network("10.0.0.0/33").is_err());
        assert!(network("localhost").is_err());
        assert_eq!(network(" 10.0.0.1 ").unwrap().to_string(), "10.0.0.1/32");
    }
}
