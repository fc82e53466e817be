//! Turns on the long reads' connections, waited for in async code: a long read that waits
//! holds no thread, and one whose request goes away stops waiting.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{ApiError, ApiResult};
use crate::prometheus;

/// As many turns as a pool has connections.
#[derive(Clone)]
pub(super) struct Turns(Arc<Semaphore>);

impl Turns {
    pub(super) fn new(connections: u32) -> Self {
        Self(Arc::new(Semaphore::new(connections as usize)))
    }

    /// A turn, waiting at most `wait` for one (503 `database_unavailable` after that, as the
    /// requests' pool answers when it stays busy). A caller waiting is counted in `waiting`, until it has its turn
    /// or stops waiting (its request went away).
    pub(super) async fn take(
        &self,
        wait: Duration,
        waiting: &AtomicU64,
    ) -> ApiResult<OwnedSemaphorePermit> {
        if let Ok(turn) = self.0.clone().try_acquire_owned() {
            return Ok(turn);
        }
        let _counted = Counted::new(waiting);
        match actix_web::rt::time::timeout(wait, self.0.clone().acquire_owned()).await {
            Ok(Ok(turn)) => Ok(turn),
            // The semaphore is never closed: only the wait can end without a turn.
            Ok(Err(_)) | Err(_) => {
                metrics::counter!(prometheus::POOL_TIMEOUTS).increment(1);
                Err(ApiError::DatabaseUnavailable(
                    "every database connection stayed busy".into(),
                ))
            }
        }
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
