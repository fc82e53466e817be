//! The connection pool's parts: how a node pools its connections, the connection it hands out
//! (and drops once lost), and whether the database is reachable, as the pool and the work on
//! its connections find out.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection};

use super::{DatabaseUrl, DbConnection};
use crate::error::ApiError;
use crate::prometheus;

/// How often a wait for a connection looks again at whether the database is lost, so that a
/// wait that began while it seemed reachable ends as soon as it is found not to be.
pub(super) const LOST_RECHECK: Duration = Duration::from_millis(250);

/// A wait for a connection that ended without one: 503 `database_unavailable`, counted.
pub(super) fn no_connection(cause: impl Into<String>) -> ApiError {
    metrics::counter!(prometheus::POOL_TIMEOUTS).increment(1);
    ApiError::DatabaseUnavailable(cause.into())
}

/// How a node uses its database connections.
#[derive(Debug, Clone, Copy)]
pub struct Pooling {
    /// Connections in the pool.
    pub size: u32,
    /// Connections beside the pool for the long reads (exports, packs, insights), opened when
    /// one runs and closed after a minute unused.
    pub long_reads: u32,
    /// Whether PostgreSQL statements are prepared by name and kept (see
    /// [`DatabaseUrl::establish`]).
    pub prepared_statements: bool,
}

impl Pooling {
    /// The same, with `size` connections (the command line needs one).
    pub fn sized(self, size: u32) -> Self {
        Self { size, ..self }
    }

    /// The pool's size when none is configured, for a machine with `cores`. SQLite's reads run
    /// in this process, on its cores: a connection more than the cores only switches threads,
    /// and maps the database file once more (RSS counts its pages once for each connection
    /// that touched them). A PostgreSQL connection waits for the server about as long as it
    /// works, so twice the cores keep them busy; more only queue inside the server, each
    /// request's thread and backend switched in and out (on 2 cores, 10 connections raised
    /// fewer concerns a second than 4, at a longer p99). Never more than 10, the fixed size it
    /// was, so a node on a large machine does not open more of the server's connections than
    /// it used to (the pool opens all of them at start).
    pub fn default_size(url: &DatabaseUrl, cores: usize) -> u32 {
        let cores = u32::try_from(cores).unwrap_or(u32::MAX);
        match url {
            DatabaseUrl::Sqlite(_) => cores.max(2),
            DatabaseUrl::Postgres(_) => cores.saturating_mul(2).clamp(4, 10),
        }
    }
}

/// A pooled connection, and whether it was lost while in use (the server went away), so the
/// pool drops it instead of handing it out again: diesel finds a PostgreSQL connection broken
/// only when a transaction on it could not be closed. A connection opened before the last
/// outage (an older `outage`) is dropped unused: the server that knew it has gone.
pub struct Pooled {
    conn: DbConnection,
    pub(super) lost: bool,
    pub(super) outage: u64,
}

impl Deref for Pooled {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

/// Opens connections for the pool by the URL's scheme, with the SQLite settings on each.
pub struct ConnectionManager {
    pub(super) url: DatabaseUrl,
    pub(super) prepared_statements: bool,
    pub(super) reachability: Arc<Reachability>,
}

impl ManageConnection for ConnectionManager {
    type Connection = Pooled;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Pooled, r2d2::Error> {
        let conn = self
            .url
            .establish(self.prepared_statements)
            .map_err(r2d2::Error::ConnectionError)?;
        Ok(Pooled {
            conn,
            lost: false,
            outage: self.reachability.outages(),
        })
    }

    fn is_valid(&self, conn: &mut Pooled) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Pooled) -> bool {
        conn.lost || <DbConnection as r2d2::R2D2Connection>::is_broken(&mut conn.conn)
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;

/// Whether this node can reach its database, as it last found out. While it cannot, requests
/// that find no idle connection answer 503 (`database_unavailable`) at once, instead of each
/// waiting out the pool's timeout, while the pool keeps trying to reconnect in the background.
#[derive(Debug, Default)]
pub(super) struct Reachability {
    lost: AtomicBool,
    /// Connections lost under work so far: the connections opened before the last loss are
    /// stale (the server that knew them has gone).
    outages: AtomicU64,
    /// When work on a connection last succeeded, in milliseconds since this process's first
    /// look at the clock, plus one (0: never).
    answered_at: AtomicU64,
    /// Requests waiting for a connection now.
    pub(super) waiting: AtomicU64,
}

impl Reachability {
    pub(super) fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }

    pub(super) fn outages(&self) -> u64 {
        self.outages.load(Ordering::Relaxed)
    }

    /// The database does not answer (a connection could not be opened): said in the log once
    /// per outage, not once per failed request. The connections in the pool may still work.
    pub(super) fn lose(&self, cause: &dyn std::fmt::Display) {
        if !self.lost.swap(true, Ordering::Relaxed) {
            log::warn!("the database is unavailable: {cause}");
        }
    }

    /// A connection opened after outage `opened_after` was lost under work: the server has
    /// gone, and every connection opened before is stale. A connection already stale when it
    /// failed (a query that hung on a vanished server) starts no new outage.
    pub(super) fn lose_connection(&self, opened_after: u64, cause: &dyn std::fmt::Display) {
        let next = opened_after + 1;
        let current =
            self.outages
                .compare_exchange(opened_after, next, Ordering::Relaxed, Ordering::Relaxed);
        if current.is_ok() {
            self.lose(cause);
        }
    }

    /// Counts one caller as waiting for a connection, for as long as the guard lives (a
    /// request that goes away mid-wait included).
    pub(super) fn one_waiting(&self) -> Waiting<'_> {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        Waiting(&self.waiting)
    }

    pub(super) fn regain(&self) {
        if self.lost.swap(false, Ordering::Relaxed) {
            log::info!("the database is reachable again");
        }
    }

    pub(super) fn answered(&self) {
        self.regain();
        self.answered_at.store(now_millis() + 1, Ordering::Relaxed);
    }

    /// Whether work succeeded within `within` and nothing failed since.
    pub(super) fn answered_within(&self, within: Duration) -> bool {
        let answered_at = self.answered_at.load(Ordering::Relaxed);
        let since = (now_millis() + 1).saturating_sub(answered_at);
        answered_at > 0 && !self.is_lost() && u128::from(since) < within.as_millis()
    }
}

/// One caller counted as waiting for a connection (see [`Reachability::one_waiting`]).
pub(super) struct Waiting<'a>(&'a AtomicU64);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Milliseconds on a clock that never steps back (the process's own).
fn now_millis() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis() as u64
}

/// The pool's failures to connect mark the database lost; a new connection marks it reachable.
#[derive(Debug)]
pub(super) struct PoolEvents(pub(super) Arc<Reachability>);

impl r2d2::HandleError<r2d2::Error> for PoolEvents {
    fn handle_error(&self, error: r2d2::Error) {
        self.0.lose(&error);
    }
}

impl r2d2::HandleEvent for PoolEvents {
    fn handle_acquire(&self, _: r2d2::event::AcquireEvent) {
        self.0.regain();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_pool_follows_the_cores() {
        let sqlite = DatabaseUrl::Sqlite("careloop.db".into());
        let postgres = DatabaseUrl::Postgres("postgres://localhost/careloop".into());
        assert_eq!(Pooling::default_size(&sqlite, 1), 2);
        assert_eq!(Pooling::default_size(&sqlite, 8), 8);
        assert_eq!(Pooling::default_size(&postgres, 1), 4);
        assert_eq!(Pooling::default_size(&postgres, 2), 4);
        assert_eq!(Pooling::default_size(&postgres, 4), 8);
        assert_eq!(Pooling::default_size(&postgres, 64), 10);
    }

    #[test]
    fn a_failed_connect_loses_the_database_but_keeps_its_connections() {
        let reachability = Reachability::default();
        reachability.lose(&"connection refused");
        assert!(reachability.is_lost());
        assert_eq!(
            reachability.outages(),
            0,
            "the pool's connections are not stale"
        );
        reachability.regain();
        assert!(!reachability.is_lost());
    }

    #[test]
    fn a_connection_lost_under_work_makes_the_older_ones_stale_once() {
        let reachability = Reachability::default();
        reachability.lose_connection(0, &"server closed the connection");
        assert!(reachability.is_lost());
        assert_eq!(reachability.outages(), 1);
        // Another connection of the same age failing is the same outage.
        reachability.lose_connection(0, &"server closed the connection");
        assert_eq!(reachability.outages(), 1);
        // Back again; a query that hung on the vanished server fails late: no new outage.
        reachability.answered();
        reachability.lose_connection(0, &"timed out");
        assert_eq!(reachability.outages(), 1);
        assert!(!reachability.is_lost());
    }

    #[test]
    fn readiness_trusts_only_recent_work_and_never_a_lost_database() {
        let reachability = Reachability::default();
        let within = Duration::from_secs(2);
        assert!(
            !reachability.answered_within(within),
            "nothing answered yet"
        );
        reachability.answered();
        assert!(reachability.answered_within(within));
        assert!(!reachability.answered_within(Duration::ZERO));
        reachability.lose(&"connection refused");
        assert!(!reachability.answered_within(within));
    }
}
