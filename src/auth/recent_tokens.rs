//! Tokens verified lately, with what they said. A client sends the same token with each of its
//! requests, and verifying it again (decoding it, checking its signature, parsing its claims) is
//! most of what authenticating a request costs. The keys a token is checked against are fixed
//! while the server runs, so a token verified once stays good until its `exp` (with the same
//! leeway the first check allowed); after that it is verified afresh, and refused.

use std::collections::HashMap;
use std::sync::RwLock;

use super::jwt::{Verified, LEEWAY_SECS};

/// How many tokens are kept: when full, the expired are forgotten, and if that is not enough,
/// all (they are verified afresh when next seen), so a flood of distinct valid tokens costs
/// memory only up to this.
const KEPT: usize = 4096;

#[derive(Default)]
pub struct RecentTokens(RwLock<HashMap<String, Verified>>);

/// Whether a token that said this is still good at `now` (Unix seconds): jsonwebtoken's `exp`
/// check, with the same leeway.
fn good_at(verified: &Verified, now: i64) -> bool {
    now <= verified.claims.exp.saturating_add(LEEWAY_SECS as i64)
}

impl RecentTokens {
    /// What `token` said when it was verified, while it has not expired at `now`.
    pub fn get(&self, token: &str, now: i64) -> Option<Verified> {
        let kept = self.0.read().ok()?;
        let verified = kept.get(token)?;
        good_at(verified, now).then(|| verified.clone())
    }

    pub fn keep(&self, token: &str, verified: &Verified, now: i64) {
        if let Ok(mut kept) = self.0.write() {
            if kept.len() >= KEPT {
                kept.retain(|_, verified| good_at(verified, now));
            }
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
        recent.keep("a.b.c", &verified(1_000), 900);
        let leeway = LEEWAY_SECS as i64;
        let kept = recent.get("a.b.c", 1_000 + leeway).expect("still good");
        assert_eq!(kept.claims.sub, "user-1");
        assert!(kept.signed_here);
        assert!(recent.get("a.b.c", 1_001 + leeway).is_none());
        assert!(recent.get("a.b.d", 500).is_none());
    }

    #[test]
    fn a_full_store_forgets_the_expired_first_and_then_everything() {
        let recent = RecentTokens::default();
        for n in 0..KEPT {
            let exp = if n < 10 { 100 } else { 1_000 };
            recent.keep(&format!("token-{n}"), &verified(exp), 900);
        }
        recent.keep("one-more", &verified(1_000), 900);
        assert!(recent.get("token-10", 900).is_some(), "the unexpired stay");
        assert!(recent.get("one-more", 900).is_some());
        assert_eq!(recent.0.read().unwrap().len(), KEPT - 10 + 1);
        for n in 0..10 {
            recent.keep(&format!("more-{n}"), &verified(1_000), 900);
        }
        assert!(
            recent.get("token-10", 900).is_none(),
            "full of good tokens: all go"
        );
        assert!(recent.get("more-9", 900).is_some());
    }
}
