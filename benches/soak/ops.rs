//! Entra's writes as the soak sends them, each recorded in the ledger as acknowledged (2xx),
//! resolved (an answer lost, then a retry answered: a create's 409 resolved by the matching
//! lookup, as Entra does; a DELETE's 404) or uncertain (given up); and the matching lookup.

use serde_json::{Value, json};

use crate::client::{Client, Outcome};
use crate::entra::{members_patch, patch, upn, user_body, user_lookup};
use crate::http::{Reply, encode};
use crate::ledger::{Group, Ledger, User};

/// An answer to a request, or `None` when given up (counted by the client) or unexpected
/// (reported as a surprise).
fn answered(client: &Client, outcome: Outcome, what: &str, ok: &[u16]) -> Option<(Reply, bool)> {
    match outcome {
        Outcome::Answered { reply, after_loss } if ok.contains(&reply.status) => {
            Some((reply, after_loss))
        }
        Outcome::Answered { reply, .. } => {
            client
                .shared()
                .surprise(format!("{what}: {} {}", reply.status, reply.text()));
            None
        }
        Outcome::GaveUp(why) => {
            client.shared().surprise(format!("{what}: {why}"));
            None
        }
    }
}

/// The first resource of a list answer, if it lists any.
fn first(reply: &Reply) -> Option<Value> {
    let body = reply.json().ok()?;
    body["Resources"].as_array()?.first().cloned()
}

/// Entra's matching lookup of user `i`: `Some(None)` when none matches.
pub async fn find_user(client: &mut Client, i: usize) -> Option<Option<Value>> {
    let outcome = client.call("GET", &user_lookup(i), None).await;
    let (reply, _) = answered(client, outcome, &format!("lookup of user {i}"), &[200])?;
    Some(first(&reply))
}

/// A user as a read shows it (after a lost create: the read settles what the create did).
fn adopt(i: usize, doc: &Value) -> User {
    User {
        index: i,
        id: doc["id"].as_str().map(str::to_owned),
        deleted: Some(false),
        active: doc["active"].as_bool(),
        title: doc["title"].as_str().map(str::to_owned),
        joined: 0,
    }
}

/// Entra's create of user `i`: the matching lookup, the POST if none matched; a 409 after a
/// lost answer is resolved by the lookup. Returns the user's id.
pub async fn create_user(client: &mut Client, ledger: &mut Ledger, i: usize) -> Option<String> {
    let Some(found) = find_user(client, i).await else {
        ledger.uncertain += 1;
        return None;
    };
    if let Some(doc) = found {
        client
            .shared()
            .surprise(format!("lookup of new user {} found it", upn(i)));
        ledger.push_user(adopt(i, &doc));
        return doc["id"].as_str().map(str::to_owned);
    }
    let outcome = client
        .call("POST", "/scim/v2/Users", Some(&user_body(i)))
        .await;
    let what = format!("create of user {}", upn(i));
    match outcome {
        Outcome::Answered { reply, after_loss } if reply.status == 201 => {
            let id = reply.json().ok()?["id"].as_str()?.to_owned();
            ledger.acknowledged += 1;
            ledger.resolved += u64::from(after_loss);
            ledger.push_user(User {
                index: i,
                id: Some(id.clone()),
                deleted: Some(false),
                active: Some(true),
                title: None,
                joined: 0,
            });
            Some(id)
        }
        Outcome::Answered { reply, after_loss } if reply.status == 409 && after_loss => {
            let doc = find_user(client, i).await.flatten();
            let Some(doc) = doc else {
                client
                    .shared()
                    .surprise(format!("{what}: 409 after a lost answer, and no match"));
                ledger.uncertain += 1;
                return None;
            };
            ledger.resolved += 1;
            ledger.acknowledged += 1;
            ledger.push_user(adopt(i, &doc));
            doc["id"].as_str().map(str::to_owned)
        }
        outcome => {
            answered(client, outcome, &what, &[]);
            ledger.uncertain += 1;
            None
        }
    }
}

/// PATCH of user `k` of the ledger replacing `path` with `value` (Entra's capitalised op);
/// on an acknowledgement `apply` records it, given up the field becomes uncertain.
pub async fn patch_user(
    client: &mut Client,
    ledger: &mut Ledger,
    k: usize,
    path: &str,
    value: Value,
) {
    let Some(id) = ledger.users[k].id.clone() else {
        return;
    };
    let body = patch(json!([{"op": "Replace", "path": path, "value": value}]));
    let outcome = client
        .call("PATCH", &format!("/scim/v2/Users/{id}"), Some(&body))
        .await;
    let user = &mut ledger.users[k];
    let Some((reply, after_loss)) = answered(client, outcome, &format!("PATCH {path}"), &[200])
    else {
        match path {
            "active" => user.active = None,
            _ => user.title = None,
        }
        ledger.uncertain += 1;
        return;
    };
    ledger.acknowledged += 1;
    ledger.resolved += u64::from(after_loss);
    let doc = reply.json().unwrap_or_default();
    match path {
        "active" => {
            let active = value == "True";
            user.active = Some(active);
            if doc["active"] != active {
                client
                    .shared()
                    .surprise(format!("PATCH active {value} answered {}", doc["active"]));
            }
        }
        _ => user.title = value.as_str().map(str::to_owned),
    }
}

/// Entra's DELETE of user `k`; a 404 after a lost answer means it was done.
pub async fn delete_user(client: &mut Client, ledger: &mut Ledger, k: usize) {
    let Some(id) = ledger.users[k].id.clone() else {
        return;
    };
    let outcome = client
        .call("DELETE", &format!("/scim/v2/Users/{id}"), None)
        .await;
    let done = match outcome {
        Outcome::Answered { reply, after_loss } if reply.status == 204 => Some(after_loss),
        Outcome::Answered { reply, after_loss } if reply.status == 404 && after_loss => Some(true),
        outcome => {
            answered(client, outcome, &format!("DELETE user {id}"), &[]);
            None
        }
    };
    match done {
        Some(after_loss) => {
            ledger.acknowledged += 1;
            ledger.resolved += u64::from(after_loss);
            ledger.users[k].deleted = Some(true);
        }
        None => {
            ledger.uncertain += 1;
            ledger.users[k].deleted = None;
        }
    }
}

/// Entra's group create: the lookup by displayName, the POST; a 409 after a lost answer is
/// resolved by the lookup. Returns the group's place in the ledger.
pub async fn create_group(client: &mut Client, ledger: &mut Ledger, name: &str) -> Option<usize> {
    let filter = encode(&format!("displayName eq \"{name}\""));
    let lookup = format!("/scim/v2/Groups?filter={filter}&excludedAttributes=members");
    let outcome = client.call("GET", &lookup, None).await;
    let (reply, _) = answered(client, outcome, &format!("lookup of group {name}"), &[200])?;
    let id = match first(&reply) {
        Some(doc) => doc["id"].as_str()?.to_owned(),
        None => {
            let body = json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "externalId": format!("group-object-id-{name}"),
                "displayName": name,
                "members": []
            })
            .to_string();
            let outcome = client.call("POST", "/scim/v2/Groups", Some(&body)).await;
            let what = format!("create of group {name}");
            match outcome {
                Outcome::Answered { reply, after_loss } if reply.status == 201 => {
                    ledger.acknowledged += 1;
                    ledger.resolved += u64::from(after_loss);
                    reply.json().ok()?["id"].as_str()?.to_owned()
                }
                Outcome::Answered { reply, after_loss } if reply.status == 409 && after_loss => {
                    let outcome = client.call("GET", &lookup, None).await;
                    let (reply, _) = answered(client, outcome, &what, &[200])?;
                    ledger.acknowledged += 1;
                    ledger.resolved += 1;
                    first(&reply)?["id"].as_str()?.to_owned()
                }
                outcome => {
                    answered(client, outcome, &what, &[]);
                    ledger.uncertain += 1;
                    return None;
                }
            }
        }
    };
    ledger.groups.push(Group {
        name: name.to_owned(),
        id,
        members: Default::default(),
    });
    Some(ledger.groups.len() - 1)
}

/// Entra's member change of group `g`: users `ids` added (`add`) or removed.
pub async fn change_members(
    client: &mut Client,
    ledger: &mut Ledger,
    g: usize,
    ids: &[String],
    add: bool,
) {
    let group = &ledger.groups[g];
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let body = members_patch(if add { "Add" } else { "Remove" }, &refs);
    let outcome = client
        .call(
            "PATCH",
            &format!("/scim/v2/Groups/{}", group.id),
            Some(&body),
        )
        .await;
    let what = format!("member change of group {}", group.name);
    let state = match answered(client, outcome, &what, &[200, 204]) {
        Some((_, after_loss)) => {
            ledger.acknowledged += 1;
            ledger.resolved += u64::from(after_loss);
            Some(add)
        }
        None => {
            ledger.uncertain += 1;
            None
        }
    };
    for id in ids {
        ledger.groups[g].members.insert(id.clone(), state);
        if add && let Some(user) = ledger.user_mut(id) {
            user.joined += 1;
        }
    }
}
