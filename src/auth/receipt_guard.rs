use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{ApiError, ApiResult};

const WINDOW: Duration = Duration::from_secs(60);
/// Past this many tracked addresses, expired windows are swept so memory stays bounded.
const SWEEP_AT: usize = 10_000;

/// Counts wrong receipt codes per client address in a one-minute window. Codes carry 128 bits,
/// so guessing is hopeless anyway; this stops anyone trying. Kept in memory: each node limits
/// on its own, and addresses are never stored or logged.
pub struct ReceiptGuard {
    limit: u32,
    failures: Mutex<HashMap<Option<IpAddr>, (Instant, u32)>>,
}

impl ReceiptGuard {
    pub fn new(failures_per_minute: u32) -> Self {
        Self {
            limit: failures_per_minute,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// 429 while the address has used up its failures for the window.
    pub fn check(&self, client: Option<IpAddr>) -> ApiResult<()> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match failures.get(&client) {
            Some((start, count)) if *count >= self.limit && start.elapsed() < WINDOW => {
                Err(ApiError::TooManyRequests {
                    retry_after_secs: (WINDOW - start.elapsed()).as_secs().max(1),
                })
            }
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, client: Option<IpAddr>) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= SWEEP_AT {
            failures.retain(|_, (start, _)| start.elapsed() < WINDOW);
        }
        let entry = failures.entry(client).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_failures_per_address() {
        let guard = ReceiptGuard::new(2);
        let one = Some(IpAddr::from([127, 0, 0, 1]));
        let two = Some(IpAddr::from([127, 0, 0, 2]));
        guard.record_failure(one);
        assert!(guard.check(one).is_ok());
        guard.record_failure(one);
        assert!(matches!(
            guard.check(one),
            Err(ApiError::TooManyRequests { .. })
        ));
        assert!(guard.check(two).is_ok());
    }
}
