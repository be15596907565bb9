//! Authorization codes: `put_code` and `take_code`, single-use whatever the race: a code is
//! taken with its grant once, a second use is reported as such (the caller revokes its
//! family), and of two exchanges at once exactly one is the first use.

use uuid::Uuid;

use scimd::domain::oauth::CodeGrant;
use scimd::store::OAuthStore;

use super::super::{all_at_once, at};
use super::OAuth;
use crate::support::Backend;

/// A code of `entra` for `ada`, bound to a redirect URI and a PKCE challenge, expiring at
/// `at(600)`.
fn code_grant(o: &OAuth) -> CodeGrant {
    CodeGrant {
        client: o.client.id,
        tenant: o.f.tenant.id,
        admin: o.ada.id,
        redirect_uri: Some("https://portal.azure.com/TokenAuthorize".into()),
        challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        challenge_method: Some("S256".into()),
        family: Uuid::new_v4(),
        expires: at(600),
    }
}

async fn a_code_is_taken_with_its_grant_once_and_a_second_use_is_reported(backend: Backend) {
    let o = OAuth::new(backend).await;
    let store = &o.f.store;
    let grant = code_grant(&o);
    let bare = CodeGrant {
        redirect_uri: None,
        challenge: None,
        challenge_method: None,
        family: Uuid::new_v4(),
        ..grant.clone()
    };
    store.put_code(b"code-1", &grant).await.unwrap();
    store.put_code(b"code-2", &bare).await.unwrap();
    assert_eq!(
        store.take_code(b"code-1", at(1)).await.unwrap(),
        Some((grant.clone(), true))
    );
    for now in [at(2), at(1)] {
        assert_eq!(
            store.take_code(b"code-1", now).await.unwrap(),
            Some((grant.clone(), false))
        );
    }
    // the other code is still unused; unknown codes are none
    assert_eq!(
        store.take_code(b"code-2", at(3)).await.unwrap(),
        Some((bare.clone(), true))
    );
    assert_eq!(store.take_code(b"code-3", at(3)).await.unwrap(), None);
}

/// Whether a code has expired is the caller's to judge: `take_code` uses it up all the same.
async fn an_expired_code_is_taken_with_its_expiry_for_the_caller_to_judge(backend: Backend) {
    let o = OAuth::new(backend).await;
    let store = &o.f.store;
    let grant = code_grant(&o);
    store.put_code(b"late", &grant).await.unwrap();
    let late = at(601);
    assert_eq!(
        store.take_code(b"late", late).await.unwrap(),
        Some((grant.clone(), true))
    );
    assert_eq!(
        store.take_code(b"late", late).await.unwrap(),
        Some((grant, false))
    );
}

/// Two exchanges of one code at once: the database decides, and exactly one of them is its
/// first use.
async fn exchanges_of_one_code_at_once_make_exactly_one_first_use(backend: Backend) {
    let o = OAuth::new(backend).await;
    let grant = code_grant(&o);
    for n in [2, 8] {
        let code = format!("raced-{n}");
        o.f.store.put_code(code.as_bytes(), &grant).await.unwrap();
        let taken = all_at_once(n, |_| {
            let (store, code) = (o.f.store.clone(), code.clone());
            async move { store.take_code(code.as_bytes(), at(1)).await.unwrap() }
        })
        .await;
        let firsts = taken
            .iter()
            .filter(|t| matches!(t, Some((_, true))))
            .count();
        assert_eq!(firsts, 1, "{taken:?}");
        assert!(
            taken
                .iter()
                .all(|t| t.as_ref().map(|(g, _)| g) == Some(&grant)),
            "{taken:?}"
        );
        assert_eq!(
            o.f.store.take_code(code.as_bytes(), at(2)).await.unwrap(),
            Some((grant.clone(), false))
        );
    }
}

crate::on_both_stores!(
    a_code_is_taken_with_its_grant_once_and_a_second_use_is_reported,
    an_expired_code_is_taken_with_its_expiry_for_the_caller_to_judge,
    exchanges_of_one_code_at_once_make_exactly_one_first_use,
);
