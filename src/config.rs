//! Configuration from the environment (`CARELOOP_*`, `DATABASE_URL`), documented in README.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

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
    /// Where the SQLite file's folder is, or `CARELOOP_DATA_DIR`: holds the development secret.
    pub data_dir: PathBuf,
    pub body_limit: usize,
    pub db_pool_size: u32,
    pub receipt_attempts_per_minute: u32,
    /// More assessment frameworks to load beside the shipped ones.
    pub frameworks_dir: Option<PathBuf>,
}

const DEV_SECRET_FILE: &str = ".careloop-dev-secret";

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let database =
            DatabaseUrl::parse(&get("DATABASE_URL").unwrap_or_else(|| "careloop.db".into()));
        let data_dir = match (get("CARELOOP_DATA_DIR"), &database) {
            (Some(dir), _) => PathBuf::from(dir),
            (None, DatabaseUrl::Sqlite(path)) => Path::new(path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            (None, DatabaseUrl::Postgres(_)) => PathBuf::from("."),
        };
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
            data_dir,
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

    /// The HS256 secret tokens are signed with: the configured one, or in development the one
    /// kept in the data directory (made on first use, readable by its owner only).
    pub fn signing_secret(&self) -> anyhow::Result<Vec<u8>> {
        if let Some(secret) = &self.jwt_secret {
            return Ok(secret.as_bytes().to_vec());
        }
        if !self.is_development() {
            bail!("no HS256 secret is configured (CARELOOP_JWT_SECRET); tokens come from your identity provider");
        }
        let path = self.data_dir.join(DEV_SECRET_FILE);
        if let Ok(secret) = std::fs::read_to_string(&path) {
            return Ok(secret.trim().as_bytes().to_vec());
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create {}", self.data_dir.display()))?;
        let secret = hex::encode(rand::random::<[u8; 32]>());
        write_private(&path, &secret)
            .with_context(|| format!("cannot write the development secret {}", path.display()))?;
        Ok(secret.into_bytes())
    }

    /// The token verifier for the configured keys (or the development secret).
    pub fn verifier(&self) -> anyhow::Result<Verifier> {
        let mut verifier = Verifier::new(self.jwt_issuer.clone(), self.jwt_audience.clone());
        if self.jwt_secret.is_some() || self.is_development() {
            verifier = verifier.with_secret(&self.signing_secret()?);
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

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
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
        assert_eq!(c.data_dir, PathBuf::from("."));
        assert!(c.is_development());
    }

    #[test]
    fn database_by_scheme() {
        let c = config(&[("DATABASE_URL", "sqlite:///var/lib/careloop/data.db")]);
        assert_eq!(
            c.database,
            DatabaseUrl::Sqlite("/var/lib/careloop/data.db".into())
        );
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/careloop"));
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

    #[test]
    fn development_secret_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let c = config(&[("CARELOOP_DATA_DIR", dir.path().to_str().unwrap())]);
        let first = c.signing_secret().unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(c.signing_secret().unwrap(), first);
    }
}
