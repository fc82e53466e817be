//! Configuration: every variable named, parsed and checked as `serve --help` promises.

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
    assert_eq!(c.db_pool_size, None);
    assert_eq!(c.db_long_read_pool_size, 2);
    let cores = super::cores();
    assert_eq!(
        c.pooling().size as usize,
        cores.max(2),
        "SQLite: the machine's cores"
    );
    assert_eq!(c.pooling().long_reads, 2);
    let on_postgres = config(&["--database-url=postgres://careloop@db/careloop"]);
    assert_eq!(
        on_postgres.pooling().size as usize,
        (2 * cores).clamp(4, 10),
        "PostgreSQL: twice the cores, at most 10"
    );
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
        "--db-long-read-pool-size=4",
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
    assert_eq!(c.db_pool_size, Some(3));
    assert_eq!(c.pooling().size, 3);
    assert_eq!(c.db_long_read_pool_size, 4);
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
        DatabaseUrl::Postgres(
            "postgres://u@localhost/careloop?connect_timeout=5&keepalives_idle=10\
             &keepalives_interval=3&keepalives_count=3&tcp_user_timeout=10000"
                .into()
        )
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
            "CARELOOP_IMPORT_MAX_BYTES",
            "CARELOOP_DB_POOL_SIZE",
            "CARELOOP_DB_LONG_READ_POOL_SIZE",
            "CARELOOP_DB_PREPARED_STATEMENTS",
            "CARELOOP_RECEIPT_ATTEMPTS_PER_MINUTE",
            "CARELOOP_TRUSTED_PROXIES",
            "CARELOOP_FRAMEWORKS_DIR",
            "CARELOOP_CHANGES_RETENTION_DAYS",
            "CARELOOP_SHUTDOWN_DRAIN_SECONDS",
            "CARELOOP_METRICS_BIND",
            "CARELOOP_LOG_FORMAT",
            "CARELOOP_SIGNING_KEY",
            "CARELOOP_RATE_LIMIT_PER_MINUTE",
            "CARELOOP_WEBHOOK_DISABLE_AFTER_HOURS",
            "CARELOOP_WEBHOOK_ALLOW_PRIVATE",
            "CARELOOP_PUBLIC_URL",
            "CARELOOP_INTAKE_PER_ADDRESS_PER_MINUTE",
            "CARELOOP_INTAKE_PER_POINT_PER_MINUTE",
            "CARELOOP_INTAKE_MIN_SECONDS",
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
            .env("CARELOOP_DB_LONG_READ_POOL_SIZE", "")
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
    assert_eq!(c.db_long_read_pool_size, 2);
    // A variable with a value is still read.
    assert_eq!(c.db_pool_size, Some(3));
}

#[test]
fn a_public_url_is_an_http_address() {
    let set = config(&["--public-url", "https://feedback.example.org/"]);
    assert_eq!(
        set.public_url.as_deref(),
        Some("https://feedback.example.org")
    );
    assert!(Config::from_args(["--public-url", "feedback.example.org"]).is_err());
    assert!(Config::from_args(["--public-url", "ftp://feedback.example.org"]).is_err());
}

#[test]
fn metrics_are_served_only_apart_from_the_api() {
    assert_eq!(config(&[]).metrics_address().unwrap(), None);
    let apart = config(&["--metrics-bind", "127.0.0.1:9090"]);
    assert_eq!(
        apart.metrics_address().unwrap(),
        Some("127.0.0.1:9090".parse().unwrap())
    );
    let same = config(&[
        "--bind",
        "127.0.0.1:8080",
        "--metrics-bind",
        "127.0.0.1:8080",
    ]);
    let said = same.metrics_address().unwrap_err().to_string();
    assert!(said.contains("must differ"), "{said}");
}
