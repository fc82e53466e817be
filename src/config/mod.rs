//! Configuration: command-line flags or environment variables (`CARELOOP_*`, `DATABASE_URL`),
//! parsed by clap, listed by `careloop serve --help` and documented in the README.

use std::convert::Infallible;
use std::ffi::{OsStr, OsString};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Command, CommandFactory, FromArgMatches, Parser};
use secrecy::{ExposeSecret, SecretString};

use crate::auth::{TokenSigner, Verifier};
use crate::db::DatabaseUrl;
pub use crate::telemetry::LogFormat;

/// Every setting, accepted by every subcommand (the flags are global) and read from its
/// environment variable when the flag is absent. The variable names are a contract: keep them.
/// `Debug` is safe to log: the JWT secret prints as `[REDACTED]`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Configuration (each flag or its environment variable)")]
pub struct Config {
    /// An SQLite file path or `sqlite://path`; `postgres://…` selects PostgreSQL.
    #[arg(
        long = "database-url",
        env = "DATABASE_URL",
        value_name = "URL",
        default_value = "careloop.db",
        value_parser = parse_database,
        hide_env_values = true,
        global = true
    )]
    pub database: DatabaseUrl,
    /// The address to listen on.
    #[arg(
        long,
        env = "CARELOOP_BIND",
        value_name = "ADDRESS",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,
    /// HS256 secret for tokens (development and simple installs), at least 32 bytes; prefer the
    /// variable to the flag, which other users of the machine can see.
    #[arg(
        long,
        env = "CARELOOP_JWT_SECRET",
        value_name = "SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<SecretString>,
    /// Path to a PEM public key: RSA (RS256) or P-256 (ES256).
    #[arg(
        long,
        env = "CARELOOP_JWT_PUBLIC_KEY",
        value_name = "PATH",
        global = true
    )]
    pub jwt_public_key: Option<PathBuf>,
    /// Path to a JWKS document; tokens are matched by `kid`.
    #[arg(long, env = "CARELOOP_JWKS_FILE", value_name = "PATH", global = true)]
    pub jwks_file: Option<PathBuf>,
    /// Tokens must carry this `iss`; required with a public key or JWKS.
    #[arg(
        long,
        env = "CARELOOP_JWT_ISSUER",
        value_name = "ISSUER",
        global = true
    )]
    pub jwt_issuer: Option<String>,
    /// Tokens must carry this `aud` (alone or in a list); required with a public key or JWKS.
    #[arg(
        long,
        env = "CARELOOP_JWT_AUDIENCE",
        value_name = "AUDIENCE",
        global = true
    )]
    pub jwt_audience: Option<String>,
    /// Largest JSON body in bytes; larger is 413.
    #[arg(
        long,
        env = "CARELOOP_BODY_LIMIT",
        value_name = "BYTES",
        default_value_t = 1024 * 1024,
        global = true
    )]
    pub body_limit: usize,
    /// Largest import file in bytes (`POST /v1/imports`); larger is 413.
    #[arg(
        long,
        env = "CARELOOP_IMPORT_MAX_BYTES",
        value_name = "BYTES",
        default_value_t = 50 * 1024 * 1024,
        global = true
    )]
    pub import_max_bytes: usize,
    /// Database connections per node for requests: by default the machine's cores (at least
    /// 2) on SQLite, where one more is kept for writing, and twice the cores on PostgreSQL (at
    /// least 4, at most 10).
    #[arg(
        long,
        env = "CARELOOP_DB_POOL_SIZE",
        value_name = "CONNECTIONS",
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub db_pool_size: Option<u32>,
    /// Database connections per node for the long reads (exports, packs, insights), beside the
    /// pool: more of them at once wait for a turn.
    #[arg(
        long,
        env = "CARELOOP_DB_LONG_READ_POOL_SIZE",
        value_name = "CONNECTIONS",
        default_value_t = 2,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub db_long_read_pool_size: u32,
    /// Keep PostgreSQL statements prepared by name on each connection. Set `false` behind a
    /// pooler in transaction mode that does not track prepared statements (PgBouncer before
    /// 1.21, or with `max_prepared_statements = 0`).
    #[arg(
        long,
        env = "CARELOOP_DB_PREPARED_STATEMENTS",
        value_name = "BOOL",
        default_value_t = true,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub db_prepared_statements: bool,
    /// Wrong receipt codes a client address may try per minute before 429.
    #[arg(
        long,
        env = "CARELOOP_RECEIPT_ATTEMPTS_PER_MINUTE",
        value_name = "ATTEMPTS",
        default_value_t = 10,
        global = true
    )]
    pub receipt_attempts_per_minute: u32,
    /// Addresses of the proxies in front of careloop (comma-separated). Only from these is
    /// `X-Forwarded-For` believed, to find the client address the receipt limiter counts.
    #[arg(
        long,
        env = "CARELOOP_TRUSTED_PROXIES",
        value_name = "ADDRESSES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A folder of further assessment framework JSON files to load beside the shipped ones.
    #[arg(
        long,
        env = "CARELOOP_FRAMEWORKS_DIR",
        value_name = "PATH",
        global = true
    )]
    pub frameworks_dir: Option<PathBuf>,
    /// Days the change feed keeps each change; a cursor older than that is `410 Gone`.
    #[arg(
        long,
        env = "CARELOOP_CHANGES_RETENTION_DAYS",
        value_name = "DAYS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u32).range(1..=3650),
        global = true
    )]
    pub changes_retention_days: u32,
    /// On SIGTERM (or Ctrl-C), the longest careloop waits for the requests in flight to finish
    /// before it exits.
    #[arg(
        long,
        env = "CARELOOP_SHUTDOWN_DRAIN_SECONDS",
        value_name = "SECONDS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3600),
        global = true
    )]
    pub shutdown_drain_seconds: u64,
    /// Where to serve `/metrics` (Prometheus text format), e.g. `127.0.0.1:9090`: a listener
    /// of its own, never the public one. No metrics are served when unset.
    #[arg(
        long,
        env = "CARELOOP_METRICS_BIND",
        value_name = "ADDRESS",
        global = true
    )]
    pub metrics_bind: Option<String>,
    /// `text` (one readable line per event) or `json` (one JSON object per line, for log
    /// shippers).
    #[arg(
        long,
        env = "CARELOOP_LOG_FORMAT",
        value_name = "FORMAT",
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
    /// Path to a PEM (PKCS#8) P-256 private key: careloop then signs the tokens it issues to
    /// machine clients with ES256 and serves the public key at `/.well-known/jwks.json`.
    /// Without it, they are signed with the HS256 secret.
    #[arg(long, env = "CARELOOP_SIGNING_KEY", value_name = "PATH", global = true)]
    pub signing_key: Option<PathBuf>,
    /// Requests each token subject may make per minute on each node before 429.
    #[arg(
        long,
        env = "CARELOOP_RATE_LIMIT_PER_MINUTE",
        value_name = "REQUESTS",
        default_value_t = 1200,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub rate_limit_per_minute: u32,
    /// Hours an endpoint may fail every delivery before careloop disables it.
    #[arg(
        long,
        env = "CARELOOP_WEBHOOK_DISABLE_AFTER_HOURS",
        value_name = "HOURS",
        default_value_t = 72,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub webhook_disable_after_hours: u32,
    /// Deliver webhooks to plain `http://` and to private, loopback and link-local addresses:
    /// for local testing only, never in production.
    #[arg(
        long,
        env = "CARELOOP_WEBHOOK_ALLOW_PRIVATE",
        value_name = "BOOL",
        default_value_t = false,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub webhook_allow_private: bool,
    /// The scheme and host the public intake points' addresses start with, as people reach
    /// careloop (e.g. `https://feedback.example.org`); the address of each request when unset.
    #[arg(
        long,
        env = "CARELOOP_PUBLIC_URL",
        value_name = "URL",
        value_parser = parse_public_url,
        global = true
    )]
    pub public_url: Option<String>,
    /// Submissions each client address may make through the intake points per minute (on each
    /// node) before 429.
    #[arg(
        long,
        env = "CARELOOP_INTAKE_PER_ADDRESS_PER_MINUTE",
        value_name = "SUBMISSIONS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub intake_per_address_per_minute: u32,
    /// Submissions each intake point takes per minute (on each node) before 429.
    #[arg(
        long,
        env = "CARELOOP_INTAKE_PER_POINT_PER_MINUTE",
        value_name = "SUBMISSIONS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub intake_per_point_per_minute: u32,
    /// The fewest seconds between serving an intake form and taking its submission: quicker is
    /// a script, not a person.
    #[arg(
        long,
        env = "CARELOOP_INTAKE_MIN_SECONDS",
        value_name = "SECONDS",
        default_value_t = 3,
        value_parser = clap::value_parser!(u32).range(0..=600),
        global = true
    )]
    pub intake_min_seconds: u32,
}

/// The shortest HS256 secret careloop accepts: the hash's own output size (RFC 7518 §3.2).
const MIN_SECRET_BYTES: usize = 32;

fn parse_public_url(url: &str) -> Result<String, String> {
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {
            Ok(url.trim_end_matches('/').to_owned())
        }
        _ => Err(
            "must be an http:// or https:// address, such as https://feedback.example.org"
                .to_owned(),
        ),
    }
}

fn parse_database(url: &str) -> Result<DatabaseUrl, Infallible> {
    Ok(DatabaseUrl::parse(url))
}

/// A command of configuration flags alone, for [`Config::from_args`].
#[derive(Parser)]
#[command(name = "careloop", no_binary_name = true)]
struct ConfigOnly {
    #[command(flatten)]
    config: Config,
}

/// The machine's cores (1 when they cannot be told), as the pool's default size and the
/// server's workers count them.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Config {
    /// The configuration from command-line words alone (no binary name), ignoring the
    /// environment: for tests and tools, e.g. `Config::from_args(["--database-url", path])`.
    pub fn from_args<I, T>(args: I) -> anyhow::Result<Self>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let mut command = without_variables(ConfigOnly::command(), |_| true);
        let mut matches = command.try_get_matches_from_mut(args)?;
        let parsed = ConfigOnly::from_arg_matches_mut(&mut matches)
            .map_err(|error| error.format(&mut command))?;
        Ok(parsed.config)
    }

    /// Clap takes a variable that is set but empty as an empty value; careloop takes it as
    /// unset (`CARELOOP_JWT_SECRET= careloop` means no secret, and an empty
    /// `CARELOOP_BODY_LIMIT` the default), as it always has. Apply this to the command that
    /// flattens a `Config` before it parses.
    pub fn ignore_empty_variables(command: Command) -> Command {
        without_variables(command, |name| {
            std::env::var_os(name).is_some_and(|value| value.is_empty())
        })
    }

    /// No key configured: careloop signs and verifies with a development secret of its own.
    pub fn is_development(&self) -> bool {
        self.jwt_secret.is_none() && self.jwt_public_key.is_none() && self.jwks_file.is_none()
    }

    /// Refuses key settings that would let the wrong tokens in: a guessable HS256 secret, or a
    /// public key without an issuer and audience to check (the identity provider signs tokens
    /// for every application it serves with that key, and those are not meant for careloop).
    pub fn check_keys(&self) -> anyhow::Result<()> {
        if let Some(secret) = &self.jwt_secret {
            let length = secret.expose_secret().len();
            if length < MIN_SECRET_BYTES {
                bail!(
                    "CARELOOP_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes (got {length}); \
                     generate one with `openssl rand -base64 48`"
                );
            }
        }
        if self.jwt_public_key.is_some() || self.jwks_file.is_some() {
            let missing: Vec<&str> = [
                ("CARELOOP_JWT_ISSUER", &self.jwt_issuer),
                ("CARELOOP_JWT_AUDIENCE", &self.jwt_audience),
            ]
            .into_iter()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name)
            .collect();
            if !missing.is_empty() {
                bail!(
                    "CARELOOP_JWT_PUBLIC_KEY and CARELOOP_JWKS_FILE need CARELOOP_JWT_ISSUER and \
                     CARELOOP_JWT_AUDIENCE, so that a token the identity provider signed for \
                     another application is refused here; missing: {}",
                    missing.join(", ")
                );
            }
        }
        Ok(())
    }

    /// The token verifier for the configured keys. In development mode it verifies with the
    /// database's own development secret, which the caller reads from the database.
    /// The HS256 secret: the configured one, else development mode's.
    fn secret<'a>(&'a self, development_secret: Option<&'a str>) -> Option<&'a str> {
        self.jwt_secret
            .as_ref()
            .map(|secret| secret.expose_secret())
            .or(development_secret)
    }

    /// How careloop signs the tokens it issues: with the signing key when one is configured,
    /// else with the HS256 secret (carrying the configured issuer and audience).
    pub fn token_signer(&self, development_secret: Option<&str>) -> anyhow::Result<TokenSigner> {
        if let Some(path) = &self.signing_key {
            return TokenSigner::es256_from_file(path);
        }
        Ok(match self.secret(development_secret) {
            Some(secret) => TokenSigner::Hs256 {
                secret: secret.as_bytes().to_vec(),
                issuer: self.jwt_issuer.clone(),
                audience: self.jwt_audience.clone(),
            },
            None => TokenSigner::None,
        })
    }

    /// Verifies the configured keys' tokens and the ones careloop signs itself.
    pub fn verifier(
        &self,
        development_secret: Option<&str>,
        signer: &TokenSigner,
    ) -> anyhow::Result<Verifier> {
        let mut verifier = Verifier::new(self.jwt_issuer.clone(), self.jwt_audience.clone())
            .with_signing_key(signer);
        if let Some(secret) = self.secret(development_secret) {
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
    /// Where `/metrics` is served, if anywhere: never the API's own address.
    pub fn metrics_address(&self) -> anyhow::Result<Option<SocketAddr>> {
        let Some(bind) = &self.metrics_bind else {
            return Ok(None);
        };
        let address = bind
            .to_socket_addrs()
            .with_context(|| format!("CARELOOP_METRICS_BIND={bind} is not an address"))?
            .next()
            .with_context(|| format!("CARELOOP_METRICS_BIND={bind} resolves to nothing"))?;
        if address == self.listen_address()? {
            bail!("CARELOOP_METRICS_BIND must differ from CARELOOP_BIND: metrics are never public");
        }
        Ok(Some(address))
    }

    /// The database pool as configured.
    pub fn pooling(&self) -> crate::db::Pooling {
        crate::db::Pooling {
            size: self
                .db_pool_size
                .unwrap_or_else(|| crate::db::Pooling::default_size(&self.database, cores())),
            long_reads: self.db_long_read_pool_size,
            prepared_statements: self.db_prepared_statements,
        }
    }

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

/// The command without the environment variables of the arguments `drop` names: clap then
/// falls back to the flag's default, as if the variable were unset.
fn without_variables(command: Command, drop: impl Fn(&OsStr) -> bool) -> Command {
    command.mut_args(|arg| {
        if arg.get_env().is_some_and(&drop) {
            arg.env(clap::builder::Resettable::Reset)
        } else {
            arg
        }
    })
}

#[cfg(test)]
mod tests;
