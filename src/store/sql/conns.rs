//! Connections lent without sqlx's round trip on return. sqlx checks every connection that goes
//! back to its pool with a query of its own (`/* SQLx ping */`), because a request that was
//! dropped mid-statement can leave it half-read: one extra round trip per request, which the
//! database and this process both pay. A [`Lease`] whose statement finished — its holder says
//! so with [`Lease::done`] — goes onto a shelf instead, where the next `acquire` takes it as it
//! is; a lease dropped any other way (an error, a request that gave up, a transaction) goes
//! back through sqlx's pool and its check, as before.
//!
//! The shelf never keeps a connection from someone waiting for one: a connection returns
//! through the pool while any `acquire`, `begin_write` or `migrate` of this store waits there,
//! every [`ROUNDS`]th return goes through it anyway (for waiters of the pool's own, such as the
//! token listener), and one shelved longer than [`FRESH`] is checked by the pool again before
//! use, so that a restarted server or a dropped link shows there and not in a request.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Pool, Transaction};

use crate::store::StoreError;
use crate::store::dialect::{Conn, Dialect};

/// How long a connection may sit on the shelf and still be lent without the pool's check
/// (on PostgreSQL the pool checks a connection idle for as long before lending it:
/// `postgres::IDLE_CHECK`).
const FRESH: Duration = Duration::from_secs(1);
/// Returns a connection makes to the shelf before one goes through the pool.
const ROUNDS: u32 = 32;

/// A pool, and the shelf of connections returned to it clean.
pub(super) struct Conns<D: Dialect> {
    inner: Arc<Inner<D>>,
}

struct Inner<D: Dialect> {
    pool: Pool<D::Db>,
    shelf: Mutex<Shelf<D>>,
}

struct Shelf<D: Dialect> {
    /// Freshest last.
    idle: Vec<Shelved<D>>,
    /// Callers of this store waiting in the pool for a connection.
    waiting: usize,
}

struct Shelved<D: Dialect> {
    conn: PoolConnection<D::Db>,
    rounds: u32,
    since: Instant,
}

/// A connection lent by [`Conns`]: derefs to the database's connection. Dropped, it goes back
/// through the pool's check; [`Lease::done`] shelves it instead.
pub(super) struct Lease<'a, D: Dialect> {
    conn: PoolConnection<D::Db>,
    rounds: u32,
    home: &'a Conns<D>,
}

impl<D: Dialect> Clone for Conns<D> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<D: Dialect> Conns<D> {
    pub(super) fn new(pool: Pool<D::Db>) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                shelf: Mutex::new(Shelf {
                    idle: Vec::new(),
                    waiting: 0,
                }),
            }),
        }
    }

    /// Connections open, and of them those idle (in the pool or on the shelf).
    pub(super) fn stats(&self) -> (u32, usize) {
        let shelved = self.shelf().idle.len();
        (self.inner.pool.size(), self.inner.pool.num_idle() + shelved)
    }

    /// The most connections the pool opens.
    pub(super) fn max_connections(&self) -> u32 {
        self.inner.pool.options().get_max_connections()
    }

    /// A connection: the freshest shelved one, else one of the pool's.
    pub(super) async fn acquire(&self) -> Result<Lease<'_, D>, sqlx::Error> {
        let stale = {
            let mut shelf = self.shelf();
            let fresh = shelf
                .idle
                .last()
                .is_some_and(|top| top.since.elapsed() < FRESH);
            if fresh {
                if let Some(s) = shelf.idle.pop() {
                    return Ok(Lease {
                        conn: s.conn,
                        rounds: s.rounds,
                        home: self,
                    });
                }
            }
            // counted in the same turn of the lock as the shelf was found empty, so that no
            // connection is shelved while this caller waits in the pool for one
            shelf.waiting += 1;
            // the top is the freshest: all of them sat too long
            std::mem::take(&mut shelf.idle)
        };
        let _waiting = Waiting(self);
        // back through the pool, which checks them before lending them again
        drop(stale);
        let conn = self.inner.pool.acquire().await?;
        Ok(Lease {
            conn,
            rounds: 0,
            home: self,
        })
    }

    /// A transaction for a write. It takes its connection from the pool, so one shelved
    /// connection goes back there first: the pool may have no other to give.
    pub(super) async fn begin_write(&self) -> Result<Transaction<'static, D::Db>, StoreError> {
        let (_waiting, shelved) = self.wait_in_pool(1);
        drop(shelved);
        D::begin_write(&self.inner.pool).await
    }

    /// Runs the migrations, on a connection of the pool: every shelved one goes back there
    /// first (SQLite's writer pool has one connection).
    pub(super) async fn migrate(&self) -> Result<(), StoreError> {
        let (_waiting, shelved) = self.wait_in_pool(usize::MAX);
        drop(shelved);
        D::migrate(&self.inner.pool).await
    }

    /// Counts the caller as waiting in the pool (until the guard is dropped, so that every
    /// connection returned clean meanwhile goes there) and takes up to `n` shelved
    /// connections, freshest first, for the caller to send back there.
    fn wait_in_pool(&self, n: usize) -> (Waiting<'_, D>, Vec<Shelved<D>>) {
        let mut shelf = self.shelf();
        shelf.waiting += 1;
        let keep = shelf.idle.len().saturating_sub(n);
        let taken = shelf.idle.split_off(keep);
        drop(shelf);
        (Waiting(self), taken)
    }

    fn shelf(&self) -> MutexGuard<'_, Shelf<D>> {
        self.inner
            .shelf
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn shelve(&self, conn: PoolConnection<D::Db>, rounds: u32) {
        if rounds >= ROUNDS {
            return;
        }
        let mut shelf = self.shelf();
        if shelf.waiting == 0 {
            shelf.idle.push(Shelved {
                conn,
                rounds,
                since: Instant::now(),
            });
        }
        // otherwise `conn` goes back through the pool, after the shelf's lock is released
    }
}

/// A caller counted as waiting in the pool, until it has its connection or gives up.
struct Waiting<'a, D: Dialect>(&'a Conns<D>);

impl<D: Dialect> Drop for Waiting<'_, D> {
    fn drop(&mut self) {
        self.0.shelf().waiting -= 1;
    }
}

impl<D: Dialect> Lease<'_, D> {
    /// The statements run on this connection finished: it goes onto the shelf as it is.
    pub(super) fn done(self) {
        self.home.shelve(self.conn, self.rounds + 1);
    }

    /// The connection is closed when the lease is dropped, not lent again (its session's
    /// settings may be left changed).
    pub(super) fn close_on_drop(&mut self) {
        self.conn.close_on_drop();
    }
}

impl<D: Dialect> Deref for Lease<'_, D> {
    type Target = Conn<D>;

    fn deref(&self) -> &Conn<D> {
        &self.conn
    }
}

impl<D: Dialect> DerefMut for Lease<'_, D> {
    fn deref_mut(&mut self) -> &mut Conn<D> {
        &mut self.conn
    }
}

#[cfg(test)]
mod tests;
