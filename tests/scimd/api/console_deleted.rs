//! The console's Deleted users page: a team admin chooses what Entra's delete does (delete, or
//! retain for a period, restoring on a create) and restores a retained user with its id; a form
//! without the session's CSRF token, a bad choice or period (NUL bytes, huge numbers), and an
//! unknown, malformed or other tenant's id are refused on a readable page and change nothing.

use scimd::domain::{Deprovisioning, OnDelete};
use serde_json::json;

use super::console::Console;
use crate::api::oauth::text;
use crate::support::Backend;

crate::on_both_stores!(
    a_team_admin_sets_the_deletion_rule_and_restores_a_retained_user_on_the_deleted_users_page,
    bad_rules_forged_forms_and_unknown_ids_are_refused_on_the_deleted_users_page_and_change_nothing,
);

async fn rule(c: &Console, tenant: &str) -> Deprovisioning {
    let dir = &c.app.state.directory;
    dir.tenant(tenant).await.unwrap().policy.deprovisioning
}

/// Creates and deletes a user of `default` through SCIM; its id.
async fn retained_user(c: &Console, name: &str) -> String {
    let created = c
        .app
        .post(
            "/scim/v2/Users",
            json!({"userName": name, "externalId": format!("x-{name}")}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let deleted = c.app.delete(&format!("/scim/v2/Users/{id}")).await;
    assert_eq!(deleted.status, 204);
    id
}

async fn a_team_admin_sets_the_deletion_rule_and_restores_a_retained_user_on_the_deleted_users_page(
    backend: Backend,
) {
    let c = Console::new(backend).await;
    let b = c.browser("default", "alice").await;
    let page = c.get(&b, "/admin/deleted").await;
    assert_eq!(page.status, 200);
    let page = text(&page);
    assert!(page.contains("<h1>Deleted users</h1>"), "{page}");
    assert!(page.contains("aria-current=\"page\">Deleted users</a>"));
    assert!(page.contains("value=\"delete\" checked"), "{page}");
    assert!(page.contains("value=\"30d\""), "{page}");
    assert!(page.contains("<p>None.</p>"));

    let form = [
        ("csrf", b.csrf.as_str()),
        ("on_delete", "retain"),
        ("retain_for", "7d"),
        ("restore_on_create", "on"),
    ];
    let saved = c.post(&b, "/admin/deleted", &form).await;
    assert_eq!(saved.status, 200, "{}", text(&saved));
    assert!(
        text(&saved).contains(
            "A user Entra deletes is retained for 7d, and restored with its id when Entra \
             creates it again."
        ),
        "{}",
        text(&saved)
    );
    assert_eq!(
        rule(&c, "default").await,
        Deprovisioning {
            on_delete: OnDelete::Retain,
            retain_for_secs: 7 * 86_400,
            restore_on_create: true
        }
    );

    let id = retained_user(&c, "ralf@contoso.com").await;
    let listed = text(&c.get(&b, "/admin/deleted").await);
    assert!(listed.contains("<td>ralf@contoso.com</td><td>x-ralf@contoso.com</td>"));
    let action = format!("action=\"/admin/deleted/{id}/restore\"");
    assert!(listed.contains(&action), "{listed}");
    let restored = c
        .post(
            &b,
            &format!("/admin/deleted/{id}/restore"),
            &[("csrf", &b.csrf)],
        )
        .await;
    assert_eq!(restored.status, 200, "{}", text(&restored));
    assert!(
        text(&restored).contains(&format!("ralf@contoso.com is restored, with its id {id}.")),
        "{}",
        text(&restored)
    );
    assert!(text(&restored).contains("<p>None.</p>"));
    let user = c.app.get(&format!("/scim/v2/Users/{id}")).await;
    assert_eq!(user.status, 200);
    assert_eq!(user.body["userName"], "ralf@contoso.com");

    // back to delete: the period and the restore are kept for a later retain
    let off = c
        .post(
            &b,
            "/admin/deleted",
            &[("csrf", &b.csrf), ("on_delete", "delete")],
        )
        .await;
    assert!(text(&off).contains("A user Entra deletes is deleted."));
    assert_eq!(rule(&c, "default").await.on_delete, OnDelete::Delete);
    assert_eq!(rule(&c, "default").await.retain_for_secs, 7 * 86_400);
}

async fn bad_rules_forged_forms_and_unknown_ids_are_refused_on_the_deleted_users_page_and_change_nothing(
    backend: Backend,
) {
    let c = Console::new(backend).await;
    let b = c.browser("default", "alice").await;
    let before = rule(&c, "default").await;

    let forged = c
        .post(
            &b,
            "/admin/deleted",
            &[("csrf", "not-the-token"), ("on_delete", "retain")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let huge = "9".repeat(50_000);
    let cases = [
        (
            "sometimes",
            "7d",
            "choose whether a deleted user is deleted or retained",
        ),
        (
            "retain\0",
            "7d",
            "choose whether a deleted user is deleted or retained",
        ),
        ("retain", "0", "is no time at all"),
        ("retain", "7 days", "is not a duration"),
        ("retain", "7d\0", "is not a duration"),
        ("retain", "36501d", "at most 36500d"),
        ("retain", huge.as_str(), "at most 36500d"),
    ];
    for (on_delete, period, says) in cases {
        let refused = c
            .post(
                &b,
                "/admin/deleted",
                &[
                    ("csrf", b.csrf.as_str()),
                    ("on_delete", on_delete),
                    ("retain_for", period),
                ],
            )
            .await;
        assert_eq!(refused.status, 400, "{period:.40}: {}", text(&refused));
        let page = text(&refused);
        assert!(
            page.contains("role=\"alert\"") && page.contains(says),
            "{period:.40}: {page:.3000}"
        );
        assert!(page.contains("<h1>Deleted users</h1>"));
        assert_eq!(rule(&c, "default").await, before, "nothing changed");
    }

    // an id of another tenant's retained user, an unknown one, a malformed one
    let dir = &c.app.state.directory;
    let retain = scimd::service::PolicyChange {
        on_delete: Some(OnDelete::Retain),
        ..Default::default()
    };
    dir.set_policy("other", &retain).await.unwrap();
    dir.set_policy("default", &retain).await.unwrap();
    let token = dir.issue_token("other", None).await.unwrap().token;
    let theirs = crate::support::send(
        &c.app.router,
        axum::http::Request::post("/scim/v2/Users")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/scim+json")
            .body(axum::body::Body::from(
                json!({"userName": "carol@other"}).to_string(),
            ))
            .unwrap(),
    )
    .await;
    let theirs = theirs.body["id"].as_str().unwrap().to_owned();
    let gone = crate::support::send(
        &c.app.router,
        axum::http::Request::delete(format!("/scim/v2/Users/{theirs}"))
            .header("authorization", format!("Bearer {token}"))
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(gone.status, 204);
    for id in [
        theirs.as_str(),
        "00000000-0000-0000-0000-000000000000",
        "not-a-uuid",
        "%00",
    ] {
        let refused = c
            .post(
                &b,
                &format!("/admin/deleted/{id}/restore"),
                &[("csrf", &b.csrf)],
            )
            .await;
        assert_eq!(refused.status, 404, "{id}: {}", text(&refused));
        assert!(
            text(&refused).contains("role=\"alert\""),
            "{}",
            text(&refused)
        );
    }
    let still = dir.retained_users("other", None, 10).await.unwrap();
    assert_eq!(still.len(), 1, "the other tenant's user stays retained");
    let forged = c
        .post(&b, &format!("/admin/deleted/{theirs}/restore"), &[])
        .await;
    assert_eq!(forged.status, 403);
}
