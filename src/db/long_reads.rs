//! The long reads (CSV exports, the packs, insights): connections and threads of their own,
//! so that however long they take, the everyday requests beside them keep theirs. Their turns
//! are waited for in async code: a long read that waits holds no thread, and one whose
//! request goes away stops waiting.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use diesel::connection::SimpleConnection;
use diesel::r2d2;
use diesel::Connection;

use super::pool::{no_connection, Reachability, LOST_RECHECK};
use super::{ConnectionManager, Db, DbConnection, Pool, BUSY_WAIT};
use crate::error::{ApiError, ApiResult};

/// How long a long read waits for its turn: behind others that may each take seconds.
const LONG_READ_WAIT: Duration = Duration::from_secs(60);

impl Db {
    /// Runs a read that covers much of an organisation (an export's page, a pack, the
    /// insights) on a connection and a thread of the long reads' own, so that the everyday
    /// requests beside it keep their connections and threads however long it takes. Long reads
    /// beyond the connections for them wait for a turn, at most [`LONG_READ_WAIT`].
    pub async fn run_long<T, F>(&self, work: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConnection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.unless_lost()?;
        let long_reads = &self.long_reads;
        let turn = long_reads
            .turns
            .take(LONG_READ_WAIT, &self.reachability)
            .await?;
        let db = self.clone();
        let (answer, answered) = tokio::sync::oneshot::channel();
        // A thread for each: a long read takes far longer than starting one.
        std::thread::Builder::new()
            .name("careloop-long-read".into())
            .spawn(move || {
                let done = db.with_connection(&db.long_reads.pool, BUSY_WAIT, work);
                drop(turn);
                // The request may have gone; its answer goes with it.
                let _ = answer.send(done);
            })
            .map_err(ApiError::internal)?;
        answered
            .await
            .map_err(|_| ApiError::internal("a long read ended without an answer"))?
    }
}

/// Runs `read` as one read-only transaction, so that everything it reads, page after page and
/// list after list, is the database as it stood when it began: a long read that reads some
/// records twice (the pack's plans, for their actions) agrees with itself whatever is written
/// meanwhile. A SQLite transaction reads one snapshot; PostgreSQL's needs `REPEATABLE READ`.
pub fn as_one_snapshot<T>(
    conn: &mut DbConnection,
    read: impl FnOnce(&mut DbConnection) -> ApiResult<T>,
) -> ApiResult<T> {
    conn.transaction(|conn| {
        if let DbConnection::Pg(pg) = conn {
            pg.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        read(conn)
    })
}

/// The long reads' connections, and a turn for each.
#[derive(Clone)]
pub(super) struct LongReads {
    pool: Pool,
    turns: Turns,
}

impl LongReads {
    /// `connections` of them, built by `pool` as the requests' are, but opened when a long read
    /// runs and closed after a minute unused: on SQLite each maps the pages of the database
    /// file it read.
    pub(super) fn new(
        connections: u32,
        pool: impl FnOnce(r2d2::Builder<ConnectionManager>) -> Pool,
    ) -> Self {
        let pool = pool(
            r2d2::Pool::builder()
                .max_size(connections)
                .min_idle(Some(0))
                .idle_timeout(Some(Duration::from_secs(60))),
        );
        Self {
            pool,
            turns: Turns::new(connections),
        }
    }
}

/// As many turns as a pool has connections.
#[derive(Clone)]
struct Turns(Arc<Semaphore>);

impl Turns {
    fn new(connections: u32) -> Self {
        Self(Arc::new(Semaphore::new(connections as usize)))
    }

    /// A turn, waiting at most `wait` for one (503 `database_unavailable` after that, as the
    /// requests' pool answers when it stays busy), or until the database is found lost. A
    /// caller waiting is counted in `reachability.waiting`, until it has its turn or stops
    /// waiting (its request went away).
    async fn take(
        &self,
        wait: Duration,
        reachability: &Reachability,
    ) -> ApiResult<OwnedSemaphorePermit> {
        if let Ok(turn) = self.0.clone().try_acquire_owned() {
            return Ok(turn);
        }
        let _waiting = reachability.one_waiting();
        let started = Instant::now();
        // In slices (see `LOST_RECHECK`).
        while !reachability.is_lost() && started.elapsed() < wait {
            let slice = LOST_RECHECK.min(wait.saturating_sub(started.elapsed()));
            let turn = actix_web::rt::time::timeout(slice, self.0.clone().acquire_owned());
            // The semaphore is never closed: only the wait can end without a turn.
            if let Ok(Ok(turn)) = turn.await {
                return Ok(turn);
            }
        }
        Err(no_connection(if reachability.is_lost() {
            "the database is unavailable"
        } else {
            "every database connection stayed busy"
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    #[actix_web::test]
    async fn a_wait_for_a_turn_ends_when_the_database_is_found_lost() {
        let (turns, reachability) = (Turns::new(1), Reachability::default());
        let wait = Duration::from_secs(60);
        let _held = turns.take(wait, &reachability).await.expect("a free turn");
        let waiting = turns.take(wait, &reachability);
        let lose = async {
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
            assert_eq!(reachability.waiting.load(Ordering::Relaxed), 1);
            reachability.lose(&"connection refused");
        };
        let started = Instant::now();
        let (waited, ()) = futures_util::join!(waiting, lose);
        assert!(matches!(waited, Err(ApiError::DatabaseUnavailable(_))));
        assert!(started.elapsed() < Duration::from_secs(2), "ended at once");
        assert_eq!(reachability.waiting.load(Ordering::Relaxed), 0);
    }

    #[actix_web::test]
    async fn a_turn_given_back_goes_to_the_caller_waiting() {
        let (turns, reachability) = (Turns::new(1), Reachability::default());
        let wait = Duration::from_secs(60);
        let held = turns.take(wait, &reachability).await.expect("a free turn");
        let waiting = turns.take(wait, &reachability);
        let give_back = async {
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
            drop(held);
        };
        let (waited, ()) = futures_util::join!(waiting, give_back);
        assert!(waited.is_ok());
        assert_eq!(reachability.waiting.load(Ordering::Relaxed), 0);
    }
}
