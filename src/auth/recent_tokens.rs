//! Tokens verified lately, with what they said. A client sends the same token with each of its
//! requests, and verifying it again (decoding it, checking its signature, parsing its claims) is
//! most of what authenticating a request costs. The keys a token is checked against are fixed
//! while the server runs, so a token verified once stays good until its `exp` (with the same
//! leeway the first check allowed); after that it is verified afresh, and refused.

use std::collections::HashMap;
use std::sync::RwLock;

use super::jwt::{Verified, LEEWAY_SECS};

/// How many tokens are kept: when full, all are forgotten and verified afresh when next seen,
/// so a flood of distinct valid tokens costs memory only up to this.
const KEPT: usize = 4096;

#[derive(Default)]
pub struct RecentTokens(RwLock<HashMap<String, Verified>>);

impl RecentTokens {
    /// What `token` said when it was verified, while it has not expired at `now` (Unix seconds).
    pub fn get(&self, token: &str, now: i64) -> Option<Verified> {
        let kept = self.0.read().ok()?;
        let verified = kept.get(token)?;
        let good_until = verified.claims.exp.saturating_add(LEEWAY_SECS as i64);
        (now <= good_until).then(|| verified.clone())
    }

    pub fn keep(&self, token: &str, verified: &Verified) {
        if let Ok(mut kept) = self.0.write() {
            if kept.len() >= KEPT {
                kept.clear();
            }
            kept.insert(token.to_owned(), verified.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Claims, Role};

    fn verified(exp: i64) -> Verified {
        Verified {
            claims: Claims {
                sub: "user-1".to_owned(),
                org: "0192f0c4-7a10-7b21-8e3c-1a2b3c4d5e6f".to_owned(),
                roles: vec![Role::Manager],
                locations: None,
                name: None,
                exp,
                iat: None,
                iss: None,
                aud: None,
                client_id: None,
            },
            signed_here: true,
        }
    }

    #[test]
    fn a_kept_token_is_good_until_it_expires_with_the_leeway() {
        let recent = RecentTokens::default();
        recent.keep("a.b.c", &verified(1_000));
        let leeway = LEEWAY_SECS as i64;
        let kept = recent.get("a.b.c", 1_000 + leeway).expect("still good");
        assert_eq!(kept.claims.sub, "user-1");
        assert!(kept.signed_here);
        assert!(recent.get("a.b.c", 1_001 + leeway).is_none());
        assert!(recent.get("a.b.d", 500).is_none());
    }

    #[test]
    fn a_full_store_forgets_everything_before_keeping_more() {
        let recent = RecentTokens::default();
        for n in 0..KEPT {
            recent.keep(&format!("token-{n}"), &verified(1_000));
        }
        assert!(recent.get("token-0", 900).is_some());
        recent.keep("one-more", &verified(1_000));
        assert!(recent.get("token-0", 900).is_none());
        assert!(recent.get("one-more", 900).is_some());
    }
}
