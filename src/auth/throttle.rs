//! Per-subject rate limits, counted in memory on each node: each token subject may make
//! `per_minute` requests in each minute-long window that starts with its first request.
//! Answers carry the IETF httpapi draft's `RateLimit-Policy` and `RateLimit` headers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);

/// Where a subject stands in its window, for the headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window resets.
    pub resets_in: u64,
}

impl Standing {
    /// `RateLimit-Policy`: the quota and its window, in seconds.
    pub fn policy(&self) -> String {
        format!("\"default\";q={};w={}", self.limit, WINDOW.as_secs())
    }

    /// `RateLimit`: what is left and when the window resets.
    pub fn state(&self) -> String {
        format!("\"default\";r={};t={}", self.remaining, self.resets_in)
    }
}

#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::default(),
        }
    }

    /// Counts a request by `subject`: its standing, and whether it is within the limit.
    pub fn take(&self, subject: &str) -> (Standing, bool) {
        self.take_at(subject, Instant::now())
    }

    fn take_at(&self, subject: &str, now: Instant) -> (Standing, bool) {
        let Ok(mut windows) = self.windows.lock() else {
            // A poisoned lock is a bug elsewhere; never refuse service because of it.
            return (self.standing(self.per_minute, WINDOW), true);
        };
        if windows.len() > 100_000 {
            windows.retain(|_, (started, _)| now.duration_since(*started) < WINDOW);
        }
        // A known subject costs no allocation.
        if !windows.contains_key(subject) {
            windows.insert(subject.to_owned(), (now, 0));
        }
        let Some((started, used)) = windows.get_mut(subject) else {
            return (self.standing(self.per_minute, WINDOW), true);
        };
        if now.duration_since(*started) >= WINDOW {
            (*started, *used) = (now, 0);
        }
        let allowed = *used < self.per_minute;
        if allowed {
            *used += 1;
        }
        let left = WINDOW.saturating_sub(now.duration_since(*started));
        (self.standing(self.per_minute - *used, left), allowed)
    }

    fn standing(&self, remaining: u32, left: Duration) -> Standing {
        Standing {
            limit: self.per_minute,
            remaining,
            // Rounded up: a client that waits this long finds a fresh window.
            resets_in: left.as_secs() + u64::from(left.subsec_nanos() > 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_gets_its_quota_per_window_and_no_more() {
        let limiter = RateLimiter::new(2);
        let start = Instant::now();
        let (first, ok) = limiter.take_at("a", start);
        assert!(ok);
        assert_eq!((first.remaining, first.resets_in), (1, 60));
        assert!(limiter.take_at("a", start).1);
        let (refused, ok) = limiter.take_at("a", start + Duration::from_secs(20));
        assert!(!ok);
        assert_eq!((refused.remaining, refused.resets_in), (0, 40));
        // Another subject has its own quota; a new window starts afresh.
        assert!(limiter.take_at("b", start).1);
        assert!(limiter.take_at("a", start + WINDOW).1);
        assert_eq!(first.policy(), "\"default\";q=2;w=60");
        assert_eq!(refused.state(), "\"default\";r=0;t=40");
    }
}
