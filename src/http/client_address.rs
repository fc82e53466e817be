//! Who a request comes from, as far as careloop may believe it: the one trusted-proxy rule the
//! receipt limiter and the intake points' rate limits share. Addresses are counted in memory,
//! never stored or logged.

use std::net::IpAddr;

use actix_web::HttpRequest;

/// The proxies in front of careloop (`CARELOOP_TRUSTED_PROXIES`): only from these is
/// `X-Forwarded-For` believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpAddr>);

impl TrustedProxies {
    pub fn new(proxies: Vec<IpAddr>) -> Self {
        Self(proxies.into_iter().map(|a| a.to_canonical()).collect())
    }

    /// The client's address: the peer's, or, when the peer is a trusted proxy, the nearest
    /// address in `X-Forwarded-For` that is not one of those proxies. Only then is the header
    /// believed: anyone can write it.
    pub fn client(&self, req: &HttpRequest) -> Option<IpAddr> {
        let trusted = |address: &IpAddr| self.0.contains(&address.to_canonical());
        let mut client = req.peer_addr().map(|address| address.ip().to_canonical())?;
        // Read from the nearest hop back: each trusted proxy appended the address it saw; what
        // the client itself wrote further left is not believed.
        let hops: Vec<String> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(|hop| hop.trim().to_owned())
            .collect();
        for hop in hops.iter().rev() {
            if !trusted(&client) {
                break;
            }
            match hop.parse::<IpAddr>() {
                Ok(address) => client = address.to_canonical(),
                Err(_) => break,
            }
        }
        Some(client)
    }
}

/// Whom a client address is counted as: an IPv4 address, or an IPv6 /64 (one subscriber's
/// network, where every address is theirs to use).
pub fn network(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(network.into())
        }
        v4 => v4,
    }
}
