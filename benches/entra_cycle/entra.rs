//! Entra's requests, as Microsoft's "Tutorial: Develop and plan provisioning for a SCIM endpoint
//! in Microsoft Entra ID" shows them: the matching lookup, the create, the manager link, the
//! group lookup, create and member changes, the soft delete; every answer checked.

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::BoxResult;
use crate::http::{Conn, Sample, drive, encode};

pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Members per PATCH, as Entra batches them.
pub const MEMBER_BATCH: usize = 100;
/// Members of each group but the big one.
const SMALL_GROUP: usize = 300;

/// The directory Entra provisions: users `0..n`, groups `0..g` (group 0 is the big one), and
/// the ids scimd gave them.
pub struct Directory {
    pub users: Vec<OnceLock<String>>,
    pub groups: Vec<OnceLock<String>>,
    /// The last users, kept out of every group: the member add/remove probe adds them, and the
    /// lookup probe with every user looks them up (like the 50 first users, they belong to no
    /// group, so that the probe compares directory sizes, not answers with more groups).
    pub reserved: usize,
}

/// Entra's userPrincipalName of user `i`.
pub fn upn(i: usize) -> String {
    format!("AdeleV{i}@contoso.onmicrosoft.com")
}

/// Entra's object id of user `i`, as externalId.
pub fn object_id(i: usize) -> String {
    format!("0a21f0f2-8d2a-4f8e-bf98-{i:012x}")
}

/// Entra's create body for user `i` (the shape of `tests/scimd/support/mod.rs::entra_user`).
pub fn user_body(i: usize) -> String {
    let upn = upn(i);
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            ENTERPRISE
        ],
        "externalId": object_id(i),
        "userName": upn,
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": upn}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": format!("Adele Vance {i}"), "familyName": format!("Vance{i}"), "givenName": "Adele"},
        "roles": [],
        ENTERPRISE: {
            "employeeNumber": format!("{}", 700_000 + i),
            "department": format!("Department {}", i % 40)
        }
    })
    .to_string()
}

/// Entra's matching query for user `i`.
pub fn user_lookup(i: usize) -> String {
    format!(
        "/scim/v2/Users?filter={}",
        encode(&format!("userName eq \"{}\"", upn(i)))
    )
}

fn group_name(g: usize) -> String {
    format!("Sales Team {g}")
}

pub fn patch(operations: Value) -> String {
    json!({"schemas": [PATCH_OP], "Operations": operations}).to_string()
}

/// Entra's member change of `group`: `op` `Add` or `Remove` with a value list.
pub fn members_patch(op: &str, ids: &[&str]) -> String {
    let value: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
    patch(json!([{"op": op, "path": "members", "value": value}]))
}

/// `totalResults` and the first resource of a list answer.
fn listed(body: &Value) -> (u64, Option<&Value>) {
    (
        body["totalResults"].as_u64().unwrap_or(u64::MAX),
        body["Resources"].as_array().and_then(|r| r.first()),
    )
}

impl Directory {
    pub fn new(users: usize, groups: usize) -> Self {
        Self {
            users: (0..users).map(|_| OnceLock::new()).collect(),
            groups: (0..groups).map(|_| OnceLock::new()).collect(),
            reserved: (users / 10).min(100),
        }
    }

    pub fn user(&self, i: usize) -> BoxResult<&str> {
        self.users[i]
            .get()
            .map(String::as_str)
            .ok_or_else(|| format!("user {i} has no id").into())
    }

    pub fn group(&self, g: usize) -> BoxResult<&str> {
        self.groups[g]
            .get()
            .map(String::as_str)
            .ok_or_else(|| format!("group {g} has no id").into())
    }

    /// Initial cycle for users `first..first + count`: the matching lookup (nothing found),
    /// the create, and for 90 % of users the manager link to an earlier user.
    pub async fn create_users(
        &self,
        conns: &mut [Conn],
        first: usize,
        count: usize,
    ) -> BoxResult<Vec<Sample>> {
        drive(conns, count, async |conn, k, samples| {
            let i = first + k;
            let (reply, took) = conn.send("GET", &user_lookup(i), None).await?;
            reply.expect(200, &format!("lookup of new user {i}"))?;
            if listed(&reply.json()?).0 != 0 {
                return Err(format!("lookup of new user {i} found: {}", reply.text()).into());
            }
            samples.push(Sample::one("GET Users?filter=userName (none)", took));

            let (reply, took) = conn
                .send("POST", "/scim/v2/Users", Some(&user_body(i)))
                .await?;
            reply.expect(201, &format!("create of user {i}"))?;
            let created = reply.json()?;
            if created["userName"] != upn(i).as_str() {
                return Err(format!("create of user {i} answered {}", reply.text()).into());
            }
            let id = created["id"].as_str().ok_or("a created user without id")?;
            self.users[i]
                .set(id.to_owned())
                .map_err(|_| format!("user {i} created twice"))?;
            samples.push(Sample::one("POST Users", took));

            if i % 10 != 0 {
                // a manager higher up: user i / 8, created well before except for the
                // first few users, whose manager may still be in flight on another connection
                let boss = i / 8;
                let boss_id = loop {
                    match self.users[boss].get() {
                        Some(id) => break id.clone(),
                        None => tokio::time::sleep(Duration::from_millis(1)).await,
                    }
                };
                let body = patch(json!([{
                    "op": "Add",
                    "path": format!("{ENTERPRISE}:manager"),
                    "value": boss_id
                }]));
                let (reply, took) = conn
                    .send("PATCH", &format!("/scim/v2/Users/{id}"), Some(&body))
                    .await?;
                reply.expect(200, &format!("manager of user {i}"))?;
                if reply.json()?[ENTERPRISE]["manager"]["value"] != boss_id.as_str() {
                    return Err(format!("manager of user {i} not set: {}", reply.text()).into());
                }
                samples.push(Sample::one("PATCH Users manager", took));
            }
            Ok(())
        })
        .await
    }

    /// Initial cycle for groups: Entra's lookup by displayName (nothing found), the create.
    pub async fn create_groups(&self, conns: &mut [Conn]) -> BoxResult<Vec<Sample>> {
        drive(conns, self.groups.len(), async |conn, g, samples| {
            let name = group_name(g);
            let filter = encode(&format!("displayName eq \"{name}\""));
            let target = format!("/scim/v2/Groups?filter={filter}&excludedAttributes=members");
            let (reply, took) = conn.send("GET", &target, None).await?;
            reply.expect(200, &format!("lookup of new group {g}"))?;
            if listed(&reply.json()?).0 != 0 {
                return Err(format!("lookup of new group {g} found: {}", reply.text()).into());
            }
            samples.push(Sample::one("GET Groups?filter=displayName", took));
            let id = self.new_group(conn, &name, samples).await?;
            self.groups[g]
                .set(id)
                .map_err(|_| format!("group {g} created twice"))?;
            Ok(())
        })
        .await
    }

    /// Entra's group create; returns the id.
    pub async fn new_group(
        &self,
        conn: &mut Conn,
        name: &str,
        samples: &mut Vec<Sample>,
    ) -> BoxResult<String> {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "externalId": format!("group-object-id-{name}"),
            "displayName": name,
            "members": []
        });
        let (reply, took) = conn
            .send("POST", "/scim/v2/Groups", Some(&body.to_string()))
            .await?;
        reply.expect(201, &format!("create of group {name}"))?;
        let created = reply.json()?;
        if created["displayName"] != name {
            return Err(format!("create of group {name} answered {}", reply.text()).into());
        }
        samples.push(Sample::one("POST Groups", took));
        Ok(created["id"]
            .as_str()
            .ok_or("a created group without id")?
            .to_owned())
    }

    /// The members of group `g`: the big group has every user but the reserved ones, the
    /// others `SMALL_GROUP` consecutive users (of the same) from a place of their own.
    fn members_of(&self, g: usize) -> Vec<usize> {
        let grouped = self.users.len() - self.reserved;
        if g == 0 {
            (0..grouped).collect()
        } else {
            let start = g * 997 % grouped;
            (0..SMALL_GROUP.min(grouped))
                .map(|k| (start + k) % grouped)
                .collect()
        }
    }

    /// Initial cycle for memberships: PATCHes adding `MEMBER_BATCH` members each, the
    /// batches of the groups taken in turn (a batch of each group, then the next of each).
    pub async fn add_members(&self, conns: &mut [Conn]) -> BoxResult<Vec<Sample>> {
        let batches: Vec<Vec<Vec<usize>>> = (0..self.groups.len())
            .map(|g| {
                self.members_of(g)
                    .chunks(MEMBER_BATCH)
                    .map(<[usize]>::to_vec)
                    .collect()
            })
            .collect();
        let rounds = batches.iter().map(Vec::len).max().unwrap_or(0);
        let mut work: Vec<(usize, &[usize])> = Vec::new();
        for r in 0..rounds {
            for (g, of_group) in batches.iter().enumerate() {
                if let Some(batch) = of_group.get(r) {
                    work.push((g, batch));
                }
            }
        }
        drive(conns, work.len(), async |conn, k, samples| {
            let (g, batch) = work[k];
            let ids = batch
                .iter()
                .map(|&i| self.user(i))
                .collect::<BoxResult<Vec<_>>>()?;
            let target = format!("/scim/v2/Groups/{}", self.group(g)?);
            let (reply, took) = conn
                .send("PATCH", &target, Some(&members_patch("Add", &ids)))
                .await?;
            reply.expect(204, &format!("member add to group {g}"))?;
            samples.push(Sample::one("PATCH Groups add 100 members", took));
            Ok(())
        })
        .await
    }

    /// `count` lookups of existing users `users`, on one connection; each must find exactly
    /// that user.
    pub async fn lookup_probe(
        &self,
        conn: &mut Conn,
        users: std::ops::Range<usize>,
        count: usize,
        seed: usize,
    ) -> BoxResult<Vec<Sample>> {
        let mut samples = Vec::with_capacity(count);
        for k in 0..count {
            let i = users.start + (seed + k * 7919) % users.len();
            samples.push(self.find_user(conn, i).await?);
        }
        Ok(samples)
    }

    /// Entra's matching lookup of existing user `i`: finds exactly it.
    pub async fn find_user(&self, conn: &mut Conn, i: usize) -> BoxResult<Sample> {
        let (reply, took) = conn.send("GET", &user_lookup(i), None).await?;
        reply.expect(200, &format!("lookup of user {i}"))?;
        let body = reply.json()?;
        match listed(&body) {
            (1, Some(user)) if user["id"] == self.user(i)? && user["userName"] == upn(i) => {}
            _ => {
                return Err(format!(
                    "lookup of user {i} did not find exactly it: {}",
                    reply.text()
                )
                .into());
            }
        }
        Ok(Sample::one("GET Users?filter=userName (found)", took))
    }

    /// `count` pairs of a member add and Entra's member remove in `group`, on one connection,
    /// with the reserved users (members of neither probed group); each pair timed as one.
    pub async fn member_probe(
        &self,
        conn: &mut Conn,
        group: &str,
        count: usize,
    ) -> BoxResult<Vec<Sample>> {
        let n = self.users.len();
        let target = format!("/scim/v2/Groups/{group}");
        let mut samples = Vec::with_capacity(count);
        for k in 0..count {
            let user = self.user(n - 1 - k % self.reserved)?;
            let (reply, add) = conn
                .send("PATCH", &target, Some(&members_patch("Add", &[user])))
                .await?;
            reply.expect(204, "probe member add")?;
            let (reply, remove) = conn
                .send("PATCH", &target, Some(&members_patch("Remove", &[user])))
                .await?;
            reply.expect(204, "probe member remove")?;
            samples.push(Sample {
                kind: "PATCH Groups add + remove 1 member",
                took: add + remove,
                requests: 2,
            });
        }
        Ok(samples)
    }

    /// Incremental cycle: Entra's matching lookup of every user (each finds exactly it).
    pub async fn find_users(&self, conns: &mut [Conn]) -> BoxResult<Vec<Sample>> {
        drive(conns, self.users.len(), async |conn, i, samples| {
            samples.push(self.find_user(conn, i).await?);
            Ok(())
        })
        .await
    }

    /// Incremental cycle: Entra's soft delete (`active` "False") of every 20th user.
    pub async fn soft_delete(&self, conns: &mut [Conn]) -> BoxResult<Vec<Sample>> {
        let n = self.users.len().div_ceil(20);
        drive(conns, n, async |conn, k, samples| {
            let i = (k * 20 + 7).min(self.users.len() - 1);
            let body = patch(json!([{"op": "Replace", "path": "active", "value": "False"}]));
            let target = format!("/scim/v2/Users/{}", self.user(i)?);
            let (reply, took) = conn.send("PATCH", &target, Some(&body)).await?;
            reply.expect(200, &format!("soft delete of user {i}"))?;
            if reply.json()?["active"] != false {
                return Err(format!("user {i} still active: {}", reply.text()).into());
            }
            samples.push(Sample::one("PATCH Users active False", took));
            Ok(())
        })
        .await
    }
}

/// The floor's create phase (and scimd's, on a fresh database): Entra's create of users
/// `0..n`, nothing else.
pub async fn plain_creates(conns: &mut [Conn], n: usize) -> BoxResult<Vec<Sample>> {
    drive(conns, n, async |conn, i, samples| {
        let (reply, took) = conn
            .send("POST", "/scim/v2/Users", Some(&user_body(i)))
            .await?;
        reply.expect(201, &format!("create of user {i}"))?;
        if reply.json()?["userName"] != upn(i).as_str() {
            return Err(format!("create of user {i} answered {}", reply.text()).into());
        }
        samples.push(Sample::one("POST Users", took));
        Ok(())
    })
    .await
}

/// The floor's lookup phase: Entra's matching lookup of users `0..n` in turn; each must
/// find exactly that user (by userName: the floor has no ids).
pub async fn plain_lookups(conns: &mut [Conn], n: usize) -> BoxResult<Vec<Sample>> {
    drive(conns, n, async |conn, k, samples| {
        let i = k * 7919 % n;
        let (reply, took) = conn.send("GET", &user_lookup(i), None).await?;
        reply.expect(200, &format!("lookup of user {i}"))?;
        let body = reply.json()?;
        match listed(&body) {
            (1, Some(user)) if user["userName"] == upn(i) => {}
            _ => {
                return Err(format!(
                    "lookup of user {i} did not find exactly it: {}",
                    reply.text()
                )
                .into());
            }
        }
        samples.push(Sample::one("GET Users?filter=userName (found)", took));
        Ok(())
    })
    .await
}
