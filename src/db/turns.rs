//! Turns on the long reads' connections, waited for in async code: a long read that waits
//! holds no thread, and one whose request goes away stops waiting.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::pool::Reachability;
use crate::error::{ApiError, ApiResult};
use crate::prometheus;

/// How often a wait looks again at whether the database is lost.
const SLICE: Duration = Duration::from_millis(250);

/// As many turns as a pool has connections.
#[derive(Clone)]
pub(super) struct Turns(Arc<Semaphore>);

impl Turns {
    pub(super) fn new(connections: u32) -> Self {
        Self(Arc::new(Semaphore::new(connections as usize)))
    }

    /// A turn, waiting at most `wait` for one (503 `database_unavailable` after that, as the
    /// requests' pool answers when it stays busy), or until the database is found lost. A
    /// caller waiting is counted in `reachability.waiting`, until it has its turn or stops
    /// waiting (its request went away).
    pub(super) async fn take(
        &self,
        wait: Duration,
        reachability: &Reachability,
    ) -> ApiResult<OwnedSemaphorePermit> {
        if let Ok(turn) = self.0.clone().try_acquire_owned() {
            return Ok(turn);
        }
        let _counted = Counted::new(&reachability.waiting);
        let started = Instant::now();
        // In slices, so that a wait that began while the database seemed reachable ends as
        // soon as it is found not to be.
        while !reachability.is_lost() && started.elapsed() < wait {
            let slice = SLICE.min(wait.saturating_sub(started.elapsed()));
            let turn = actix_web::rt::time::timeout(slice, self.0.clone().acquire_owned());
            // The semaphore is never closed: only the wait can end without a turn.
            if let Ok(Ok(turn)) = turn.await {
                return Ok(turn);
            }
        }
        metrics::counter!(prometheus::POOL_TIMEOUTS).increment(1);
        let cause = if reachability.is_lost() {
            "the database is unavailable"
        } else {
            "every database connection stayed busy"
        };
        Err(ApiError::DatabaseUnavailable(cause.into()))
    }
}

/// One caller counted as waiting, for as long as this lives.
struct Counted<'a>(&'a AtomicU64);

impl<'a> Counted<'a> {
    fn new(waiting: &'a AtomicU64) -> Self {
        waiting.fetch_add(1, Ordering::Relaxed);
        Self(waiting)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
