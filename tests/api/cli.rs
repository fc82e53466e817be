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
    let db = careloop::db::Db::open(&config.database, config.db_pool_size).unwrap();
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
