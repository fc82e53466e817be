//! The command line: organisations, tokens, and start-up refusing what it must.

use std::process::Command;

use serde_json::Value;

fn careloop(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_careloop"));
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn");
    command
}

/// `careloop token` in `dir` for an organisation that exists nowhere.
fn admin_token_for_no_organisation(dir: &std::path::Path) -> std::process::Output {
    careloop(dir)
        .args(["token", "--org", "0192f0c4-0000-7000-8000-000000000000"])
        .args(["--role", "admin"])
        .output()
        .unwrap()
}

#[test]
fn org_create_and_a_token_that_the_service_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let output = careloop(dir.path())
        .args([
            "org",
            "create",
            "--name",
            "Riverside Care",
            "--cqc-provider-id",
            "1-101234567",
            "--ods-code",
            "VNH12",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let organisation: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(organisation["name"], "Riverside Care");
    let id = organisation["id"].as_str().unwrap();
    assert!(dir.path().join("careloop.db").exists());

    let output = careloop(dir.path())
        .args([
            "token", "--org", id, "--role", "manager", "--role", "viewer", "--sub", "alex",
            "--ttl", "30m",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("signed with the development secret of the SQLite database")
            && said.contains("careloop.db"),
        "{said}"
    );
    // The service on the same database verifies it with the secret that database keeps.
    let database = dir.path().join("careloop.db").display().to_string();
    let config = careloop::config::Config::from_args(["--database-url", &database]).unwrap();
    let db = careloop::db::Db::open(&config.database, config.pooling()).unwrap();
    let state = careloop::state::AppState::new(&config, db).unwrap();
    let claims = state.verifier.verify(token.trim()).unwrap().claims;
    assert_eq!(claims.org, id);
    assert_eq!(claims.sub, "alex");
    assert_eq!(claims.roles.len(), 2);
    let lifetime = claims.exp - chrono::Utc::now().timestamp();
    assert!((1700..=1800).contains(&lifetime), "{lifetime}");

    let bad = careloop(dir.path())
        .args(["org", "create", "--name", "X", "--ods-code", "lower"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("ods_code"));
    let bad_role = careloop(dir.path())
        .args(["token", "--org", id, "--role", "king"])
        .output()
        .unwrap();
    assert!(!bad_role.status.success());

    let mistyped = admin_token_for_no_organisation(dir.path());
    assert!(!mistyped.status.success());
    let said = String::from_utf8_lossy(&mistyped.stderr);
    assert!(said.contains("there is no organisation"), "{said}");
}

#[test]
fn a_token_is_never_signed_with_a_secret_invented_elsewhere() {
    let elsewhere = tempfile::tempdir().unwrap();
    let output = admin_token_for_no_organisation(elsewhere.path());
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("there is no careloop database at"), "{said}");
    assert!(!elsewhere.path().join("careloop.db").exists());
}

#[test]
fn listening_is_said_only_once_the_port_is_bound() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let output = careloop(dir.path())
        .env("RUST_LOG", "info")
        .env("CARELOOP_BIND", taken.local_addr().unwrap().to_string())
        .arg("serve")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("cannot listen on"), "{said}");
    assert!(!said.contains("listening"), "{said}");
}

#[test]
fn with_log_format_json_every_line_is_one_json_object() {
    let dir = tempfile::tempdir().unwrap();
    let output = careloop(dir.path())
        .env("RUST_LOG", "info")
        .env("CARELOOP_LOG_FORMAT", "json")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<Value> = said
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let applied = lines
        .iter()
        .find(|line| line["message"].as_str().unwrap().contains("migration(s)"))
        .unwrap_or_else(|| panic!("{said}"));
    assert_eq!(applied["level"], "INFO");
    assert_eq!(applied["target"], "careloop::db");
    let time = applied["time"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(time).is_ok(), "{time}");
    // The same event as a line for people, by default.
    let dir = tempfile::tempdir().unwrap();
    let output = careloop(dir.path())
        .env("RUST_LOG", "info")
        .arg("migrate")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("migration(s)") && !said.contains('{'),
        "{said}"
    );
}

#[test]
fn without_keys_it_refuses_to_listen_beyond_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let output = careloop(dir.path())
        .env("CARELOOP_BIND", "0.0.0.0:0")
        .arg("serve")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("without a configured key"), "{stderr}");
}

#[test]
fn an_unreachable_database_fails_start_up_quickly_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let output = careloop(dir.path())
        .env("DATABASE_URL", "postgres://careloop@127.0.0.1:1/careloop")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot connect to the postgres database"),
        "{stderr}"
    );
    // libpq's own reason, as it says it (the test runs it with no locale, so in English).
    assert!(
        stderr.contains("connection to server at \"127.0.0.1\", port 1 failed: Connection refused"),
        "{stderr}"
    );
}

#[test]
fn openapi_prints_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let output = careloop(dir.path()).arg("openapi").output().unwrap();
    assert!(output.status.success());
    let spec: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
}

#[test]
fn weak_key_settings_refuse_to_start() {
    let dir = tempfile::tempdir().unwrap();
    for command in [&["serve"][..], &["token", "--org", "o", "--role", "admin"]] {
        let output = careloop(dir.path())
            .env("CARELOOP_JWT_SECRET", "guessable")
            .args(command)
            .output()
            .unwrap();
        assert!(!output.status.success());
        assert!(output.stdout.is_empty());
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(
            said.contains("CARELOOP_JWT_SECRET must be at least 32 bytes (got 9)"),
            "{said}"
        );
        assert!(!said.contains("guessable"), "{said}");
    }
    let output = careloop(dir.path())
        .env("CARELOOP_JWT_PUBLIC_KEY", "key.pem")
        .env("CARELOOP_JWT_ISSUER", "https://id.example")
        .arg("serve")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("missing: CARELOOP_JWT_AUDIENCE"), "{said}");
    // Refused before anything was made.
    assert!(!dir.path().join("careloop.db").exists());
}

/// `careloop import` runs the import of `POST /v1/imports` against the database the test
/// names (SQLite, or PostgreSQL under TEST_DATABASE_URL): the sample files import, the report
/// comes as JSON on stdout, and the exit status says whether a row failed.
#[test]
fn import_reads_a_file_into_the_database_and_reports_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let url = match crate::helpers::fresh_database(&dir) {
        careloop::db::DatabaseUrl::Sqlite(path) | careloop::db::DatabaseUrl::Postgres(path) => path,
    };
    let pooling = crate::helpers::test_pooling(1);
    let run = |args: &[&str]| {
        careloop(dir.path())
            .env("DATABASE_URL", &url)
            .env(
                "CARELOOP_DB_PREPARED_STATEMENTS",
                pooling.prepared_statements.to_string(),
            )
            .args(args)
            .output()
            .unwrap()
    };
    let output = run(&["org", "create", "--name", "Riverside Care"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let organisation: Value = serde_json::from_slice(&output.stdout).unwrap();
    let org = organisation["id"].as_str().unwrap();
    let samples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/imports");
    let import = |kind: &str, file: &str, extra: &[&str]| {
        let file = format!("{samples}/{file}");
        let mut args = vec!["import", "--org", org, "--kind", kind, "--file", &file];
        args.extend_from_slice(extra);
        let output = run(&args);
        let report: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
        (output.status.code(), report)
    };
    let (status, dry) = import(
        "evidence",
        "evidence.csv",
        &["--date-format", "uk", "--dry-run"],
    );
    assert_eq!(status, Some(0), "{dry:#}");
    assert_eq!(dry["report"]["created"], 4);
    assert_eq!(dry["stored"], false);
    let (status, done) = import("evidence", "evidence.csv", &["--date-format", "uk"]);
    assert_eq!(status, Some(0), "{done:#}");
    assert_eq!(done["report"]["created"], 4);
    assert_eq!(done["imported_by"]["sub"], "careloop-cli");
    let (status, again) = import("evidence", "evidence.csv", &["--date-format", "uk"]);
    assert_eq!(
        (status, &again["report"]["unchanged"]),
        (Some(0), &Value::from(4))
    );
    let (status, learning) = import("learning_events", "learning_events.ndjson", &[]);
    assert_eq!(
        (status, &learning["report"]["created"]),
        (Some(0), &Value::from(2)),
        "{learning:#}"
    );
    let (status, plans) = import("improvement_plans", "improvement_plans.json", &[]);
    assert_eq!(
        (status, &plans["report"]["created"]),
        (Some(0), &Value::from(1)),
        "{plans:#}"
    );
    // Read ISO, the UK dates fail: the exit status says so, and nothing is stored.
    let (status, failed) = import("evidence", "evidence.csv", &["--on-error", "rollback"]);
    assert_eq!(status, Some(1), "{failed:#}");
    assert_eq!(failed["report"]["failed"], 4);
    // What was imported is in the database, as the service reads it.
    // With the run's own pooling: through PgBouncer in transaction mode, no prepared statements.
    let config = careloop::config::Config::from_args(["--database-url", &url]).unwrap();
    let db = careloop::db::Db::open(&config.database, pooling).unwrap();
    let mut conn = db.get().unwrap();
    use diesel::prelude::*;
    let stored: i64 = careloop::db::schema::evidence::table
        .count()
        .get_result(&mut **conn)
        .unwrap();
    assert_eq!(stored, 4);
    // A file that cannot be read is refused, naming its line; nothing of it is stored.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "titel\nx\n").unwrap();
    let output = run(&[
        "import",
        "--org",
        org,
        "--kind",
        "evidence",
        "--file",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let refused: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(refused["report"]["refused"], true);
    assert_eq!(refused["report"]["errors"][0]["field"], "titel");
    assert_eq!(refused["stored"], false);
}
