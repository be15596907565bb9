//! Creates that arrive together are written together: on PostgreSQL, each create that is one
//! statement (its activity row and event with it) joins a queue, and a few writers take what
//! has queued and insert it with one statement and one commit. A busy tenant's initial cycle
//! then pays the statement's fixed costs (starting the executor, opening some fifteen
//! indexes, the round trip, the commit) once per group instead of once per user; a create
//! that arrives alone is written at once, alone.
//!
//! A group is one statement, so it commits whole or not at all. When it fails (a userName
//! taken, by another create of the group or by a user already stored; the database away), each
//! of its creates is written again on its own and answered with its own outcome, exactly as if
//! it had never been grouped. A create whose request gave up (its timeout) before a writer took
//! it is dropped from the queue unwritten.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::conns::Conns;
use super::documents::{document_values, rule_value, violation};
use super::rows::RESOURCE_COLUMNS;
use super::{Arg, Sql, activity, outbox};
use crate::domain::activity::Activity;
use crate::domain::{MatchingAttribute, TenantId};
use crate::scim::canonical::Document;
use crate::scim::resource::{ResourceId, StoredResource, Version};
use crate::scim::schema::ResourceKind;
use crate::store::dialect::{Dialect, Record};
use crate::store::{Content, StoreError, Unique};

/// Creates one statement writes at most (about 40 parameters each).
const MOST: usize = 64;
/// Database connections per writer: `max_connections / 4` writers (at least 2) leave the
/// other connections to reads and to the writes that are not grouped.
const CONNECTIONS_PER_WRITER: u32 = 4;

/// The queue of creates and the writers that empty it.
pub(super) struct Creates<D: Dialect> {
    writer: Conns<D>,
    writers: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Queued>,
    /// Writers running; each takes from the queue until it finds it empty.
    running: usize,
}

struct Queued {
    create: Create,
    reply: oneshot::Sender<Result<StoredResource, StoreError>>,
}

/// One create, its values owned so that a writer task can write it.
pub(super) struct Create {
    kind: ResourceKind,
    id: ResourceId,
    /// The document and the time written, to answer with: the statement returns only the
    /// ids it wrote, rather than each document for this process to decode again.
    doc: Document,
    now: DateTime<Utc>,
    /// `tenant_id, id, resource_type, created` and the document's columns, in the insert's order.
    resource: Vec<Arg>,
    activity: Vec<Arg>,
    event: Option<Vec<Arg>>,
    /// What the document holds for each uniqueness rule, to say which value was taken.
    name: Option<String>,
    external_id: Option<String>,
    work_email: Option<String>,
}

impl Create {
    /// The create of `w` for `tenant`, recorded by `a`.
    pub(super) fn new(tenant: TenantId, w: &Content<'_>, a: &Activity) -> Result<Self, StoreError> {
        let mut resource: Vec<Arg> = vec![
            tenant.into(),
            w.id.into(),
            w.kind.as_str().into(),
            w.now.into(),
        ];
        resource.extend(document_values(w)?);
        activity::counted(a);
        let value = |rule: Unique| rule_value(rule, w.doc).map(str::to_owned);
        Ok(Self {
            kind: w.kind,
            id: w.id,
            doc: w.doc.clone(),
            now: w.now,
            resource,
            activity: activity::values(a),
            event: outbox::event_values(a),
            name: value(Unique::Name(w.kind)),
            external_id: value(Unique::Matching(MatchingAttribute::ExternalId)),
            work_email: value(Unique::Matching(MatchingAttribute::WorkEmail)),
        })
    }

    /// Its answer once the statement that wrote it returned `written`: when its id is among
    /// them, the resource as written, version 1, created and last modified `now` (which the
    /// clock gives to the millisecond, so the column holds it exactly).
    fn answer(self, written: &[Uuid]) -> Result<StoredResource, StoreError> {
        if !written.contains(&self.id.0) {
            return Err(super::documents::not_found(self.kind, self.id));
        }
        Ok(StoredResource {
            kind: self.kind,
            id: self.id,
            version: Version(1),
            created: self.now,
            last_modified: self.now,
            doc: self.doc,
        })
    }

    /// A failure of this create's own statement, as the rule it broke.
    fn failed<D: Dialect>(&self, e: StoreError) -> StoreError {
        violation::<D>(e, self.kind, |rule| match rule {
            Unique::Name(_) => self.name.clone(),
            Unique::Matching(MatchingAttribute::ExternalId) => self.external_id.clone(),
            Unique::Matching(_) => self.work_email.clone(),
            _ => None,
        })
    }
}

impl<D: Dialect> Creates<D> {
    pub(super) fn new(writer: Conns<D>) -> Self {
        let connections = writer.max_connections();
        Self {
            writer,
            writers: (connections / CONNECTIONS_PER_WRITER).max(2) as usize,
            state: Mutex::new(State::default()),
        }
    }

    /// Writes `create`, with the creates queued beside it; its stored resource.
    pub(super) async fn write(
        self: &Arc<Self>,
        create: Create,
    ) -> Result<StoredResource, StoreError> {
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.queue.push_back(Queued { create, reply });
            let start = state.running < self.writers;
            if start {
                state.running += 1;
            }
            start
        };
        if start {
            // a task of its own, so that a request that gives up does not stop the writes of
            // the others its writer took
            tokio::spawn(self.clone().run());
        }
        answer
            .await
            .map_err(|_| StoreError::Other(sqlx::Error::WorkerCrashed))?
    }

    /// Takes from the queue and writes until the queue is empty.
    async fn run(self: Arc<Self>) {
        loop {
            let group: Vec<Queued> = {
                let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                state.queue.retain(|q| !q.reply.is_closed());
                if state.queue.is_empty() {
                    state.running -= 1;
                    return;
                }
                let n = state.queue.len().min(MOST);
                state.queue.drain(..n).collect()
            };
            metrics::histogram!("scimd_store_create_group_size").record(group.len() as f64);
            self.write_group(group).await;
        }
    }

    /// Writes `group` with one statement; if it fails, each of its creates on its own.
    async fn write_group(&self, group: Vec<Queued>) {
        if group.len() > 1 {
            let creates: Vec<&Create> = group.iter().map(|q| &q.create).collect();
            if let Ok(written) = self.insert(&creates).await {
                for q in group {
                    let _ = q.reply.send(q.create.answer(&written));
                }
                return;
            }
        }
        for q in group {
            let answer = match self.insert(&[&q.create]).await {
                Ok(written) => q.create.answer(&written),
                Err(e) => Err(q.create.failed::<D>(e)),
            };
            let _ = q.reply.send(answer);
        }
    }

    /// Inserts `creates`, their activity rows, events and deliveries with one statement; the
    /// ids of the resources written.
    async fn insert(&self, creates: &[&Create]) -> Result<Vec<Uuid>, StoreError> {
        let mut conn = self.writer.acquire().await?;
        let rows = D::fetch_all(&mut conn, statement::<D>(creates)).await?;
        conn.done();
        rows.iter().map(|row| row.uuid("id")).collect()
    }
}

/// The statement that writes `creates`: the resources' rows, then from what they returned
/// the activity rows, the events and their deliveries (PostgreSQL's data-modifying `with`).
fn statement<D: Dialect>(creates: &[&Create]) -> Sql {
    let mut sql = Sql::new(
        "with written as (insert into resources (tenant_id, id, resource_type, version, \
         created, last_modified, name_key, external_id, active, doc, search, external_key, \
         email_key) values ",
    );
    for (i, c) in creates.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        let mut args = c.resource.iter().cloned();
        let head: Vec<Arg> = args.by_ref().take(3).collect();
        activity::push_list(&mut sql, head);
        let created = args.next().unwrap_or(Arg::OptInstant(None));
        sql.push(", 1, ").push_bind(created.clone()).push(", ");
        sql.push_bind(created).push(", ");
        activity::push_list(&mut sql, args.collect());
        sql.push(")");
    }
    sql.push(&format!(
        " returning {RESOURCE_COLUMNS}), logged as (insert into activity ({}) values ",
        activity::COLUMNS
    ));
    for (i, c) in creates.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        activity::push_list(&mut sql, c.activity.clone());
        sql.push(")");
    }
    sql.push(")");
    let events = creates.iter().filter_map(|c| c.event.clone()).collect();
    outbox::extend_batch::<D>(&mut sql, events);
    sql.push(" select id from written");
    sql
}
