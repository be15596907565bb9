//! The ledger of acknowledged writes: for each user and group a client created, what its
//! acknowledged (2xx) writes say it must now be — present or deleted, `active`, `title`, its
//! members — with `None` where a write was never acknowledged (given up: uncertain); and the
//! check, at the end, of all of it against what the SCIM API lists.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::client::{Client, Outcome};
use crate::common::BoxResult;

/// A user as its acknowledged writes left it.
pub struct User {
    pub index: usize,
    pub id: Option<String>,
    /// `Some(true)` once a DELETE was acknowledged, `None` while a DELETE is uncertain.
    pub deleted: Option<bool>,
    pub active: Option<bool>,
    pub title: Option<String>,
    /// Groups it was ever added to (a user in none may be deleted: a delete then changes no
    /// group's expected members).
    pub joined: u32,
}

/// A group as its acknowledged writes left it: member user id → member or not (`None`:
/// uncertain).
pub struct Group {
    pub name: String,
    pub id: String,
    pub members: BTreeMap<String, Option<bool>>,
}

/// One client's part of a tenant's directory (a large tenant's workers each keep their own).
#[derive(Default)]
pub struct Ledger {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    /// Writes answered 2xx.
    pub acknowledged: u64,
    /// Writes whose answer was lost once at least, then answered on a retry.
    pub resolved: u64,
    /// Writes given up: their effect is uncertain and not checked.
    pub uncertain: u64,
    /// The place in `users` of each user id.
    by_id: HashMap<String, usize>,
}

/// What the check at the end found, summed over tenants.
#[derive(Default)]
pub struct Verdict {
    pub acknowledged: u64,
    pub resolved: u64,
    pub uncertain: u64,
    pub users_checked: u64,
    pub groups_checked: u64,
    /// Facts checked (a user's presence, `active`, `title`; a group's member or non-member).
    pub facts_checked: u64,
    /// Facts the database contradicts: acknowledged writes lost.
    pub lost: Vec<String>,
}

impl Ledger {
    pub fn user_mut(&mut self, id: &str) -> Option<&mut User> {
        self.users.get_mut(*self.by_id.get(id)?)
    }

    pub fn push_user(&mut self, user: User) {
        if let Some(id) = &user.id {
            self.by_id.insert(id.clone(), self.users.len());
        }
        self.users.push(user);
    }
}

/// Every resource of `resource` (`Users`, `Groups`) of the tenant, by id, paged 1 000 at a time.
async fn list_all(client: &mut Client, resource: &str) -> BoxResult<HashMap<String, Value>> {
    let mut found = HashMap::new();
    let mut start = 1;
    loop {
        let target = format!("/scim/v2/{resource}?startIndex={start}&count=1000");
        let reply = match client.call("GET", &target, None).await {
            Outcome::Answered { reply, .. } => reply,
            Outcome::GaveUp(why) => return Err(format!("GET {target}: {why}").into()),
        };
        reply.expect(200, &format!("GET {target}"))?;
        let page = reply.json()?;
        let resources = page["Resources"].as_array().cloned().unwrap_or_default();
        let total = page["totalResults"]
            .as_u64()
            .ok_or("a list without totalResults")?;
        for r in &resources {
            let id = r["id"].as_str().ok_or("a resource without id")?;
            found.insert(id.to_owned(), r.clone());
        }
        start += resources.len();
        if resources.is_empty() || start as u64 > total {
            return Ok(found);
        }
    }
}

/// Checks the ledgers of one tenant (`name`, its client) against what its SCIM API lists.
pub async fn verify(
    name: &str,
    client: &mut Client,
    ledgers: &[Ledger],
    verdict: &mut Verdict,
) -> BoxResult<()> {
    let users = list_all(client, "Users").await?;
    let groups = list_all(client, "Groups").await?;
    let mut lost = |what: String| verdict.lost.push(format!("tenant {name}: {what}"));
    let mut facts = 0;
    for ledger in ledgers {
        verdict.acknowledged += ledger.acknowledged;
        verdict.resolved += ledger.resolved;
        verdict.uncertain += ledger.uncertain;
        for user in &ledger.users {
            let Some(id) = &user.id else { continue };
            verdict.users_checked += 1;
            let upn = crate::entra::upn(user.index);
            match (user.deleted, users.get(id)) {
                (None, _) => {}
                (Some(true), None) | (Some(false), Some(_)) => facts += 1,
                (Some(true), Some(_)) => lost(format!("user {upn} ({id}) deleted, still listed")),
                (Some(false), None) => lost(format!("user {upn} ({id}) created, not listed")),
            }
            let (Some(false), Some(doc)) = (user.deleted, users.get(id)) else {
                continue;
            };
            if doc["userName"] != upn.as_str() {
                lost(format!("user {id}: userName {} not {upn}", doc["userName"]));
            }
            if let Some(active) = user.active {
                facts += 1;
                if doc["active"] != active {
                    lost(format!("user {upn}: active {} not {active}", doc["active"]));
                }
            }
            if let Some(title) = &user.title {
                facts += 1;
                if doc["title"] != title.as_str() {
                    lost(format!("user {upn}: title {} not {title:?}", doc["title"]));
                }
            }
        }
        for group in &ledger.groups {
            verdict.groups_checked += 1;
            let Some(doc) = groups.get(&group.id) else {
                lost(format!(
                    "group {} ({}) created, not listed",
                    group.name, group.id
                ));
                continue;
            };
            let listed: Vec<&str> = doc["members"]
                .as_array()
                .map(|m| m.iter().filter_map(|m| m["value"].as_str()).collect())
                .unwrap_or_default();
            for (member, expected) in &group.members {
                let Some(expected) = expected else { continue };
                facts += 1;
                if listed.contains(&member.as_str()) != *expected {
                    lost(format!(
                        "group {}: user {member} {} a member",
                        group.name,
                        if *expected { "is not" } else { "is still" }
                    ));
                }
            }
        }
    }
    verdict.facts_checked += facts;
    Ok(())
}
