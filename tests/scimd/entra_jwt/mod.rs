//! Entra-issued bearer JWTs (`scimd::service::entra_jwt`): which tokens are accepted for a
//! trusted Entra tenant and why the others are refused, against a local key server
//! (`support::jwks`). No database. The fetching and caching of keys: `keys`.

mod keys;

use clap::Parser;
use scimd::service::entra_jwt::{
    CUSTOM_APP_AUDIENCE, DEFAULT_METADATA_URL, EntraClaims, EntraKeys, EntraSetupError, JwtRefusal,
    LEGACY_GRAPH_AUDIENCE, PROVISIONING_APP_ID,
};
use serde_json::{Value, json};
use uuid::{Uuid, uuid};

use crate::support::jwks::{KeyServer, TestKey, entra_claims, sign, sign_as};

/// The Entra tenant the scimd tenant trusts.
const TID: Uuid = uuid!("5b2c1ea0-7c62-4a1b-9d5e-3f1c2d4e5f60");
/// Another Entra tenant: its tokens carry the same audience and are signed with the same keys.
const OTHER_TID: Uuid = uuid!("0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a");

/// A key server publishing key A, and a verifier that fetches from it.
async fn setup() -> (KeyServer, EntraKeys) {
    let server = KeyServer::start(&[TestKey::A]).await;
    let keys = EntraKeys::new(&server.metadata_url()).unwrap();
    (server, keys)
}

/// The verdict on `claims` signed with key A, for the trusted tenant; a refusal never quotes
/// the token.
async fn verdict(keys: &EntraKeys, claims: &Value) -> Result<EntraClaims, JwtRefusal> {
    let token = sign(claims, TestKey::A);
    let verdict = keys.verify(&token, TID).await;
    if let Err(refusal) = &verdict {
        assert_no_token_in(refusal, &token);
    }
    verdict
}

#[track_caller]
fn assert_no_token_in(refusal: &JwtRefusal, token: &str) {
    let text = format!("{refusal} {refusal:?}");
    for part in token.split('.').filter(|p| p.len() > 8) {
        assert!(!text.contains(part), "{text}");
    }
}

/// `claims` with `changes` applied; a null removes the claim.
fn with(mut claims: Value, changes: Value) -> Value {
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn a_token_of_the_trusted_entra_tenant_is_accepted_with_its_claims() {
    let (server, keys) = setup().await;
    let claims = entra_claims(TID);

    let accepted = verdict(&keys, &claims).await.unwrap();

    let expires = chrono::DateTime::from_timestamp(claims["exp"].as_i64().unwrap(), 0).unwrap();
    assert_eq!(
        accepted,
        EntraClaims {
            tid: TID,
            app_id: PROVISIONING_APP_ID.to_owned(),
            expires,
            object_id: Some("6e3b3d0a-63b8-4a3b-9e63-0f0c0d1b0a9e".to_owned()),
            subject: Some("6e3b3d0a-63b8-4a3b-9e63-0f0c0d1b0a9e".to_owned()),
        }
    );
    assert_eq!((server.metadata_fetches(), server.key_fetches()), (1, 1));
}

#[tokio::test]
async fn a_token_issued_for_another_entra_tenant_is_refused() {
    let (_server, keys) = setup().await;
    let theirs = entra_claims(OTHER_TID);

    assert_eq!(verdict(&keys, &theirs).await, Err(JwtRefusal::OtherTenant));
    // The same token is good for the tenant it was issued for: only the pin refuses it.
    let token = sign(&theirs, TestKey::A);
    assert_eq!(keys.verify(&token, OTHER_TID).await.unwrap().tid, OTHER_TID);
    // The issuer is ours but `tid` is not.
    let mixed = with(entra_claims(TID), json!({"tid": OTHER_TID.to_string()}));
    assert_eq!(verdict(&keys, &mixed).await, Err(JwtRefusal::OtherTenant));
    // Another issuer of our tenant (v2 endpoint) is not the pinned one.
    let v2 = format!("https://login.microsoftonline.com/{TID}/v2.0");
    let v2 = with(entra_claims(TID), json!({ "iss": v2 }));
    assert_eq!(verdict(&keys, &v2).await, Err(JwtRefusal::OtherTenant));
    // No `tid` at all: the issuer alone decides.
    let no_tid = with(entra_claims(TID), json!({"tid": null}));
    assert!(verdict(&keys, &no_tid).await.is_ok());
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused_and_the_legacy_graph_audience_is_accepted() {
    let (_server, keys) = setup().await;
    let claims = entra_claims(TID);

    for aud in [
        json!("https://graph.microsoft.com"),
        json!("8adf8e6e-67b2-4cf2-a259-e3dc5476c622"),
        json!([]),
        json!(null),
    ] {
        let other = with(claims.clone(), json!({ "aud": aud }));
        assert_eq!(
            verdict(&keys, &other).await,
            Err(JwtRefusal::WrongAudience),
            "{aud}"
        );
    }
    for aud in [
        json!(LEGACY_GRAPH_AUDIENCE),
        json!(["https://graph.microsoft.com", CUSTOM_APP_AUDIENCE]),
        json!(CUSTOM_APP_AUDIENCE.to_uppercase()),
    ] {
        let ok = with(claims.clone(), json!({ "aud": aud }));
        assert!(verdict(&keys, &ok).await.is_ok(), "{aud}");
    }
}

#[tokio::test]
async fn an_expired_token_is_refused_beyond_a_minute_of_leeway() {
    let (_server, keys) = setup().await;
    let claims = entra_claims(TID);

    let expired = with(claims.clone(), json!({"exp": now() - 120}));
    assert_eq!(verdict(&keys, &expired).await, Err(JwtRefusal::Expired));
    let within_leeway = with(claims.clone(), json!({"exp": now() - 30}));
    assert!(verdict(&keys, &within_leeway).await.is_ok());
    let no_expiry = with(claims, json!({"exp": null}));
    let refusal = verdict(&keys, &no_expiry).await.unwrap_err();
    assert!(
        matches!(&refusal, JwtRefusal::Malformed(why) if why.contains("exp")),
        "{refusal}"
    );
}

#[tokio::test]
async fn a_token_not_valid_yet_is_refused_beyond_a_minute_of_leeway() {
    let (_server, keys) = setup().await;
    let claims = entra_claims(TID);

    let early = with(claims.clone(), json!({"nbf": now() + 120}));
    assert_eq!(verdict(&keys, &early).await, Err(JwtRefusal::NotYetValid));
    let within_leeway = with(claims, json!({"nbf": now() + 30}));
    assert!(verdict(&keys, &within_leeway).await.is_ok());
}

#[tokio::test]
async fn a_token_requested_by_another_application_than_entra_provisioning_is_refused() {
    let (_server, keys) = setup().await;
    let claims = entra_claims(TID);

    let refused = [
        json!({"appid": "00000003-0000-0000-c000-000000000000"}),
        json!({"appid": null}),
        json!({"appid": null, "azp": "00000003-0000-0000-c000-000000000000"}),
        // Both named, and one is not the provisioning service.
        json!({"azp": "00000003-0000-0000-c000-000000000000"}),
    ];
    for changes in refused {
        let other = with(claims.clone(), changes.clone());
        assert_eq!(
            verdict(&keys, &other).await,
            Err(JwtRefusal::WrongApp),
            "{changes}"
        );
    }
    // A v2 token names the application in `azp`.
    let v2 = with(claims, json!({"appid": null, "azp": PROVISIONING_APP_ID}));
    assert_eq!(
        verdict(&keys, &v2).await.unwrap().app_id,
        PROVISIONING_APP_ID
    );
}

#[tokio::test]
async fn a_tampered_token_is_refused_for_its_signature() {
    let (_server, keys) = setup().await;
    let ours = sign(&entra_claims(TID), TestKey::A);
    let parts: Vec<&str> = ours.split('.').collect();

    // Our claims swapped for another token's, the signature kept.
    let theirs = sign(&entra_claims(OTHER_TID), TestKey::A);
    let their_claims = theirs.split('.').nth(1).unwrap();
    let swapped = format!("{}.{their_claims}.{}", parts[0], parts[2]);
    // A character of the signature changed.
    let mut signature = parts[2].to_owned();
    let flipped = if signature.as_bytes()[10] == b'A' {
        "B"
    } else {
        "A"
    };
    signature.replace_range(10..11, flipped);
    let resigned = format!("{}.{}.{signature}", parts[0], parts[1]);
    // Signed with a key the tenant does not publish, under the kid of one it does.
    let forged = sign_as(&entra_claims(TID), TestKey::Rogue, TestKey::A.kid());

    for token in [swapped, resigned, forged] {
        let refusal = keys.verify(&token, TID).await.unwrap_err();
        assert_eq!(refusal, JwtRefusal::BadSignature);
        assert_no_token_in(&refusal, &token);
    }
}

#[tokio::test]
async fn what_is_not_an_rs256_jwt_is_refused_as_malformed_without_fetching_keys() {
    let (server, keys) = setup().await;
    let token = sign(&entra_claims(TID), TestKey::A);
    let claims_part = token.split('.').nth(1).unwrap();
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &entra_claims(TID),
        &jsonwebtoken::EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
    )
    .unwrap();

    let garbage = [
        String::new(),
        "scimd_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".to_owned(),
        "not a jwt".to_owned(),
        "a.b.c".to_owned(),
        format!("{token}.{claims_part}"),
        // {"alg":"none","typ":"JWT"}: unsigned
        format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{claims_part}."),
        // {"typ":"JWT"}: no algorithm
        format!(
            "eyJ0eXAiOiJKV1QifQ.{claims_part}.{}",
            token.split('.').nth(2).unwrap()
        ),
        hs256,
        "a".repeat(20_000),
    ];
    for bad in garbage {
        let refusal = keys.verify(&bad, TID).await.unwrap_err();
        assert!(
            matches!(refusal, JwtRefusal::Malformed(_)),
            "{bad}: {refusal:?}"
        );
        assert!(
            !refusal.to_string().contains(&bad) || bad.is_empty(),
            "{refusal}"
        );
    }
    // Tokens whose header names no key: an empty kid, and none ({"alg":"RS256","typ":"JWT"}).
    let empty_kid = sign_as(&entra_claims(TID), TestKey::A, "");
    let no_kid = empty_kid.replacen(
        empty_kid.split('.').next().unwrap(),
        "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9",
        1,
    );
    for token in [empty_kid, no_kid] {
        let refusal = keys.verify(&token, TID).await;
        let names_kid = matches!(&refusal, Err(JwtRefusal::Malformed(why)) if why.contains("kid"));
        assert!(names_kid, "{refusal:?}");
    }
    assert_eq!((server.metadata_fetches(), server.key_fetches()), (0, 0));
}

#[tokio::test]
async fn jwt_shaped_bearer_values_are_told_apart_from_scimd_tokens() {
    let token = sign(&entra_claims(TID), TestKey::A);

    assert!(EntraKeys::looks_like_jwt(&token));
    for not_jwt in [
        String::new(),
        "scimd_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".to_owned(),
        "test-token-0123456789abcdef".to_owned(),
        "a.b.c".to_owned(),
        format!("{token}."),
        format!("{token}.x"),
        token.replacen('.', "+.", 1),
        token.rsplit_once('.').unwrap().0.to_owned() + ".",
    ] {
        assert!(!EntraKeys::looks_like_jwt(&not_jwt), "{not_jwt}");
    }
}

#[tokio::test]
async fn the_claimed_tenant_is_read_without_verifying_from_tid_else_from_the_issuer() {
    let forged = sign(&entra_claims(TID), TestKey::Rogue);
    assert_eq!(EntraKeys::claimed_tenant(&forged), Some(TID));

    let tid_wins = with(entra_claims(TID), json!({"tid": OTHER_TID.to_string()}));
    assert_eq!(
        EntraKeys::claimed_tenant(&sign(&tid_wins, TestKey::A)),
        Some(OTHER_TID)
    );
    let v1 = with(entra_claims(TID), json!({"tid": null}));
    assert_eq!(EntraKeys::claimed_tenant(&sign(&v1, TestKey::A)), Some(TID));
    let v2 = json!({"tid": null, "iss": format!("https://login.microsoftonline.com/{TID}/v2.0")});
    let v2 = with(entra_claims(TID), v2);
    assert_eq!(EntraKeys::claimed_tenant(&sign(&v2, TestKey::A)), Some(TID));

    let elsewhere = json!({"tid": "contoso", "iss": "https://issuer.example/"});
    let elsewhere = with(entra_claims(TID), elsewhere);
    assert_eq!(
        EntraKeys::claimed_tenant(&sign(&elsewhere, TestKey::A)),
        None
    );
    assert_eq!(EntraKeys::claimed_tenant("a.b.c"), None);
    assert_eq!(EntraKeys::claimed_tenant(""), None);
}

#[tokio::test]
async fn the_metadata_url_must_be_http_and_name_the_tenant() {
    let common = "https://login.microsoftonline.com/common/.well-known/openid-configuration";
    assert!(matches!(
        EntraKeys::new(common),
        Err(EntraSetupError::NoTenantPlaceholder(_))
    ));
    assert!(matches!(
        EntraKeys::new("ftp://keys.example/{tenant}/metadata"),
        Err(EntraSetupError::InvalidUrl(..))
    ));
    assert!(EntraKeys::new(DEFAULT_METADATA_URL).is_ok());

    let parse = |args: &[&str]| {
        let mut all = vec!["scimd"];
        all.extend_from_slice(args);
        scimd::config::Config::try_parse_from(all).map(|config| config.entra_metadata_url)
    };
    assert_eq!(parse(&[]).unwrap(), DEFAULT_METADATA_URL);
    let local = "http://127.0.0.1:9/{tenant}/.well-known/openid-configuration";
    assert_eq!(parse(&["--entra-metadata-url", local]).unwrap(), local);
    let error = parse(&["--entra-metadata-url", common])
        .unwrap_err()
        .to_string();
    assert!(error.contains("{tenant}"), "{error}");
}

#[test]
fn one_verifier_serves_concurrent_requests() {
    fn shared<T: Send + Sync + std::fmt::Debug>(_: &T) {}
    fn sendable<F: std::future::Future + Send>(_: F) {}
    let keys = EntraKeys::new(DEFAULT_METADATA_URL).unwrap();
    shared(&keys);
    // An axum handler or middleware can await it.
    sendable(keys.verify("a.b.c", TID));
}

#[test]
fn every_refusal_says_what_to_check() {
    let refusals = [
        JwtRefusal::Malformed("it has no exp claim".into()),
        JwtRefusal::Expired,
        JwtRefusal::NotYetValid,
        JwtRefusal::OtherTenant,
        JwtRefusal::WrongAudience,
        JwtRefusal::WrongApp,
        JwtRefusal::UnknownKey,
        JwtRefusal::BadSignature,
        JwtRefusal::KeysUnavailable("http://127.0.0.1:9/x answered 503".into()),
    ];
    let texts: Vec<String> = refusals.iter().map(ToString::to_string).collect();
    for text in &texts {
        assert!(text.starts_with("the ") && text.len() > 60, "{text}");
    }
    assert!(texts[3].contains("another Entra tenant than the one this scimd tenant trusts"));
    assert!(texts[8].contains("answered 503") && texts[8].contains("SCIMD_ENTRA_METADATA_URL"));
    let distinct: std::collections::HashSet<&String> = texts.iter().collect();
    assert_eq!(distinct.len(), texts.len());
}
