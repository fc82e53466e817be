//! Configuration: command-line flags or environment variables (`CARELOOP_*`, `DATABASE_URL`),
//! parsed by clap, listed by `careloop serve --help` and documented in the README.

use std::convert::Infallible;
use std::ffi::{OsStr, OsString};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Command, CommandFactory, FromArgMatches, Parser};
use secrecy::{ExposeSecret, SecretString};

use crate::auth::Verifier;
use crate::db::DatabaseUrl;

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
    /// Database connections per node.
    #[arg(
        long,
        env = "CARELOOP_DB_POOL_SIZE",
        value_name = "CONNECTIONS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub db_pool_size: u32,
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
}

/// The shortest HS256 secret careloop accepts: the hash's own output size (RFC 7518 §3.2).
const MIN_SECRET_BYTES: usize = 32;

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
    pub fn verifier(&self, development_secret: Option<&str>) -> anyhow::Result<Verifier> {
        let mut verifier = Verifier::new(self.jwt_issuer.clone(), self.jwt_audience.clone());
        let configured = self
            .jwt_secret
            .as_ref()
            .map(|secret| secret.expose_secret());
        if let Some(secret) = configured.or(development_secret) {
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
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Config {
        Config::from_args(args).unwrap()
    }

    const SECRET: &str = "--jwt-secret=0123456789abcdef0123456789abcdef";

    /// Why `check_keys` refuses this configuration.
    fn refusal(args: &[&str]) -> String {
        config(args).check_keys().unwrap_err().to_string()
    }

    #[test]
    fn defaults() {
        let c = config(&[]);
        assert_eq!(c.database, DatabaseUrl::Sqlite("careloop.db".into()));
        assert_eq!(c.bind, "127.0.0.1:8080");
        assert!(c.jwt_secret.is_none());
        assert_eq!(c.jwt_public_key, None);
        assert_eq!(c.jwks_file, None);
        assert_eq!(c.jwt_issuer, None);
        assert_eq!(c.jwt_audience, None);
        assert_eq!(c.body_limit, 1024 * 1024);
        assert_eq!(c.db_pool_size, 10);
        assert_eq!(c.receipt_attempts_per_minute, 10);
        assert_eq!(c.frameworks_dir, None);
        assert!(c.is_development());
    }

    #[test]
    fn flags_set_every_field() {
        let c = config(&[
            "--bind=0.0.0.0:9000",
            SECRET,
            "--jwt-public-key=key.pem",
            "--jwks-file=keys.json",
            "--jwt-issuer=https://id.example",
            "--jwt-audience=careloop",
            "--body-limit=2048",
            "--db-pool-size=3",
            "--receipt-attempts-per-minute=5",
            "--frameworks-dir=frameworks",
        ]);
        assert_eq!(c.bind, "0.0.0.0:9000");
        assert_eq!(
            c.jwt_secret.as_ref().map(|s| s.expose_secret()),
            Some("0123456789abcdef0123456789abcdef")
        );
        assert_eq!(c.jwt_public_key, Some("key.pem".into()));
        assert_eq!(c.jwks_file, Some("keys.json".into()));
        assert_eq!(c.jwt_issuer.as_deref(), Some("https://id.example"));
        assert_eq!(c.jwt_audience.as_deref(), Some("careloop"));
        assert_eq!(c.body_limit, 2048);
        assert_eq!(c.db_pool_size, 3);
        assert_eq!(c.receipt_attempts_per_minute, 5);
        assert_eq!(c.frameworks_dir, Some("frameworks".into()));
        assert!(!c.is_development());
    }

    #[test]
    fn numbers_are_checked() {
        let error = Config::from_args(["--body-limit=lots"]).unwrap_err();
        assert!(error.to_string().contains("--body-limit"), "{error}");
        assert!(Config::from_args(["--db-pool-size=0"]).is_err());
    }

    #[test]
    fn database_by_scheme() {
        let c = config(&["--database-url", "sqlite:///var/lib/careloop/data.db"]);
        assert_eq!(
            c.database,
            DatabaseUrl::Sqlite("/var/lib/careloop/data.db".into())
        );
        let c = config(&["--database-url", "postgres://u@localhost/careloop"]);
        assert_eq!(
            c.database,
            DatabaseUrl::Postgres("postgres://u@localhost/careloop?connect_timeout=5".into())
        );
    }

    #[test]
    fn development_mode_stays_on_loopback() {
        assert!(config(&[]).listen_address().is_ok());
        let open = config(&["--bind", "0.0.0.0:8080"]);
        let error = open.listen_address().unwrap_err().to_string();
        assert!(error.contains("without a configured key"), "{error}");
        let keyed = config(&["--bind", "0.0.0.0:8080", SECRET]);
        assert!(keyed.listen_address().is_ok());
    }

    #[test]
    fn a_short_secret_is_refused() {
        let said = refusal(&["--jwt-secret", "short-secret"]);
        assert_eq!(
            said,
            "CARELOOP_JWT_SECRET must be at least 32 bytes (got 12); generate one with \
             `openssl rand -base64 48`"
        );
        assert!(refusal(&["--jwt-secret", &"x".repeat(31)]).contains("(got 31)"));
        // Bytes, not characters: 11 three-byte characters are 33 bytes.
        assert!(config(&["--jwt-secret", &"€".repeat(11)])
            .check_keys()
            .is_ok());
        assert!(config(&[SECRET]).check_keys().is_ok());
        // Without a key careloop makes its own development secret.
        assert!(config(&[]).check_keys().is_ok());
    }

    #[test]
    fn public_keys_need_an_issuer_and_an_audience() {
        for key in ["--jwt-public-key=key.pem", "--jwks-file=keys.json"] {
            let said = refusal(&[key]);
            assert!(
                said.contains("another application")
                    && said.ends_with("missing: CARELOOP_JWT_ISSUER, CARELOOP_JWT_AUDIENCE"),
                "{said}"
            );
            let said = refusal(&[key, "--jwt-issuer=https://id.example"]);
            assert!(said.ends_with("missing: CARELOOP_JWT_AUDIENCE"), "{said}");
            let said = refusal(&[key, "--jwt-audience=careloop"]);
            assert!(said.ends_with("missing: CARELOOP_JWT_ISSUER"), "{said}");
            let both = config(&[
                key,
                "--jwt-issuer=https://id.example",
                "--jwt-audience=careloop",
            ]);
            assert!(both.check_keys().is_ok());
        }
        // A shared secret is careloop's own: no identity provider signs other apps' tokens with it.
        assert!(config(&[SECRET]).check_keys().is_ok());
    }

    #[test]
    fn the_secret_never_prints() {
        let secret = "do-not-print-this-secret-of-enough-length";
        let c = config(&["--jwt-secret", secret]);
        let debug = format!("{c:?}");
        assert!(!debug.contains(secret), "{debug}");
        assert!(debug.contains("REDACTED"), "{debug}");
        let alternate = format!("{c:#?}");
        assert!(!alternate.contains(secret), "{alternate}");
    }

    #[test]
    fn every_variable_has_its_name() {
        let names: Vec<String> = ConfigOnly::command()
            .get_arguments()
            .filter_map(|arg| {
                arg.get_env()
                    .map(|name| name.to_string_lossy().into_owned())
            })
            .collect();
        assert_eq!(
            names,
            [
                "DATABASE_URL",
                "CARELOOP_BIND",
                "CARELOOP_JWT_SECRET",
                "CARELOOP_JWT_PUBLIC_KEY",
                "CARELOOP_JWKS_FILE",
                "CARELOOP_JWT_ISSUER",
                "CARELOOP_JWT_AUDIENCE",
                "CARELOOP_BODY_LIMIT",
                "CARELOOP_DB_POOL_SIZE",
                "CARELOOP_RECEIPT_ATTEMPTS_PER_MINUTE",
                "CARELOOP_TRUSTED_PROXIES",
                "CARELOOP_FRAMEWORKS_DIR",
            ]
        );
    }

    /// An empty variable counts as unset. The check runs in a child process with the real
    /// environment, since setting variables on this process would race with the other tests.
    #[test]
    fn empty_variables_count_as_unset() {
        const CHILD: &str = "CARELOOP_CONFIG_TEST_CHILD";
        if std::env::var_os(CHILD).is_none() {
            let mut child = std::process::Command::new(std::env::current_exe().unwrap());
            for arg in ConfigOnly::command().get_arguments() {
                child.env_remove(arg.get_env().unwrap());
            }
            let output = child
                .args(["--exact", "config::tests::empty_variables_count_as_unset"])
                .args(["--nocapture", "--test-threads=1"])
                .env(CHILD, "1")
                .env("DATABASE_URL", "")
                .env("CARELOOP_BIND", "")
                .env("CARELOOP_JWT_SECRET", "")
                .env("CARELOOP_BODY_LIMIT", "")
                .env("CARELOOP_DB_POOL_SIZE", "3")
                .output()
                .unwrap();
            let said = String::from_utf8_lossy(&output.stdout);
            assert!(output.status.success(), "{said}");
            assert!(said.contains("1 passed"), "the child ran no test: {said}");
            return;
        }
        // Plain clap takes the empty value as a value, and refuses it for a number.
        assert!(ConfigOnly::command()
            .try_get_matches_from(Vec::<String>::new())
            .is_err());
        let mut matches = Config::ignore_empty_variables(ConfigOnly::command())
            .try_get_matches_from(Vec::<String>::new())
            .unwrap();
        let c = ConfigOnly::from_arg_matches_mut(&mut matches)
            .unwrap()
            .config;
        assert_eq!(c.database, DatabaseUrl::Sqlite("careloop.db".into()));
        assert_eq!(c.bind, "127.0.0.1:8080");
        assert!(c.jwt_secret.is_none());
        assert!(c.is_development());
        assert_eq!(c.body_limit, 1024 * 1024);
        // A variable with a value is still read.
        assert_eq!(c.db_pool_size, 3);
    }
}
