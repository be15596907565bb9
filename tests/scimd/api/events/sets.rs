//! What each change sends: one signed SET per committed create, replace, patch or delete, in
//! commit order, with the kinds and attributes of the change (a deactivating PATCH is one SET
//! with two events), the resource itself for a `full` subscription, only the kinds a
//! subscription asked for — and nothing for a request that was refused or rolled back.

use std::collections::HashSet;

use axum::http::Method;
use scimd::domain::events::Kinds;
use serde_json::{Value, json};

use super::{Events, WAIT, deactivation, prov, uris};
use crate::support::Backend;
use crate::support::receiver::{Receiver, eventually, set_header, try_verify};

/// `value` without its `meta`.
fn without_meta(value: &Value) -> Value {
    let mut value = value.clone();
    value.as_object_mut().unwrap().remove("meta");
    value
}

async fn a_users_create_deactivation_and_delete_arrive_as_signed_sets_in_order(backend: Backend) {
    let scimd = Events::start(backend).await;
    let (notices, full) = (Receiver::start().await, Receiver::start().await);
    let hook = scimd.subscribe(&notices, Kinds::ALL, false).await;
    let full_hook = scimd.subscribe(&full, Kinds::ALL, true).await;
    let started = chrono::Utc::now().timestamp();

    let (id, created) = scimd.create_user("alice@example.com").await;
    let user = format!("/scim/v2/Users/{id}");
    let disabled = scimd.patch(&user, deactivation(), None).await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(disabled.body["active"], false);
    let deleted = scimd.delete(&user).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let txns: Vec<String> = [&created, &disabled, &deleted]
        .iter()
        .map(|r| r.header("x-request-id").unwrap().to_owned())
        .collect();

    let got = notices.wait_for(3, WAIT).await;
    let full_got = full.wait_for(3, WAIT).await;
    let ended = chrono::Utc::now().timestamp();
    for r in got.iter().chain(&full_got) {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/events");
        assert_eq!(r.header("content-type"), Some("application/secevent+jwt"));
        assert_eq!(r.answered, Some(202));
    }
    let claims: Vec<Value> = got.iter().map(|r| r.claims(&hook.secret)).collect();
    for (r, c) in got.iter().zip(&claims) {
        let header = set_header(&r.body);
        assert_eq!(header["alg"], "HS256");
        assert_eq!(header["typ"], "secevent+jwt");
        assert_eq!(header["kid"], hook.id.as_str());
        assert!(
            try_verify(&r.body, &full_hook.secret).is_err(),
            "another subscription's secret must not verify it"
        );
        assert_eq!(c["iss"], "http://scimd.test");
        assert_eq!(c["aud"], notices.url().as_str());
        let iat = c["iat"].as_i64().unwrap();
        assert!((started..=ended).contains(&iat), "{c}");
        // the time of the event to the millisecond (a NumericDate may have a fraction)
        let toe = c["toe"].as_f64().unwrap();
        assert!(toe >= iat as f64 && toe < iat as f64 + 1.0, "{c}");
        let jti = c["jti"].as_str().unwrap();
        assert!(
            jti.len() == 32 && jti.bytes().all(|b| b.is_ascii_hexdigit()),
            "{jti}"
        );
        assert_eq!(
            c["sub_id"],
            json!({"format": "scim", "uri": format!("/Users/{id}"), "id": id,
                   "externalId": "ext-alice@example.com"})
        );
    }
    let txn: Vec<&str> = claims.iter().map(|c| c["txn"].as_str().unwrap()).collect();
    assert_eq!(txn, txns, "each SET names the request that made the change");
    let jtis: HashSet<&str> = claims.iter().map(|c| c["jti"].as_str().unwrap()).collect();
    assert_eq!(jtis.len(), 3, "a jti per event: {claims:?}");

    let create = &claims[0]["events"];
    assert_eq!(uris(&claims[0]), [prov("create:notice")]);
    assert_eq!(create[prov("create:notice")]["version"], "W/\"1\"");
    let attributes: Vec<&str> = create[prov("create:notice")]["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for attribute in [
        "id",
        "userName",
        "externalId",
        "active",
        "emails",
        "name",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    ] {
        assert!(
            attributes.contains(&attribute),
            "{attribute}: {attributes:?}"
        );
    }
    assert_eq!(
        uris(&claims[1]),
        [prov("patch:notice"), prov("deactivate")],
        "a deactivating PATCH is one SET with both events"
    );
    assert_eq!(
        claims[1]["events"],
        json!({prov("patch:notice"): {"attributes": ["active"], "version": "W/\"2\""},
               prov("deactivate"): {}})
    );
    assert_eq!(claims[2]["events"], json!({prov("delete"): {}}));

    // the outbox holds the three, in commit order
    let outbox = scimd.outbox().await;
    let kinds: Vec<Kinds> = outbox.iter().map(|e| e.kinds).collect();
    assert_eq!(
        kinds,
        [
            Kinds::CREATE,
            Kinds::PATCH.with(Kinds::DEACTIVATE),
            Kinds::DELETE
        ]
    );
    assert!(outbox.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(outbox.iter().all(|e| e.resource_id.to_string() == id));
    assert_eq!(
        outbox[..2].iter().map(|e| e.version).collect::<Vec<_>>(),
        [Some(1), Some(2)]
    );

    // the full subscription: the same events, with the user as SCIM shows it
    let full_claims: Vec<Value> = full_got
        .iter()
        .map(|r| r.claims(&full_hook.secret))
        .collect();
    for (c, notice) in full_claims.iter().zip(&claims) {
        assert_eq!(c["txn"], notice["txn"]);
        assert_eq!(c["sub_id"], notice["sub_id"]);
        assert_ne!(c["jti"], notice["jti"], "a jti per subscription");
        assert_eq!(c["aud"], full.url().as_str());
    }
    assert_eq!(uris(&full_claims[0]), [prov("create:full")]);
    let data = &full_claims[0]["events"][prov("create:full")]["data"];
    assert_eq!(
        full_claims[0]["events"][prov("create:full")]["version"],
        "W/\"1\""
    );
    assert_eq!(without_meta(data), without_meta(&created.body));
    assert_eq!(data["meta"]["resourceType"], "User");
    assert_eq!(data["meta"]["version"], "W/\"1\"");
    assert_eq!(
        data["meta"]["location"],
        format!("http://scimd.test/scim/v2/Users/{id}")
    );
    assert!(data["meta"].get("created").is_none(), "{data}");
    assert_eq!(
        uris(&full_claims[1]),
        [prov("patch:full"), prov("deactivate")]
    );
    let data = &full_claims[1]["events"][prov("patch:full")]["data"];
    assert_eq!(without_meta(data), without_meta(&disabled.body));
    assert_eq!(data["active"], false);
    assert_eq!(data["meta"]["version"], "W/\"2\"");
    assert_eq!(full_claims[2]["events"], json!({prov("delete"): {}}));

    for h in [&hook, &full_hook] {
        eventually(
            "both subscriptions record three deliveries",
            WAIT,
            async || {
                let s = scimd.webhook(h).await;
                s.delivered == 3 && s.backlog == 0
            },
        )
        .await;
        let s = scimd.webhook(h).await;
        assert_eq!((s.failed, s.last_error.as_deref()), (0, None));
        assert!(s.last_success.is_some());
    }
    assert_eq!(notices.received().len(), 3, "each SET once");
    assert_eq!(full.received().len(), 3, "each SET once");
}

async fn refused_and_rolled_back_requests_send_no_event(backend: Backend) {
    let scimd = Events::start(backend).await;
    let receiver = Receiver::start().await;
    let hook = scimd.subscribe(&receiver, Kinds::ALL, false).await;
    let (id, created) = scimd.create_user("bob@example.com").await;
    let user = format!("/scim/v2/Users/{id}");
    let group = scimd
        .post(
            "/scim/v2/Groups",
            json!({"displayName": "Team", "members": [{"value": id}]}),
        )
        .await;
    assert_eq!(group.status, 201, "{}", group.body);
    let gid = group.body["id"].as_str().unwrap().to_owned();
    let group_path = format!("/scim/v2/Groups/{gid}");

    // refused before anything is written
    let mut duplicate = created.body.clone();
    duplicate.as_object_mut().unwrap().remove("id");
    let dup = scimd.post("/scim/v2/Users", duplicate.clone()).await;
    dup.assert_scim_error(409, Some("uniqueness"));
    let bad = scimd
        .patch(
            &user,
            json!([{"op": "frobnicate", "path": "active", "value": false}]),
            None,
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let stale = Some("W/\"9\"");
    let put = scimd
        .send_json(Method::PUT, &user, Some(duplicate), stale)
        .await;
    put.assert_scim_error(412, None);
    let patch = scimd.patch(&user, deactivation(), stale).await;
    patch.assert_scim_error(412, None);
    let delete = scimd.send_json(Method::DELETE, &user, None, stale).await;
    delete.assert_scim_error(412, None);
    // rolled back: the members were removed in the transaction, then an add failed
    let missing = "2819c223-7f76-453a-919d-413861904646";
    let rolled = scimd
        .patch(
            &group_path,
            json!([
                {"op": "remove", "path": "members"},
                {"op": "add", "path": "members", "value": [{"value": missing}]}
            ]),
            None,
        )
        .await;
    rolled.assert_scim_error(400, Some("invalidValue"));
    let kept = scimd.get(&group_path).await;
    assert_eq!(kept.body["members"][0]["value"], id.as_str());
    assert_eq!(kept.body["meta"]["version"], "W/\"1\"");

    // a change after them: delivered after anything they could have queued
    let (marker, _) = scimd.create_user("marker@example.com").await;
    let got = receiver.wait_for(3, WAIT).await;
    let claims: Vec<Value> = got.iter().map(|r| r.claims(&hook.secret)).collect();
    let subjects: Vec<(&str, Vec<String>)> = claims
        .iter()
        .map(|c| (c["sub_id"]["uri"].as_str().unwrap(), uris(c)))
        .collect();
    assert_eq!(
        subjects,
        [
            (format!("/Users/{id}").as_str(), vec![prov("create:notice")]),
            (
                format!("/Groups/{gid}").as_str(),
                vec![prov("create:notice")]
            ),
            (
                format!("/Users/{marker}").as_str(),
                vec![prov("create:notice")]
            ),
        ]
    );
    let group_attributes = &claims[1]["events"][prov("create:notice")]["attributes"];
    assert_eq!(group_attributes, &json!(["id", "displayName", "members"]));
    let outbox = scimd.outbox().await;
    assert_eq!(outbox.len(), 3, "{outbox:?}");
    assert!(outbox.iter().all(|e| e.kinds == Kinds::CREATE));
    eventually("the three deliveries are recorded", WAIT, async || {
        let s = scimd.webhook(&hook).await;
        s.delivered == 3 && s.backlog == 0
    })
    .await;
    assert_eq!(receiver.received().len(), 3);
    assert_eq!(scimd.count("select count(*) from deliveries").await, 0);
    assert_eq!(scimd.webhook(&hook).await.failed, 0);
}

async fn a_group_member_add_and_remove_are_patch_notices_of_members(backend: Backend) {
    let scimd = Events::start(backend).await;
    let receiver = Receiver::start().await;
    let hook = scimd.subscribe(&receiver, Kinds::ALL, false).await;
    let (id, _) = scimd.create_user("carol@example.com").await;
    let group = scimd
        .post(
            "/scim/v2/Groups",
            json!({"displayName": "Sales", "externalId": "ext-sales"}),
        )
        .await;
    assert_eq!(group.status, 201, "{}", group.body);
    let gid = group.body["id"].as_str().unwrap().to_owned();
    let path = format!("/scim/v2/Groups/{gid}");
    let add = scimd
        .patch(
            &path,
            json!([{"op": "Add", "path": "members", "value": [{"value": id}]}]),
            None,
        )
        .await;
    assert_eq!(add.status, 204, "{}", add.body);
    let remove = scimd
        .patch(
            &path,
            json!([{"op": "Remove", "path": "members",
                    "value": [{"value": id}]}]),
            None,
        )
        .await;
    assert_eq!(remove.status, 204, "{}", remove.body);

    let got = receiver.wait_for(4, WAIT).await;
    let claims: Vec<Value> = got.iter().map(|r| r.claims(&hook.secret)).collect();
    let group_sub = json!({"format": "scim", "uri": format!("/Groups/{gid}"), "id": gid,
                           "externalId": "ext-sales"});
    for (c, (answer, version)) in claims[2..]
        .iter()
        .zip([(&add, "W/\"2\""), (&remove, "W/\"3\"")])
    {
        assert_eq!(c["sub_id"], group_sub);
        assert_eq!(c["txn"], answer.header("x-request-id").unwrap());
        assert_eq!(
            c["events"],
            json!({prov("patch:notice"): {"attributes": ["members"], "version": version}})
        );
    }
}

async fn a_subscription_receives_only_the_kinds_it_asked_for(backend: Backend) {
    let scimd = Events::start(backend).await;
    let (only, every) = (Receiver::start().await, Receiver::start().await);
    let deactivations = scimd.subscribe(&only, Kinds::DEACTIVATE, false).await;
    let all = scimd.subscribe(&every, Kinds::ALL, false).await;
    let (id, _) = scimd.create_user("dave@example.com").await;
    let user = format!("/scim/v2/Users/{id}");
    assert_eq!(scimd.patch(&user, deactivation(), None).await.status, 200);
    let enable = json!([{"op": "Replace", "path": "active", "value": "True"}]);
    assert_eq!(scimd.patch(&user, enable, None).await.status, 200);
    assert_eq!(scimd.delete(&user).await.status, 204);

    let got = every.wait_for(4, WAIT).await;
    let kinds: Vec<Vec<String>> = got.iter().map(|r| uris(&r.claims(&all.secret))).collect();
    assert_eq!(
        kinds,
        [
            vec![prov("create:notice")],
            vec![prov("patch:notice"), prov("deactivate")],
            vec![prov("patch:notice"), prov("activate")],
            vec![prov("delete")],
        ]
    );
    let got = only.wait_for(1, WAIT).await;
    let claims = got[0].claims(&deactivations.secret);
    assert_eq!(claims["events"], json!({prov("deactivate"): {}}));
    assert_eq!(claims["sub_id"]["id"], id.as_str());
    assert_eq!(claims["txn"], got_txn(&every, &all.secret, 1));
    eventually(
        "one delivery, and only one, is recorded",
        WAIT,
        async || {
            let s = scimd.webhook(&deactivations).await;
            s.delivered == 1 && s.backlog == 0
        },
    )
    .await;
    assert_eq!(scimd.webhook(&deactivations).await.failed, 0);
    assert_eq!(only.received().len(), 1);
}

/// The `txn` of the `n`th SET `receiver` got.
fn got_txn(receiver: &Receiver, secret: &str, n: usize) -> Value {
    receiver.received()[n].claims(secret)["txn"].clone()
}

crate::on_both_stores!(
    a_users_create_deactivation_and_delete_arrive_as_signed_sets_in_order,
    refused_and_rolled_back_requests_send_no_event,
    a_group_member_add_and_remove_are_patch_notices_of_members,
    a_subscription_receives_only_the_kinds_it_asked_for,
);
