//! What keeps the public intake points' doors open to people and shut to scripts, without
//! tracking anyone: the form token's key and the minimum time to fill a form in, and rate limits
//! per door and per client address (by the trusted-proxy rule; counted in memory, per node,
//! never stored or logged).

use std::net::IpAddr;

use actix_web::HttpRequest;

use super::{RateLimiter, Standing};
use crate::http::client_address::{network, TrustedProxies};

pub struct IntakeGuard {
    /// The key form tokens are signed with (kept in the database, the same on every node).
    pub form_secret: Vec<u8>,
    /// The fewest seconds between serving a form and taking its submission.
    pub min_seconds: i64,
    per_address: RateLimiter,
    per_point: RateLimiter,
    proxies: TrustedProxies,
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
        }
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
