//! Which machine clients are still active, as each node last read it: a revoked client's
//! tokens stop working on every node within [`RECHECK_AFTER`] (well inside a minute).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a node trusts what it last read of a client.
pub const RECHECK_AFTER: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
pub struct ActiveClients(Mutex<HashMap<String, (bool, Instant)>>);

impl ActiveClients {
    /// Whether the client was active when last read, if that was recently enough to trust.
    pub fn known(&self, client_id: &str) -> Option<bool> {
        self.known_at(client_id, Instant::now())
    }

    fn known_at(&self, client_id: &str, now: Instant) -> Option<bool> {
        let known = self.0.lock().ok()?;
        let (active, read_at) = known.get(client_id)?;
        (now.duration_since(*read_at) < RECHECK_AFTER).then_some(*active)
    }

    pub fn remember(&self, client_id: &str, active: bool) {
        if let Ok(mut known) = self.0.lock() {
            if known.len() > 10_000 {
                known.retain(|_, (_, read_at)| read_at.elapsed() < RECHECK_AFTER);
            }
            known.insert(client_id.to_owned(), (active, Instant::now()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_node_read_of_a_client_is_trusted_for_less_than_a_minute() {
        let clients = ActiveClients::default();
        assert_eq!(clients.known("a"), None);
        clients.remember("a", true);
        let now = Instant::now();
        assert_eq!(clients.known_at("a", now), Some(true));
        assert_eq!(
            clients.known_at("a", now + RECHECK_AFTER),
            None,
            "read again"
        );
        assert!(RECHECK_AFTER < Duration::from_secs(60));
        clients.remember("a", false);
        assert_eq!(clients.known("a"), Some(false));
    }
}
