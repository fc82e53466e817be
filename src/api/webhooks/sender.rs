//! Sending one message to an endpoint, safely: `https://` only, never to an address inside
//! the network careloop runs in (checked on every connection, after DNS, so a name cannot be
//! pointed at one later), no redirects followed, 10 seconds at most, and no more of the
//! answer read than a few kilobytes.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;

use crate::domain::webhook::is_public;

/// How long one attempt may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an answer careloop reads (and then drops).
const READ_AT_MOST: usize = 4 * 1024;

/// Whether careloop may deliver to `url`: `https://` with a host and no credentials, not an
/// address inside the network. With `allow_private` (local testing only), plain `http://` and
/// private addresses too. The message says what is wrong.
pub fn check_url(url: &str, allow_private: bool) -> Result<(), &'static str> {
    let parsed = url::Url::parse(url).map_err(|_| "is not a URL")?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err("must be an https:// URL"),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry credentials; verify careloop's signature instead");
    }
    let private = match parsed.host() {
        None => return Err("has no host"),
        Some(url::Host::Ipv4(v4)) => !is_public(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => !is_public(IpAddr::V6(v6)),
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost") || name.ends_with(".localhost")
        }
    };
    if private && !allow_private {
        return Err("is an address inside careloop's network (loopback, private, link-local)");
    }
    Ok(())
}

/// Resolves names as usual, then keeps only the public addresses (all of them with
/// `allow_private`): a name that resolves only inside the network is refused.
struct OutsideOnly {
    allow_private: bool,
}

impl Resolve for OutsideOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|address| allow_private || is_public(address.ip()))
                .collect();
            if found.is_empty() {
                return Err("the name resolves to no address careloop may deliver to".into());
            }
            let addresses: Addrs = Box::new(found.into_iter());
            Ok(addresses)
        })
    }
}

/// How one attempt went.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub response_status: Option<u16>,
    pub duration_ms: i64,
    /// Why there was no answer (or why it was not taken), in words.
    pub error: Option<String>,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.response_status
            .is_some_and(|s| (200..300).contains(&s))
    }
}

/// The HTTP client every delivery goes through.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
}

impl Sender {
    pub fn new(allow_private: bool) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .timeout(TIMEOUT)
            .no_proxy()
            .user_agent(concat!("careloop-webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(OutsideOnly { allow_private }))
            .build()?;
        Ok(Self {
            client,
            allow_private,
        })
    }

    /// Posts `body` with the Standard Webhooks headers.
    pub async fn send(
        &self,
        url: &str,
        id: &str,
        timestamp: i64,
        signatures: &str,
        body: String,
    ) -> Outcome {
        let started = Instant::now();
        let elapsed =
            |started: Instant| i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        if let Err(message) = check_url(url, self.allow_private) {
            return Outcome {
                response_status: None,
                duration_ms: 0,
                error: Some(format!("the URL {message}")),
            };
        }
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signatures)
            .body(body)
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(error) => {
                return Outcome {
                    response_status: None,
                    duration_ms: elapsed(started),
                    error: Some(describe(&error)),
                }
            }
        };
        let status = response.status().as_u16();
        // Read a little of the answer so the connection can be reused, and no more.
        let mut read = 0;
        while read < READ_AT_MOST {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                Ok(None) | Err(_) => break,
            }
        }
        Outcome {
            response_status: Some(status),
            duration_ms: elapsed(started),
            error: None,
        }
    }
}

/// Why a request got no answer, without the URL (which the endpoint's record already shows).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("no answer within {} seconds", TIMEOUT.as_secs())
    } else if error.is_connect() {
        let cause = std::error::Error::source(error)
            .map(ToString::to_string)
            .unwrap_or_default();
        format!("could not connect: {cause}")
    } else {
        "the request failed".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_urls_outside_the_network_are_taken() {
        assert_eq!(check_url("https://vendor.example/hook", false), Ok(()));
        for (url, allowed_when_private) in [
            ("http://vendor.example/hook", true),
            ("https://127.0.0.1/hook", true),
            ("https://localhost:8443/hook", true),
            ("https://169.254.169.254/latest", true),
            ("https://[::1]/hook", true),
            ("https://user:pass@vendor.example/", false),
            ("ftp://vendor.example/", false),
            ("not a url", false),
        ] {
            assert!(check_url(url, false).is_err(), "{url}");
            assert_eq!(check_url(url, true).is_ok(), allowed_when_private, "{url}");
        }
    }
}
