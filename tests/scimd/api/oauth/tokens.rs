//! The token endpoint's grants and what the SCIM API answers to their tokens: the code
//! exchange, rotating refresh tokens, client credentials, and 401s that say why.

use base64::Engine;

use super::{ENTRA, OAuthApp, assert_oauth_error, token_request};
use crate::support::{Backend, execute_sql};

async fn entra_exchanges_the_code_for_tokens_that_open_the_scim_api(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let code = oauth.code("").await;
    let answer = oauth
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", ENTRA),
        ])
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(answer.header("pragma"), Some("no-cache"));
    let body = answer.body.as_object().unwrap();
    let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["access_token", "expires_in", "refresh_token", "token_type"]
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let access = body["access_token"].as_str().unwrap();
    assert!(access.starts_with("scimd_"));
    assert!(
        body["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("scimd_rt_")
    );
    let probe = oauth.probe(access).await;
    assert_eq!(probe.status, 200, "{}", probe.body);
    assert_eq!(probe.body["totalResults"], 0);
    let listed = oauth.app.state.directory.tokens("default").await.unwrap();
    assert!(
        listed.iter().all(|t| t.label.as_deref() != Some("oauth")),
        "token list shows static tokens only"
    );
}

async fn a_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let (access, refresh) = oauth.authorized().await;
    let answer = oauth
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let next_access = answer.body["access_token"].as_str().unwrap().to_owned();
    let next_refresh = answer.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(next_refresh, refresh);
    assert_eq!(oauth.probe(&next_access).await.status, 200);

    let reused = oauth
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    let why = assert_oauth_error(&reused, 400, "invalid_grant");
    assert!(why.contains("already used"), "{why}");
    for token in [&access, &next_access] {
        let detail = oauth.probe(token).await.assert_scim_error(401, None);
        assert!(detail.contains("revoked"), "{detail}");
    }
    let after = oauth
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &next_refresh),
        ])
        .await;
    assert_oauth_error(&after, 400, "invalid_grant");
}

async fn a_code_works_once_and_a_second_exchange_revokes_what_it_gave(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let code = oauth.code("").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", ENTRA),
    ];
    let first = oauth.token(&form).await;
    assert_eq!(first.status, 200);
    let access = first.body["access_token"].as_str().unwrap().to_owned();
    let second = oauth.token(&form).await;
    let why = assert_oauth_error(&second, 400, "invalid_grant");
    assert!(why.contains("already used"), "{why}");
    oauth.probe(&access).await.assert_scim_error(401, None);
}

async fn an_expired_code_or_another_redirect_uri_is_refused(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let code = oauth.code("").await;
    let other = oauth
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://evil.example/cb"),
        ])
        .await;
    assert!(assert_oauth_error(&other, 400, "invalid_grant").contains("redirect_uri"));
    let code = oauth.code("").await;
    let past = match backend {
        Backend::Postgres => "now() - interval '1 minute'",
        Backend::Sqlite => "0",
    };
    execute_sql(
        &oauth.app.db,
        &[format!("update oauth_codes set expires_at = {past}")],
    )
    .await;
    let expired = oauth
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", ENTRA),
        ])
        .await;
    assert!(assert_oauth_error(&expired, 400, "invalid_grant").contains("expired"));
}

async fn pkce_binds_the_code_to_its_verifier(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    // RFC 7636 Appendix B
    let challenge =
        "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let code = oauth.code(challenge).await;
    let wrong = oauth
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", ENTRA),
            ("code_verifier", &verifier.replace('k', "K")),
        ])
        .await;
    assert!(assert_oauth_error(&wrong, 400, "invalid_grant").contains("code_verifier"));
    let code = oauth.code(challenge).await;
    let right = oauth
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", ENTRA),
            ("code_verifier", verifier),
        ])
        .await;
    assert_eq!(right.status, 200, "{}", right.body);
}

async fn client_credentials_by_basic_or_post_give_an_access_token_without_refresh(
    backend: Backend,
) {
    let oauth = OAuthApp::new(backend).await;
    let basic = oauth.token(&[("grant_type", "client_credentials")]).await;
    let post = token_request(
        &oauth.app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &oauth.client_id),
            ("client_secret", &oauth.secret),
        ],
        None,
    )
    .await;
    for answer in [basic, post] {
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.body["expires_in"], 3600);
        assert_eq!(answer.body.get("refresh_token"), None);
        let probe = oauth
            .probe(answer.body["access_token"].as_str().unwrap())
            .await;
        assert_eq!(probe.status, 200);
    }
}

async fn a_wrong_secret_is_invalid_client_with_www_authenticate(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let wrong = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:scimd_cs_wrong", oauth.client_id));
    for basic in [Some(wrong.as_str()), None] {
        let answer =
            token_request(&oauth.app, &[("grant_type", "client_credentials")], basic).await;
        assert_oauth_error(&answer, 401, "invalid_client");
        assert_eq!(
            answer.header("www-authenticate"),
            Some("Basic realm=\"scimd\"")
        );
    }
}

async fn malformed_token_requests_get_the_rfc_6749_error_that_says_why(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let password = oauth
        .token(&[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "x"),
        ])
        .await;
    assert!(assert_oauth_error(&password, 400, "unsupported_grant_type").contains("not offered"));
    let missing = oauth.token(&[]).await;
    assert_oauth_error(&missing, 400, "invalid_request");
    let twice = token_request(
        &oauth.app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &oauth.client_id),
            ("client_secret", &oauth.secret),
        ],
        Some(
            &base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", oauth.client_id, oauth.secret)),
        ),
    )
    .await;
    assert_oauth_error(&twice, 400, "invalid_request");
    let json = oauth
        .app
        .send(
            axum::http::Request::post("/oauth/token")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(
                    "{\"grant_type\":\"client_credentials\"}",
                ))
                .unwrap(),
        )
        .await;
    assert!(assert_oauth_error(&json, 400, "invalid_request").contains("x-www-form-urlencoded"));
}

async fn an_expired_revoked_or_unknown_token_gets_401_saying_which(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let answer = oauth.token(&[("grant_type", "client_credentials")]).await;
    let access = answer.body["access_token"].as_str().unwrap().to_owned();
    let past = match backend {
        Backend::Postgres => "now() - interval '1 second'",
        Backend::Sqlite => "0",
    };
    execute_sql(
        &oauth.app.db,
        &[format!(
            "update tokens set expires_at = {past} where client_id is not null"
        )],
    )
    .await;
    let expired = oauth.probe(&access).await.assert_scim_error(401, None);
    assert!(
        expired.contains("the access token has expired"),
        "{expired}"
    );
    let unknown = oauth.probe("scimd_0000").await.assert_scim_error(401, None);
    assert!(unknown.contains("unknown"), "{unknown}");
    let dir = &oauth.app.state.directory;
    let issued = dir.issue_token("default", Some("ops")).await.unwrap();
    dir.revoke_token(issued.info.id).await.unwrap();
    let revoked = oauth
        .probe(&issued.token)
        .await
        .assert_scim_error(401, None);
    assert!(revoked.contains("revoked"), "{revoked}");
}

async fn removing_a_client_refuses_its_tokens_at_once(backend: Backend) {
    let oauth = OAuthApp::new(backend).await;
    let (access, _) = oauth.authorized().await;
    assert_eq!(oauth.probe(&access).await.status, 200);
    oauth
        .app
        .state
        .directory
        .remove_client(&oauth.client_id)
        .await
        .unwrap();
    oauth.probe(&access).await.assert_scim_error(401, None);
    let answer = oauth.token(&[("grant_type", "client_credentials")]).await;
    assert_oauth_error(&answer, 401, "invalid_client");
}

crate::on_both_stores!(
    entra_exchanges_the_code_for_tokens_that_open_the_scim_api,
    a_refresh_rotates_and_a_reused_refresh_token_revokes_the_family,
    a_code_works_once_and_a_second_exchange_revokes_what_it_gave,
    an_expired_code_or_another_redirect_uri_is_refused,
    pkce_binds_the_code_to_its_verifier,
    client_credentials_by_basic_or_post_give_an_access_token_without_refresh,
    a_wrong_secret_is_invalid_client_with_www_authenticate,
    malformed_token_requests_get_the_rfc_6749_error_that_says_why,
    an_expired_revoked_or_unknown_token_gets_401_saying_which,
    removing_a_client_refuses_its_tokens_at_once,
);
