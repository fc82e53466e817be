//! The database: one code path for SQLite and PostgreSQL through diesel's `MultiConnection`,
//! a pool, embedded migrations and the transaction helper every write goes through.

pub mod change_log;
mod checkpoint;
pub mod columns;
pub mod instance;
mod long_reads;
mod migrate;
mod pool;
pub mod schema;
mod sql;
mod writer;
mod writes;

pub use long_reads::as_one_snapshot;
use long_reads::LongReads;
use migrate::migrate;
use pool::{no_connection, PoolEvents, Reachability, LOST_RECHECK};
pub use pool::{ConnectionManager, Pool, Pooled, Pooling};
pub use sql::{
    columns_of, day_of_sql, epoch_sql, equal_to_any, exists, limited, period_start_sql, portable,
    Exists, Limit, Limited,
};
use writer::{begin_writing, lock, Writer, SQLITE_WRITERS};
pub(crate) use writes::insert_all;
pub use writes::{together, Writes};

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use anyhow::Context;

use diesel::connection::{CacheSize, SimpleConnection, TransactionManager};
use diesel::r2d2;
use diesel::{Connection, PgConnection, SqliteConnection};

use crate::error::{ApiError, ApiResult, UNIQUE_RACE};

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// The query backend of [`DbConnection`], for boxed queries.
pub type Backend = <DbConnection as Connection>::Backend;

/// Where the data lives, decided by the URL's scheme alone (never by trying each backend in
/// turn, which would hide the real connection error). `Debug` shows it without credentials.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Postgres(with_client_settings(url))
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            Self::Sqlite(path.to_owned())
        }
    }

    /// Which database this is, for a person, without credentials: the SQLite file's absolute
    /// path, or the PostgreSQL host and database.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => {
                let absolute = std::path::absolute(path).unwrap_or_else(|_| path.into());
                format!("the SQLite database {}", absolute.display())
            }
            Self::Postgres(url) => {
                let place = url.rsplit_once('@').map_or_else(
                    || url.split_once("://").map_or(url.as_str(), |(_, rest)| rest),
                    |(_, place)| place,
                );
                let place = place.split('?').next().unwrap_or_default();
                format!("the PostgreSQL database {place}")
            }
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// Opens a connection. Without `prepared_statements`, PostgreSQL statements are sent with
    /// their parameters in one message and never kept by name, as a pooler in transaction mode
    /// (PgBouncer before 1.21) needs: it hands each transaction to any server connection.
    pub fn establish(
        &self,
        prepared_statements: bool,
    ) -> Result<DbConnection, diesel::ConnectionError> {
        match self {
            Self::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)?;
                // The busy timeout comes first: it makes this connection wait for the pool's
                // others (switching to WAL takes a lock) and a second writer wait for the first,
                // instead of failing. WAL lets readers run beside the writer. Reads map the
                // file rather than copy each page from the kernel (the insights read tens of
                // thousands of rows). Temporary b-trees stay in memory: SQLite otherwise made,
                // and unlinked, a file for one every few writes. The writer's checkpointer
                // copies the log into the file; a commit does it only past ten times SQLite's
                // usual 1,000 frames, as a backstop (the log rewinds only when a write begins
                // with all of it copied, which under load a commit finds far more often than
                // another thread does).
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA mmap_size = 268435456; PRAGMA temp_store = MEMORY; \
                     PRAGMA wal_autocheckpoint = 10000;",
                )
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
            Self::Postgres(url) => {
                let mut conn = PgConnection::establish(url)?;
                if !prepared_statements {
                    conn.set_prepared_statement_cache_size(CacheSize::Disabled);
                }
                Ok(DbConnection::Pg(conn))
            }
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The connection that proves the database answers, with its real reason when it does not.
fn first_connection(url: &DatabaseUrl, pooling: Pooling) -> anyhow::Result<DbConnection> {
    url.establish(pooling.prepared_statements)
        .with_context(|| format!("cannot connect to the {} database", url.backend_name()))
}

/// libpq waits for an unreachable host for minutes by default, and never notices a server that
/// vanished without closing its connections: start-up must fail in seconds, and a query to a
/// vanished server must fail (503) rather than hang. Settings the URL gives are kept.
fn with_client_settings(url: &str) -> String {
    const CLIENT_SETTINGS: &[(&str, &str)] = &[
        ("connect_timeout", "5"),
        ("keepalives_idle", "10"),
        ("keepalives_interval", "3"),
        ("keepalives_count", "3"),
        ("tcp_user_timeout", "10000"),
    ];
    let mut url = url.to_owned();
    for (name, value) in CLIENT_SETTINGS {
        if !url.contains(&format!("{name}=")) {
            let joiner = if url.contains('?') { '&' } else { '?' };
            url = format!("{url}{joiner}{name}={value}");
        }
    }
    url
}

/// How long a request waits for a connection while the database is reachable (every
/// connection busy).
const BUSY_WAIT: Duration = Duration::from_secs(10);
/// Readiness answers within a second, whatever the database does.
const READY_WAIT: Duration = Duration::from_millis(900);
/// Work that succeeded this recently proves readiness without asking the database again (a
/// busy node stays ready; an outage is seen by the first failure).
const READY_IF_ANSWERED_WITHIN: Duration = Duration::from_secs(2);

/// The shared handle to the database: a pool whose connections are used on the blocking pool,
/// and beside it the long reads' connections, used on threads of their own.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// The long reads' connections, and turns on them: however many exports run, the requests
    /// beside them still find a connection and a thread.
    long_reads: LongReads,
    /// Counts this node's committed writes, so a long-polling feed reader wakes at once.
    committed: Arc<watch::Sender<u64>>,
    reachability: Arc<Reachability>,
    /// SQLite's writes, committed in groups (PostgreSQL's run side by side, each on its own
    /// pooled connection).
    writer: Option<Arc<Writer>>,
}

impl Db {
    /// Connects once directly, so an unreachable database fails start-up with its real reason,
    /// then builds the pool.
    pub fn connect(url: &DatabaseUrl, pooling: Pooling) -> anyhow::Result<Self> {
        first_connection(url, pooling)?;
        Ok(Self::pooled(url, pooling))
    }

    /// Connects and brings the schema up to date: all `careloop migrate` needs. On its first
    /// connection, before the pool opens any: a SQLite connection reads the planner's
    /// statistics with the schema, so the pool's read them as [`migrate`] leaves them.
    pub fn open(url: &DatabaseUrl, pooling: Pooling) -> anyhow::Result<Self> {
        let applied = migrate(&mut first_connection(url, pooling)?)?;
        if applied > 0 {
            log::info!(
                "applied {applied} migration(s) to the {} database",
                url.backend_name()
            );
        }
        Ok(Self::pooled(url, pooling))
    }

    /// Runs the pending migrations on a pooled connection.
    pub fn migrate(&self) -> anyhow::Result<usize> {
        let mut conn = self.get()?;
        migrate(&mut conn)
    }

    fn pooled(url: &DatabaseUrl, pooling: Pooling) -> Self {
        let reachability = Arc::<Reachability>::default();
        let pool = |builder: r2d2::Builder<ConnectionManager>| {
            builder
                // No `SELECT 1` before each request: a connection that broke is found by its
                // error (`has_broken`) and replaced.
                .test_on_check_out(false)
                // Also the longest pause between attempts to reconnect (half of it), so a
                // database that comes back is used again within half a second.
                .connection_timeout(Duration::from_secs(1))
                .error_handler(Box::new(PoolEvents(reachability.clone())))
                .event_handler(Box::new(PoolEvents(reachability.clone())))
                // The connection above proved the database answers; the pool fills in the
                // background instead of holding start-up for its connection timeout.
                .build_unchecked(ConnectionManager {
                    url: url.clone(),
                    prepared_statements: pooling.prepared_statements,
                    reachability: reachability.clone(),
                })
        };
        let writer =
            matches!(url, DatabaseUrl::Sqlite(_)).then(|| Arc::new(Writer::new(url.clone())));
        Self {
            pool: pool(r2d2::Pool::builder().max_size(pooling.size)),
            long_reads: LongReads::new(pooling.long_reads, pool),
            committed: Arc::new(watch::channel(0).0),
            reachability,
            writer,
        }
    }

    /// Runs blocking database work on actix's blocking pool.
    pub async fn run<T, F>(&self, work: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.run_waiting(BUSY_WAIT, work).await
    }

    /// [`Db::run`], waiting at most `wait` for a connection.
    async fn run_waiting<T, F>(&self, wait: Duration, work: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        // While the database is away, no request queues for a blocking thread only to be told so.
        self.unless_lost()?;
        let db = self.clone();
        actix_web::web::block(move || db.with_connection(&db.pool, wait, work)).await?
    }

    /// 503 at once while the database is lost and the pool holds no connection at all.
    fn unless_lost(&self) -> ApiResult<()> {
        if self.reachability.is_lost() && self.pool.state().connections == 0 {
            return Err(no_connection("no connection to the database"));
        }
        Ok(())
    }

    /// Runs `work` on a pooled connection, waiting for one at most `wait`. A connection the
    /// server dropped under the work marks the database lost and leaves the pool; work that
    /// succeeds marks it reachable.
    fn with_connection<T>(
        &self,
        pool: &Pool,
        wait: Duration,
        work: impl FnOnce(&mut DbConnection) -> ApiResult<T>,
    ) -> ApiResult<T> {
        let mut conn = self.checkout(pool, wait)?;
        let done = work(&mut conn);
        match &done {
            Err(ApiError::DatabaseUnavailable(cause)) => {
                conn.lost = true;
                self.reachability.lose_connection(conn.outage, cause);
            }
            Err(_) => {}
            Ok(_) => self.reachability.answered(),
        }
        done
    }

    /// A connection from the pool opened since the last outage, waiting at most `wait` for one
    /// while the database is reachable, and at most a moment while it is lost.
    fn checkout(
        &self,
        pool: &Pool,
        wait: Duration,
    ) -> ApiResult<r2d2::PooledConnection<ConnectionManager>> {
        let started = Instant::now();
        let mut waiting = None;
        loop {
            let lost = self.reachability.is_lost();
            let nothing_in_use = lost && {
                let state = pool.state();
                state.connections == state.idle_connections
            };
            let got = if nothing_in_use {
                // Lost, and no connection in use to come back: an idle one, or none.
                pool.try_get()
                    .ok_or_else(|| "no connection to the database".to_owned())
            } else {
                // In slices (see `LOST_RECHECK`). While it is lost, the connections in use may
                // come back (the server may be refusing only new ones, at its limit, say).
                let left = wait.saturating_sub(started.elapsed());
                let slice = LOST_RECHECK.min(left);
                pool.get_timeout(slice).map_err(|error| error.to_string())
            };
            match got {
                Ok(mut conn) if conn.outage < self.reachability.outages() => conn.lost = true,
                Ok(conn) => return Ok(conn),
                Err(cause) if self.reachability.is_lost() || started.elapsed() >= wait => {
                    return Err(no_connection(cause));
                }
                Err(_) => _ = waiting.get_or_insert_with(|| self.reachability.one_waiting()),
            }
        }
    }

    /// Like [`Db::run`], inside one write transaction. On SQLite the work joins the next group
    /// of writes (see [`writer`]). A write that lost a race for a unique value (two creates of
    /// one `external_ref` on PostgreSQL) runs once more: its own checks then see the winner's
    /// commit and answer as they would have (409 naming the holder).
    pub async fn write<T, F>(&self, work: F) -> ApiResult<T>
    where
        F: Fn(&mut DbConnection) -> ApiResult<T> + Send + Sync + 'static,
        T: Send + 'static,
    {
        let written = match &self.writer {
            Some(writer) => {
                let written = writer.write(work).await?;
                self.reachability.answered();
                written
            }
            None => {
                self.run(move |conn| match write_transaction(conn, &work) {
                    Err(ApiError::Conflict {
                        code: UNIQUE_RACE, ..
                    }) => write_transaction(conn, &work),
                    other => other,
                })
                .await?
            }
        };
        self.committed
            .send_modify(|count| *count = count.wrapping_add(1));
        Ok(written)
    }

    /// Wakes at this node's next committed write (writes on other nodes are not seen).
    pub fn watch_writes(&self) -> watch::Receiver<u64> {
        self.committed.subscribe()
    }

    /// Readiness: work on the database succeeded in the last two seconds, or it answers a
    /// query within a second.
    pub async fn ping(&self) -> ApiResult<()> {
        if self.reachability.answered_within(READY_IF_ANSWERED_WITHIN) {
            return Ok(());
        }
        let ping = self.run_waiting(READY_WAIT, |conn| Ok(conn.batch_execute("SELECT 1")?));
        // A server that stopped answering without closing its connections holds the query.
        match actix_web::rt::time::timeout(READY_WAIT, ping).await {
            Ok(answer) => answer,
            Err(_) => Err(ApiError::DatabaseUnavailable(
                "the database did not answer within a second".into(),
            )),
        }
    }

    /// How many connections the pool holds, and how many of them are idle.
    pub fn pool_state(&self) -> r2d2::State {
        self.pool.state()
    }

    /// Whether this node reaches its database, as it last found out.
    pub fn is_reachable(&self) -> bool {
        !self.reachability.is_lost()
    }

    /// Requests waiting for a pooled connection now.
    pub fn waiting(&self) -> u64 {
        self.reachability.waiting.load(Ordering::Relaxed)
    }

    /// A connection for blocking callers outside a request (the command line, start-up).
    pub fn get(&self) -> ApiResult<r2d2::PooledConnection<ConnectionManager>> {
        self.checkout(&self.pool, BUSY_WAIT)
    }
}

/// Runs `work` in a write transaction (see [`writer::begin_writing`]), on SQLite in this
/// process's writers' turn.
pub fn write_transaction<T, F>(conn: &mut DbConnection, work: F) -> ApiResult<T>
where
    F: FnOnce(&mut DbConnection) -> ApiResult<T>,
{
    let _turn = matches!(conn, DbConnection::Sqlite(_)).then(|| lock(&SQLITE_WRITERS));
    begin_writing(conn)?;
    work(conn)
        .and_then(|value| {
            DbConnection::commit_transaction(conn)?;
            Ok(value)
        })
        .inspect_err(|error| {
            // A failed commit has ended the transaction already: nothing is left to roll back.
            let rolled_back =
                match DbConnection::transaction_manager_status_mut(conn).transaction_depth() {
                    Ok(None) => Ok(()),
                    _ => DbConnection::rollback_transaction(conn),
                };
            // A lost connection cannot roll back (the server already has): the outage is
            // logged once, elsewhere.
            if let (Err(rollback), false) = (
                rolled_back,
                matches!(error, ApiError::DatabaseUnavailable(_)),
            ) {
                log::error!("rollback failed: {rollback}");
            }
        })
}

#[cfg(test)]
mod tests;
