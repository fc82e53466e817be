//! Configuration from the environment (`CARELOOP_*`, `DATABASE_URL`), documented in README.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use anyhow::{bail, Context};

use crate::auth::Verifier;
use crate::db::DatabaseUrl;

#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseUrl,
    pub bind: String,
    pub jwt_secret: Option<String>,
    pub jwt_public_key: Option<PathBuf>,
    pub jwks_file: Option<PathBuf>,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    pub body_limit: usize,
    pub db_pool_size: u32,
    pub receipt_attempts_per_minute: u32,
    /// More assessment frameworks to load beside the shipped ones.
    pub frameworks_dir: Option<PathBuf>,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let database =
            DatabaseUrl::parse(&get("DATABASE_URL").unwrap_or_else(|| "careloop.db".into()));
        let number = |name: &str, default: u64| -> anyhow::Result<u64> {
            get(name).map_or(Ok(default), |v| {
                v.parse()
                    .with_context(|| format!("{name} must be a whole number, not {v:?}"))
            })
        };
        Ok(Self {
            database,
            bind: get("CARELOOP_BIND").unwrap_or_else(|| "127.0.0.1:8080".into()),
            jwt_secret: get("CARELOOP_JWT_SECRET"),
            jwt_public_key: get("CARELOOP_JWT_PUBLIC_KEY").map(PathBuf::from),
            jwks_file: get("CARELOOP_JWKS_FILE").map(PathBuf::from),
            jwt_issuer: get("CARELOOP_JWT_ISSUER"),
            jwt_audience: get("CARELOOP_JWT_AUDIENCE"),
            body_limit: number("CARELOOP_BODY_LIMIT", 1024 * 1024)? as usize,
            db_pool_size: number("CARELOOP_DB_POOL_SIZE", 10)? as u32,
            receipt_attempts_per_minute: number("CARELOOP_RECEIPT_ATTEMPTS_PER_MINUTE", 10)? as u32,
            frameworks_dir: get("CARELOOP_FRAMEWORKS_DIR").map(PathBuf::from),
        })
    }

    /// No key configured: careloop signs and verifies with a development secret of its own.
    pub fn is_development(&self) -> bool {
        self.jwt_secret.is_none() && self.jwt_public_key.is_none() && self.jwks_file.is_none()
    }

    /// The token verifier for the configured keys. In development mode it verifies with the
    /// database's own development secret, which the caller reads from the database.
    pub fn verifier(&self, development_secret: Option<&str>) -> anyhow::Result<Verifier> {
        let mut verifier = Verifier::new(self.jwt_issuer.clone(), self.jwt_audience.clone());
        if let Some(secret) = self.jwt_secret.as_deref().or(development_secret) {
            verifier = verifier.with_secret(secret.as_bytes());
        }
        if let Some(path) = &self.jwt_public_key {
            verifier = verifier.with_public_key_file(path)?;
        }
        if let Some(path) = &self.jwks_file {
            verifier = verifier.with_jwks_file(path)?;
        }
        Ok(verifier)
    }

    /// The address to listen on. Without configured keys careloop signs its own tokens, so it
    /// listens on loopback only.
    pub fn listen_address(&self) -> anyhow::Result<SocketAddr> {
        let address = self
            .bind
            .to_socket_addrs()
            .with_context(|| format!("CARELOOP_BIND={} is not an address", self.bind))?
            .next()
            .with_context(|| format!("CARELOOP_BIND={} resolves to nothing", self.bind))?;
        if self.is_development() && !address.ip().is_loopback() {
            bail!(
                "refusing to listen on {address} without a configured key: set CARELOOP_JWT_SECRET, \
                 CARELOOP_JWT_PUBLIC_KEY or CARELOOP_JWKS_FILE, or bind to 127.0.0.1"
            );
        }
        Ok(address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
            .unwrap()
    }

    #[test]
    fn defaults() {
        let c = config(&[]);
        assert_eq!(c.database, DatabaseUrl::Sqlite("careloop.db".into()));
        assert_eq!(c.bind, "127.0.0.1:8080");
        assert_eq!(c.body_limit, 1024 * 1024);
        assert!(c.is_development());
    }

    #[test]
    fn database_by_scheme() {
        let c = config(&[("DATABASE_URL", "sqlite:///var/lib/careloop/data.db")]);
        assert_eq!(
            c.database,
            DatabaseUrl::Sqlite("/var/lib/careloop/data.db".into())
        );
        let c = config(&[("DATABASE_URL", "postgres://u@localhost/careloop")]);
        assert_eq!(
            c.database,
            DatabaseUrl::Postgres("postgres://u@localhost/careloop?connect_timeout=5".into())
        );
    }

    #[test]
    fn development_mode_stays_on_loopback() {
        assert!(config(&[]).listen_address().is_ok());
        let open = config(&[("CARELOOP_BIND", "0.0.0.0:8080")]);
        let error = open.listen_address().unwrap_err().to_string();
        assert!(error.contains("without a configured key"), "{error}");
        let keyed = config(&[
            ("CARELOOP_BIND", "0.0.0.0:8080"),
            ("CARELOOP_JWT_SECRET", "s"),
        ]);
        assert!(keyed.listen_address().is_ok());
    }
}
