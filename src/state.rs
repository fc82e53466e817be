//! The state every request may use. A leaf: it knows the database, the token verifier and the
//! frameworks, and nothing of the handlers.

use crate::auth::{
    ActiveClients, IntakeGuard, KnownOrganisations, RateLimiter, ReceiptGuard, TokenSigner,
    Verifier,
};
use crate::config::Config;
use crate::db::Db;
use crate::domain::framework::Catalogue;
use crate::http::client_address::TrustedProxies;

/// What every request may use. The API nodes keep no other state than caches and the rate
/// and receipt limiters (counted per node): several can share one PostgreSQL behind a load
/// balancer.
pub struct AppState {
    pub db: Db,
    pub verifier: Verifier,
    /// Signs the tokens `/oauth/token` issues.
    pub signer: TokenSigner,
    pub organisations: KnownOrganisations,
    /// Which machine clients are active, as this node last read it.
    pub clients: ActiveClients,
    pub limiter: RateLimiter,
    /// Whether webhooks may go to `http://` and private addresses (local testing only).
    pub webhooks_allow_private: bool,
    pub receipts: ReceiptGuard,
    /// The largest import file, in bytes.
    pub import_max_bytes: usize,
    pub catalogue: Catalogue,
    /// Development mode (no key configured, loopback only): the dashboard's sign-in works.
    pub development: bool,
    /// The scheme and host intake points' addresses start with (`CARELOOP_PUBLIC_URL`); the
    /// request's own when unset.
    pub public_url: Option<String>,
    pub intake: IntakeGuard,
}

impl AppState {
    /// The state over an open database. In development mode the token verifier uses the
    /// database's own development secret (made on first use).
    pub fn new(config: &Config, db: Db) -> anyhow::Result<Self> {
        let development_secret = if config.is_development() {
            let mut conn = db.get()?;
            let secret = crate::db::instance::development_secret(&mut conn)
                .map_err(|e| anyhow::anyhow!("cannot read the development secret: {e}"))?;
            Some(secret)
        } else {
            None
        };
        let signer = config.token_signer(development_secret.as_deref())?;
        let form_secret = {
            let mut conn = db.get()?;
            crate::db::instance::intake_form_secret(&mut conn)
                .map_err(|e| anyhow::anyhow!("cannot read the intake form key: {e}"))?
        };
        Ok(Self {
            db,
            verifier: config.verifier(development_secret.as_deref(), &signer)?,
            signer,
            organisations: KnownOrganisations::default(),
            clients: ActiveClients::default(),
            limiter: RateLimiter::new(config.rate_limit_per_minute),
            webhooks_allow_private: config.webhook_allow_private,
            import_max_bytes: config.import_max_bytes,
            receipts: ReceiptGuard::new(
                config.receipt_attempts_per_minute,
                TrustedProxies::new(config.trusted_proxies.clone()),
            ),
            catalogue: Catalogue::load(config.frameworks_dir.as_deref())
                .map_err(|e| anyhow::anyhow!("cannot load the assessment frameworks: {e}"))?,
            development: config.is_development(),
            public_url: config.public_url.clone(),
            intake: IntakeGuard::new(
                form_secret.into_bytes(),
                config.intake_min_seconds,
                (
                    config.intake_per_address_per_minute,
                    config.intake_per_point_per_minute,
                ),
                TrustedProxies::new(config.trusted_proxies.clone()),
            ),
        })
    }
}
