//! The URLs scimd sends to — webhooks (`events`) — or sends browsers to with authorization
//! codes — OAuth redirect URIs (`admins`, `oauth`): one check for all, on the URL as the url
//! crate parses it. That is the WHATWG URL Standard, which reqwest and browsers follow, so the
//! host checked is the host called, whatever user-info, ports or odd spellings the text holds.

use std::net::Ipv6Addr;

use url::{Host, Url};

use super::Error;
use crate::scim;

/// Checks a URL that scimd sends requests or browsers to (`what` names it in errors).
///
/// Accepted: `https` with a host; `http` only on a loopback host, for local development and
/// tests — the name `localhost` (in any case: the url crate lowercases hosts, and DNS names are
/// case-insensitive, RFC 4343), an IPv4 address in 127.0.0.0/8 (in any spelling the URL
/// Standard reads as one, such as `127.1`), or `[::1]`. Not `localhost.` nor `*.localhost`,
/// which a resolver may hand to DNS, nor `0.0.0.0` or `[::ffff:127.0.0.1]`.
///
/// Refused, saying why: what is not an absolute URL; user-info (`name@` or `name:password@`
/// before the host), which hides the host from a reader — `http://localhost:1@evil.example/`
/// goes to evil.example — and puts credentials in a URL; a fragment (RFC 6749 §3.1.2); `http`
/// elsewhere, where redirects would carry codes in clear (RFC 9700 §2.1) and webhooks SETs;
/// any other scheme.
pub(super) fn https_or_loopback(what: &str, uri: &str) -> Result<(), Error> {
    let refuse = |shown: &str, why: &str| -> Error {
        scim::Error::invalid_value(format!("{what} '{shown}': {why}")).into()
    };
    let url = Url::parse(uri).map_err(|e| refuse(uri, &format!("not an absolute URL ({e})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        let host = url.host_str().unwrap_or_default();
        return Err(refuse(
            &without_password(&url, uri),
            &format!(
                "user-info (a name or password before '@') is not allowed: it hides the host, \
                 which here is '{host}'"
            ),
        ));
    }
    if url.fragment().is_some() {
        return Err(refuse(uri, "a fragment is not allowed"));
    }
    match (url.scheme(), url.host()) {
        ("https", Some(_)) => Ok(()),
        ("http", Some(host)) if is_loopback(&host) => Ok(()),
        ("http", _) => Err(refuse(uri, "use https (http only on a loopback address)")),
        _ => Err(refuse(uri, "use https")),
    }
}

/// `localhost`, 127.0.0.0/8 or `::1`, as the URL names the host.
fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => *name == "localhost",
        Host::Ipv4(address) => address.is_loopback(),
        Host::Ipv6(address) => *address == Ipv6Addr::LOCALHOST,
    }
}

/// `uri` for an error message: its password, if it has one, masked.
fn without_password(url: &Url, uri: &str) -> String {
    if url.password().is_none() {
        return uri.to_owned();
    }
    let mut masked = url.clone();
    match masked.set_password(Some("***")) {
        Ok(()) => masked.to_string(),
        Err(()) => String::from("(a URL with a password)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_https_or_http_on_loopback_without_user_info_or_fragment() {
        for accepted in [
            "https://portal.azure.com/TokenAuthorize",
            "https://app.example.com:8443/events?tenant=a",
            "http://localhost/cb",
            "http://LOCALHOST:8080/cb",
            "http://127.0.0.1:9999/cb",
            "http://127.1.2.3/events",
            "http://127.1/cb",
            "http://[::1]:8080/cb",
        ] {
            assert_eq!(
                https_or_loopback("URL", accepted).ok(),
                Some(()),
                "{accepted}"
            );
        }
        let plain = "use https (http only on a loopback address)";
        let user_info = "user-info (a name or password before '@') is not allowed: it hides \
                         the host, which here is";
        for (refused, why) in [
            ("http://localhost:1@evil.example/x", user_info),
            ("http://user:pw@localhost/", user_info),
            ("https://user@example.com/", user_info),
            ("http://127.0.0.1.evil.example/", plain),
            ("http://localhost./cb", plain),
            ("http://app.localhost/cb", plain),
            ("http://0.0.0.0/cb", plain),
            ("http://[::ffff:127.0.0.1]/cb", plain),
            ("http://example.com/cb", plain),
            ("http://localhost#x", "a fragment is not allowed"),
            ("https://example.com/cb#", "a fragment is not allowed"),
            ("ftp://example.com/", "use https"),
            ("file:///etc/passwd", "use https"),
            ("/relative", "not an absolute URL"),
            ("", "not an absolute URL"),
        ] {
            let refusal = https_or_loopback("URL", refused).unwrap_err().to_string();
            assert!(refusal.contains(why), "{refused}: {refusal}");
        }
    }

    #[test]
    fn a_refusal_names_the_host_user_info_hides_and_never_shows_a_password() {
        let refusal = |uri| {
            https_or_loopback("webhook URL", uri)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            refusal("http://localhost:1@evil.example/x"),
            "webhook URL 'http://localhost:***@evil.example/x': user-info (a name or password \
             before '@') is not allowed: it hides the host, which here is 'evil.example'"
        );
        assert_eq!(
            refusal("https://user@example.com/"),
            "webhook URL 'https://user@example.com/': user-info (a name or password before \
             '@') is not allowed: it hides the host, which here is 'example.com'"
        );
        assert!(!refusal("http://user:s3cret@localhost/").contains("s3cret"));
    }
}
