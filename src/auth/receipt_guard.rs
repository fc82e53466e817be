//! The anonymous raiser's credential: `Authorization: Receipt <code>`, never a URL (proxies log
//! URLs), and the limiter on wrong codes.

use std::collections::HashMap;
use std::future::{ready, Ready};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::{dev::Payload, http::header, FromRequest, HttpRequest};

use crate::error::ApiError;
use crate::http::client_address::{network, TrustedProxies};

/// The receipt code a request carries as `Authorization: Receipt <code>`. Whether it opens a
/// concern is the handler's to find out; this only reads it.
pub struct ReceiptCode(pub String);

impl FromRequest for ReceiptCode {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let code = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, code) = value.split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("receipt")
                    .then(|| code.trim().to_owned())
            });
        ready(code.map(ReceiptCode).ok_or(ApiError::ReceiptRequired))
    }
}

const WINDOW: Duration = Duration::from_secs(60);

/// How many client addresses the limiter remembers at most; past it, the oldest is forgotten.
const MAX_TRACKED: usize = 10_000;

/// Counts wrong receipt codes per client address in a one-minute window, and answers 429 to an
/// address past its limit. A correct code is never refused: the limiter only ever turns a
/// wrong code's 404 into 429, so someone else's guessing (behind the same proxy, say) cannot
/// lock a raiser out. Codes carry 128 bits, so guessing is hopeless anyway; this only stops
/// anyone trying hard. Kept in memory, bounded, per node; addresses are never stored or logged.
pub struct ReceiptGuard {
    limit: u32,
    proxies: TrustedProxies,
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl ReceiptGuard {
    pub fn new(failures_per_minute: u32, proxies: TrustedProxies) -> Self {
        Self {
            limit: failures_per_minute,
            proxies,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The client's address, by the trusted-proxy rule.
    pub fn client(&self, req: &HttpRequest) -> Option<IpAddr> {
        self.proxies.client(req)
    }

    /// Counts a wrong code from `client`, and answers what to tell them: 404, or 429 once the
    /// address has used up its attempts for the window.
    pub fn wrong_code(&self, client: Option<IpAddr>) -> ApiError {
        let Some(client) = client.map(network) else {
            return ApiError::NotFound("receipt");
        };
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_TRACKED && !failures.contains_key(&client) {
            failures.retain(|_, (start, _)| start.elapsed() < WINDOW);
            if failures.len() >= MAX_TRACKED {
                let oldest = failures
                    .iter()
                    .min_by_key(|(_, (start, _))| *start)
                    .map(|(address, _)| *address);
                if let Some(oldest) = oldest {
                    failures.remove(&oldest);
                }
            }
        }
        let entry = failures.entry(client).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= WINDOW {
            *entry = (Instant::now(), 0);
        }
        entry.1 = entry.1.saturating_add(1);
        if entry.1 > self.limit {
            ApiError::TooManyRequests {
                retry_after_secs: WINDOW.saturating_sub(entry.0.elapsed()).as_secs().max(1),
            }
        } else {
            ApiError::NotFound("receipt")
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn limits_wrong_codes_per_address() {
        let guard = ReceiptGuard::new(2, TrustedProxies::default());
        let one = Some(IpAddr::from([127, 0, 0, 1]));
        let two = Some(IpAddr::from([127, 0, 0, 2]));
        assert!(matches!(guard.wrong_code(one), ApiError::NotFound(_)));
        assert!(matches!(guard.wrong_code(one), ApiError::NotFound(_)));
        assert!(matches!(
            guard.wrong_code(one),
            ApiError::TooManyRequests { .. }
        ));
        assert!(matches!(guard.wrong_code(two), ApiError::NotFound(_)));
    }

    #[test]
    fn remembers_a_bounded_number_of_addresses() {
        let guard = ReceiptGuard::new(1, TrustedProxies::default());
        for n in 0..(MAX_TRACKED as u32 + 50) {
            guard.wrong_code(Some(IpAddr::from(n.to_be_bytes())));
        }
        assert_eq!(guard.tracked(), MAX_TRACKED);
    }

    #[test]
    fn believes_x_forwarded_for_only_from_a_trusted_proxy() {
        let proxy: IpAddr = [10, 0, 0, 1].into();
        let guard = ReceiptGuard::new(1, TrustedProxies::new(vec![proxy]));
        let through_proxy = TestRequest::default()
            .peer_addr((proxy, 4000).into())
            .insert_header(("X-Forwarded-For", "203.0.113.9, 198.51.100.7"))
            .to_http_request();
        assert_eq!(guard.client(&through_proxy), Some([198, 51, 100, 7].into()));
        let direct = TestRequest::default()
            .peer_addr(([192, 0, 2, 5], 4000).into())
            .insert_header(("X-Forwarded-For", "198.51.100.7"))
            .to_http_request();
        assert_eq!(guard.client(&direct), Some([192, 0, 2, 5].into()));
        // What the client wrote before the proxy's hop is not believed, junk or not.
        let spoofed = TestRequest::default()
            .peer_addr((proxy, 4000).into())
            .insert_header(("X-Forwarded-For", "junk, 198.51.100.7"))
            .to_http_request();
        assert_eq!(guard.client(&spoofed), Some([198, 51, 100, 7].into()));
        // A dual-stack listener sees the proxy as an IPv4-mapped address.
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        let via_mapped = TestRequest::default()
            .peer_addr((mapped, 4000).into())
            .insert_header(("X-Forwarded-For", "198.51.100.7"))
            .to_http_request();
        assert_eq!(guard.client(&via_mapped), Some([198, 51, 100, 7].into()));
    }

    #[test]
    fn one_ipv6_network_is_one_client() {
        let guard = ReceiptGuard::new(1, TrustedProxies::default());
        let first: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let second: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(matches!(
            guard.wrong_code(Some(first)),
            ApiError::NotFound(_)
        ));
        assert!(matches!(
            guard.wrong_code(Some(second)),
            ApiError::TooManyRequests { .. }
        ));
    }
}
