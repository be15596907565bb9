//! The soak's mix, drawn from Entra's cycles: large tenants' initial cycles (users created
//! after the matching lookup, groups of 100 with a member PATCH each, then incremental work on
//! what they made, unpaced); the other tenants' paced incremental cycles (lookups, attribute and
//! `active` replaces, member adds and removes, an occasional delete and create); Entra's Test
//! Connection probes; and the application's reads of the management API.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::client::{Class, Client, Outcome, Shared};
use crate::entra::MEMBER_BATCH;
use crate::http::encode;
use crate::ledger::Ledger;
use crate::ops::{change_members, create_group, create_user, delete_user, find_user, patch_user};

/// A tenant of the soak and its SCIM token.
#[derive(Clone)]
pub struct Tenant {
    pub name: String,
    pub token: String,
}

/// What the tasks are told.
#[derive(Clone, Copy)]
pub struct Plan {
    pub deadline: Instant,
    /// Users each large tenant's worker creates in its initial cycle.
    pub large_users: usize,
    /// Users and groups each incremental tenant starts with.
    pub small_users: usize,
    pub small_groups: usize,
    /// Mean pause between an incremental tenant's requests.
    pub pace: Duration,
}

/// xorshift64*: reproducible choices without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// A pause of 0 to twice `mean`.
    fn pause(&mut self, mean: Duration) -> Duration {
        mean.mul_f64((self.next() % 2000) as f64 / 1000.0)
    }
}

/// A large tenant's worker `w` of `workers`: its users are those numbered `w` modulo `workers`.
pub async fn large(
    shared: Arc<Shared>,
    tenant: Tenant,
    w: usize,
    workers: usize,
    plan: Plan,
) -> Ledger {
    let mut client = Client::new(&shared, &tenant.token, Class::Large);
    let mut ledger = Ledger::default();
    let mut rng = Rng::new((w as u64 + 1) * 7919 + tenant.name.len() as u64);
    let mut batch = Vec::new();
    let mut i = w;
    while Instant::now() < plan.deadline && ledger.users.len() < plan.large_users {
        if let Some(id) = create_user(&mut client, &mut ledger, i).await {
            batch.push(id);
        }
        i += workers;
        if batch.len() == MEMBER_BATCH {
            let name = format!("Sales Team {w}-{}", ledger.groups.len());
            if let Some(g) = create_group(&mut client, &mut ledger, &name).await {
                change_members(&mut client, &mut ledger, g, &batch, true).await;
            }
            batch.clear();
        }
    }
    let mut next = i;
    while Instant::now() < plan.deadline {
        step(&mut client, &mut ledger, &mut rng, &mut next, workers).await;
    }
    ledger
}

/// An incremental tenant: its first users and groups, then paced incremental work.
pub async fn incremental(shared: Arc<Shared>, tenant: Tenant, seed: u64, plan: Plan) -> Ledger {
    let mut client = Client::new(&shared, &tenant.token, Class::Incremental);
    let mut ledger = Ledger::default();
    let mut rng = Rng::new(seed);
    tokio::time::sleep(rng.pause(plan.pace)).await;
    let mut ids = Vec::new();
    for i in 0..plan.small_users {
        ids.extend(create_user(&mut client, &mut ledger, i).await);
    }
    for g in 0..plan.small_groups {
        if let Some(g) = create_group(&mut client, &mut ledger, &format!("Team {g}")).await {
            // the first half of the users are in groups; the others may be deleted
            let half = &ids[..ids.len() / 2];
            let some: Vec<String> = half.iter().skip(g).step_by(2).cloned().collect();
            change_members(&mut client, &mut ledger, g, &some, true).await;
        }
    }
    let mut next = plan.small_users;
    while Instant::now() < plan.deadline {
        tokio::time::sleep(rng.pause(plan.pace)).await;
        step(&mut client, &mut ledger, &mut rng, &mut next, 1).await;
    }
    ledger
}

/// Places of the ledger's users that are present (an acknowledged create, no delete).
fn live(ledger: &Ledger) -> Vec<usize> {
    (0..ledger.users.len())
        .filter(|&k| ledger.users[k].id.is_some() && ledger.users[k].deleted == Some(false))
        .collect()
}

/// One request of an incremental cycle, chosen at random; `next` is the next new user's
/// number, stepping by `stride`.
async fn step(
    client: &mut Client,
    ledger: &mut Ledger,
    rng: &mut Rng,
    next: &mut usize,
    stride: usize,
) {
    let live = live(ledger);
    if live.is_empty() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        return;
    }
    let k = live[rng.below(live.len())];
    let roll = rng.below(100);
    match roll {
        0..30 => {
            let i = ledger.users[k].index;
            if let Some(found) = find_user(client, i).await
                && found.as_ref().and_then(|d| d["id"].as_str()) != ledger.users[k].id.as_deref()
            {
                client
                    .shared()
                    .surprise(format!("lookup of user {i} found {found:?}"));
            }
        }
        30..45 => {
            let title = format!("Title {}", rng.below(1000));
            patch_user(client, ledger, k, "title", json!(title)).await;
        }
        45..55 => {
            let value = if ledger.users[k].active == Some(false) {
                "True"
            } else {
                "False"
            };
            patch_user(client, ledger, k, "active", json!(value)).await;
        }
        55..82 if !ledger.groups.is_empty() => {
            let g = rng.below(ledger.groups.len());
            let add = roll < 70;
            // adds: a present user not in the group (a few tries); removes: a member
            let member = |id: &String| ledger.groups[g].members.get(id).copied().flatten();
            let candidates: Vec<String> = if add {
                (0..20)
                    .filter_map(|_| ledger.users[live[rng.below(live.len())]].id.clone())
                    .filter(|id| member(id) != Some(true))
                    .collect()
            } else {
                let members = ledger.groups[g].members.iter();
                members
                    .filter(|(_, m)| **m == Some(true))
                    .map(|(id, _)| id.clone())
                    .collect()
            };
            if let Some(id) = candidates.get(rng.below(candidates.len().max(1))) {
                change_members(client, ledger, g, std::slice::from_ref(id), add).await;
            }
        }
        82..87 if ledger.users[k].joined == 0 => {
            delete_user(client, ledger, k).await;
            create_user(client, ledger, *next).await;
            *next += stride;
        }
        87..90 => {
            create_user(client, ledger, *next).await;
            *next += stride;
        }
        _ => {
            let Some(id) = ledger.users[k].id.clone() else {
                return;
            };
            let outcome = client
                .call("GET", &format!("/scim/v2/Users/{id}"), None)
                .await;
            if let Outcome::Answered { reply, .. } = outcome
                && reply.status != 200
            {
                client.shared().surprise(format!(
                    "GET user {id}: {} {}",
                    reply.status,
                    reply.text()
                ));
            }
        }
    }
}

/// Entra's Test Connection, on a tenant at random every `every`: a lookup of a userName no one
/// has, which must answer an empty list.
pub async fn probes(shared: Arc<Shared>, tenants: Vec<Tenant>, every: Duration, deadline: Instant) {
    let mut rng = Rng::new(31);
    while Instant::now() < deadline {
        tokio::time::sleep(every).await;
        let tenant = &tenants[rng.below(tenants.len())];
        // a new connection for each probe, as Entra's portal makes
        let mut client = Client::new(&shared, &tenant.token, Class::TestConnection);
        let filter = encode(&format!(
            "userName eq \"{:016x}-{:016x}\"",
            rng.next(),
            rng.next()
        ));
        let target = format!("/scim/v2/Users?filter={filter}");
        if let Outcome::Answered { reply, .. } = client.call("GET", &target, None).await {
            let empty = reply.json().ok().map(|b| b["totalResults"] == 0);
            if reply.status != 200 || empty != Some(true) {
                shared.surprise(format!(
                    "Test Connection on {}: {} {}",
                    tenant.name,
                    reply.status,
                    reply.text()
                ));
            }
        }
    }
}

/// The application's reads with its operator key, every `every`: a tenant at random, its
/// newest activity, its cycles or the tenant itself.
pub async fn app_reads(
    shared: Arc<Shared>,
    key: String,
    names: Vec<String>,
    every: Duration,
    deadline: Instant,
) {
    let mut client = Client::new(&shared, &key, Class::AppReads);
    let mut rng = Rng::new(47);
    while Instant::now() < deadline {
        tokio::time::sleep(every).await;
        let name = &names[rng.below(names.len())];
        let target = match rng.below(3) {
            0 => format!("/api/v1/tenants/{name}/activity?limit=20"),
            1 => format!("/api/v1/tenants/{name}/cycles"),
            _ => format!("/api/v1/tenants/{name}"),
        };
        if let Outcome::Answered { reply, .. } = client.call("GET", &target, None).await
            && reply.status != 200
        {
            shared.surprise(format!("GET {target}: {} {}", reply.status, reply.text()));
        }
    }
}
