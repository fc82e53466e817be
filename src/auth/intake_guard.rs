//! What keeps the public intake points' doors open to people and shut to scripts, without
//! tracking anyone: the form token's key and the minimum time to fill a form in, and rate limits
//! per door and per client address (by the trusted-proxy rule; counted in memory, per node,
//! never stored or logged).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::HttpRequest;

use super::{RateLimiter, Standing};
use crate::domain::intake::{check_form_token, form_token, FORM_VALID_SECONDS};
use crate::http::client_address::{network, TrustedProxies};

/// How many sent forms a node remembers at most (each for as long as its token works).
const MOST_REMEMBERED: usize = 100_000;

pub struct IntakeGuard {
    /// The key form tokens are signed with (kept in the database, the same on every node).
    form_secret: Vec<u8>,
    /// The fewest seconds between serving a form and taking its submission.
    pub min_seconds: i64,
    per_address: RateLimiter,
    per_point: RateLimiter,
    proxies: TrustedProxies,
    /// The tokens of the forms taken, while they would still work: a form is taken once.
    sent: Mutex<HashMap<String, Instant>>,
}

impl IntakeGuard {
    pub fn new(
        form_secret: Vec<u8>,
        min_seconds: u32,
        (per_address, per_point): (u32, u32),
        proxies: TrustedProxies,
    ) -> Self {
        Self {
            form_secret,
            min_seconds: i64::from(min_seconds),
            per_address: RateLimiter::new(per_address),
            per_point: RateLimiter::new(per_point),
            proxies,
            sent: Mutex::default(),
        }
    }

    /// A token for the form of the door `slug`, served now.
    pub fn new_form_token(&self, slug: &str) -> String {
        form_token(&self.form_secret, slug, chrono::Utc::now().timestamp())
    }

    /// Takes the form a submission to the door `slug` came with, or says why not: the token
    /// must be one careloop made for this door, at least the minimum time and at most two hours
    /// ago, and not taken before.
    pub fn take_form(&self, slug: &str, token: &str) -> Result<(), &'static str> {
        let now = chrono::Utc::now().timestamp();
        check_form_token(&self.form_secret, slug, token, now, self.min_seconds)
            .map_err(|refused| refused.message())?;
        if self.first_use(token) {
            Ok(())
        } else {
            Err("this form has been sent already: reload the page to send another")
        }
    }

    /// Whether a form's token is sent for the first time (and remembers it): a form is taken
    /// once, so a double click or a replayed token stores nothing twice. Remembered per node,
    /// for as long as the token works, and a bounded number of them.
    fn first_use(&self, token: &str) -> bool {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        let lifetime = Duration::from_secs(FORM_VALID_SECONDS.unsigned_abs());
        if sent.len() >= MOST_REMEMBERED {
            sent.retain(|_, at| at.elapsed() < lifetime);
            if sent.len() >= MOST_REMEMBERED {
                return false;
            }
        }
        sent.insert(token.to_owned(), Instant::now()).is_none()
    }

    /// Counts a submission to the door `slug` from the request's client: `Err` with when to try
    /// again once either the door or the address is past its limit.
    pub fn admit(&self, req: &HttpRequest, slug: &str) -> Result<(), Standing> {
        let client: Option<IpAddr> = self.proxies.client(req).map(network);
        if let Some(client) = client {
            let (standing, allowed) = self.per_address.take(&client.to_string());
            if !allowed {
                return Err(standing);
            }
        }
        let (standing, allowed) = self.per_point.take(slug);
        if allowed {
            Ok(())
        } else {
            Err(standing)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_is_taken_once() {
        let guard = IntakeGuard::new(Vec::new(), 0, (1, 1), TrustedProxies::default());
        assert!(guard.first_use("one"));
        assert!(!guard.first_use("one"));
        assert!(guard.first_use("two"));
    }
}
