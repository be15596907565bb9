//! OAuth clients a team admin adds in the console: a redirect URI that passes is registered
//! with its secret shown once; one whose user-info hides its host, with a fragment or on http
//! off the loopback is refused with the reason, and nothing is stored.

use super::console::Console;
use crate::api::oauth::text;
use crate::support::Backend;

async fn a_client_is_added_in_the_console_only_with_a_redirect_uri_that_passes(backend: Backend) {
    let c = Console::new(backend).await;
    let alice = c.browser("default", "alice").await;
    let dir = &c.app.state.directory;
    let user_info = "user-info (a name or password before '@') is not allowed: it hides the \
                     host, which here is";
    for (uri, says) in [
        (
            "http://localhost:1@evil.example/cb",
            format!(
                "redirect URI 'http://localhost:***@evil.example/cb': {user_info} 'evil.example'"
            ),
        ),
        (
            "https://admin:s3cret@app.example.com/cb",
            format!(
                "redirect URI 'https://admin:***@app.example.com/cb': {user_info} \
                 'app.example.com'"
            ),
        ),
        (
            "http://localhost/cb#x",
            "redirect URI 'http://localhost/cb#x': a fragment is not allowed".to_owned(),
        ),
        (
            "http://127.0.0.1.evil.example/cb",
            "redirect URI 'http://127.0.0.1.evil.example/cb': use https (http only on a \
             loopback address)"
                .to_owned(),
        ),
    ] {
        let refused = c
            .post(
                &alice,
                "/admin/clients",
                &[("csrf", &alice.csrf), ("redirect_uri", uri)],
            )
            .await;
        assert_eq!(refused.status, 400, "{uri}");
        let page = text(&refused);
        assert!(page.contains(&says), "{uri}: {page}");
        assert!(!page.contains("s3cret"), "no password shown back");
        assert!(!page.contains("Client secret"), "{uri}: no secret issued");
    }
    assert!(dir.clients("default").await.unwrap().is_empty());

    let added = c
        .post(
            &alice,
            "/admin/clients",
            &[
                ("csrf", &alice.csrf),
                ("redirect_uri", "http://[::1]:8080/cb"),
            ],
        )
        .await;
    assert_eq!(added.status, 200);
    assert!(text(&added).contains("Client secret"));
    let clients = dir.clients("default").await.unwrap();
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].redirect_uris, ["http://[::1]:8080/cb"]);
}

crate::on_both_stores!(a_client_is_added_in_the_console_only_with_a_redirect_uri_that_passes);
