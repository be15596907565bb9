//! The admins and clients behind the Authorize button, as `scimd admin` and `scimd
//! oauth-client` change them: rights, passwords, removal, secret rotation, and what each
//! change does to the next sign-in or token request.

use base64::Engine;

use super::{ENTRA, OAuthApp, PASSWORD, assert_oauth_error, token_request};
use crate::support::Backend;

async fn team_admin_rights_and_passwords_take_effect_at_the_next_sign_in(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let dir = &oauth.app.state.directory;
    assert_eq!(oauth.sign_in("", "bob", PASSWORD).await.status, 401);
    let bob = dir.set_team_admin("default", "BOB", true).await.unwrap();
    assert!(bob.team_admin);
    assert_eq!(oauth.sign_in("", "bob", PASSWORD).await.status, 303);

    dir.set_admin_password("default", "bob", "another long password")
        .await
        .unwrap();
    assert_eq!(oauth.sign_in("", "bob", PASSWORD).await.status, 401);
    assert_eq!(
        oauth
            .sign_in("", "bob", "another long password")
            .await
            .status,
        303
    );

    dir.remove_admin("default", "bob").await.unwrap();
    assert_eq!(
        oauth
            .sign_in("", "bob", "another long password")
            .await
            .status,
        401
    );
    let admins: Vec<(String, bool)> = dir
        .admins("default")
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.username, a.team_admin))
        .collect();
    assert_eq!(admins, [("alice".to_owned(), true)]);
}

async fn admins_are_refused_a_taken_name_a_short_password_or_an_unknown_tenant(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let dir = &oauth.app.state.directory;
    let taken = dir
        .add_admin("default", "Alice", PASSWORD, false)
        .await
        .unwrap_err();
    assert_eq!(
        taken.to_string(),
        "the tenant already has an admin called 'Alice'"
    );
    let short = dir
        .add_admin("default", "carol", "short", true)
        .await
        .unwrap_err();
    assert_eq!(short.to_string(), "password: use at least 12 characters");
    let nowhere = dir
        .add_admin("nowhere", "carol", PASSWORD, true)
        .await
        .unwrap_err();
    assert_eq!(nowhere.to_string(), "no tenant called 'nowhere'");
    let missing = dir
        .set_team_admin("default", "zed", true)
        .await
        .unwrap_err();
    assert_eq!(missing.to_string(), "no admin called 'zed' in this tenant");
}

async fn a_rotated_secret_replaces_the_old_one_at_once(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let dir = &oauth.app.state.directory;
    let rotated = dir.rotate_client_secret(&oauth.client_id).await.unwrap();
    assert_ne!(rotated.secret, oauth.secret);
    let old = oauth.token(&[("grant_type", "client_credentials")]).await;
    assert_oauth_error(&old, 401, "invalid_client");
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", oauth.client_id, rotated.secret));
    let new = token_request(
        &oauth.app,
        &[("grant_type", "client_credentials")],
        Some(&basic),
    )
    .await;
    assert_eq!(new.status, 200, "{}", new.body);
}

async fn clients_are_listed_per_tenant_and_need_https_redirect_uris(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let dir = &oauth.app.state.directory;
    let listed = dir.clients("default").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].client_id, oauth.client_id);
    assert_eq!(listed[0].redirect_uris, [ENTRA]);
    assert_eq!(listed[0].tenant_name, "default");
    dir.create_tenant("other").await.unwrap();
    assert!(dir.clients("other").await.unwrap().is_empty());
    let plain = dir
        .add_client("default", &["http://example.com/cb".to_owned()])
        .await
        .unwrap_err();
    assert_eq!(
        plain.to_string(),
        "redirect URI 'http://example.com/cb': use https (http only on a loopback address)"
    );
    let unknown = dir.remove_client("scimd-nope").await.unwrap_err();
    assert_eq!(
        unknown.to_string(),
        "no OAuth client with client_id 'scimd-nope'"
    );
}

crate::on_both_stores!(
    team_admin_rights_and_passwords_take_effect_at_the_next_sign_in,
    admins_are_refused_a_taken_name_a_short_password_or_an_unknown_tenant,
    a_rotated_secret_replaces_the_old_one_at_once,
    clients_are_listed_per_tenant_and_need_https_redirect_uris,
);
