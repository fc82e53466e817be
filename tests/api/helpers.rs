//! The test application: a fresh database per test (SQLite in a temporary folder, or a new
//! PostgreSQL database when `TEST_DATABASE_URL` names a server), the real app built by the same
//! function as `main`, and a ready token per role.

use std::net::SocketAddr;

use actix_http::Request;
use actix_service::{boxed, Service, ServiceExt};
use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{header::HeaderMap, Method, StatusCode};
use actix_web::test::{self, TestRequest};
use actix_web::web;
use careloop::app::build_app;
use careloop::auth::{mint_hs256, Audience, Claims, RateLimiter, Role, TokenSigner, Verifier};
use careloop::auth::{IntakeGuard, ReceiptGuard};
use careloop::db::{DatabaseUrl, Db, DbConnection, Pooling};
use careloop::domain::framework::Catalogue;
use careloop::http::client_address::TrustedProxies;
use careloop::state::AppState;
use diesel::connection::SimpleConnection;
use diesel::Connection;
use serde_json::{json, Value};

pub const SECRET: &[u8] = b"test-secret-that-is-long-enough-for-hs256";
pub const ISSUER: &str = "https://idp.test/careloop";
pub const AUDIENCE: &str = "careloop-api";
pub const BODY_LIMIT: usize = 64 * 1024;
/// The largest import file the test apps take: small, so the tests can exceed it.
pub const IMPORT_MAX_BYTES: usize = 4 * 1024 * 1024;
pub const RECEIPT_ATTEMPTS: u32 = 5;

type AppService = boxed::BoxService<Request, ServiceResponse<BoxBody>, actix_web::Error>;

pub struct TestApp {
    service: AppService,
    pub db: Db,
    pub org: String,
    /// The demo organisation's two locations: `location` and `second_location`.
    pub location: String,
    pub second_location: String,
    pub other_org: String,
    pub other_org_location: String,
    pub admin: String,
    pub manager: String,
    pub staff: String,
    pub viewer: String,
    pub integration: String,
    /// An admin of another organisation.
    pub other_admin: String,
    _dir: tempfile::TempDir,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "body: {:#}", self.body);
        self
    }

    /// Asserts a problem+json answer with this status and code.
    #[track_caller]
    pub fn expect_problem(self, status: u16, code: &str) -> Self {
        assert_eq!(self.status.as_u16(), status, "body: {:#}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {:#}",
            self.body
        );
        assert_eq!(self.body["code"], code, "body: {:#}", self.body);
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
        self
    }

    /// The fields a validation problem names, in its order.
    pub fn error_fields(&self) -> Vec<&str> {
        self.body["errors"]
            .as_array()
            .expect("a problem with errors")
            .iter()
            .map(|e| e["field"].as_str().expect("each error names its field"))
            .collect()
    }

    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .expect("the body has an id")
            .to_owned()
    }
}

/// Every operation of an OpenAPI document: its method (upper case), path template and itself.
pub fn operations(document: &Value) -> impl Iterator<Item = (String, &str, &Value)> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    document["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .filter(|(method, _)| METHODS.contains(&method.as_str()))
                .map(move |(method, operation)| (method.to_uppercase(), path.as_str(), operation))
        })
}

/// The security an operation of `document` declares: its own, else the document's (OpenAPI
/// 3.1 §4.8.10); `[]` when neither says.
pub fn security<'a>(document: &'a Value, operation: &'a Value) -> &'a Value {
    static NONE: Value = Value::Array(Vec::new());
    operation
        .get("security")
        .or_else(|| document.get("security"))
        .unwrap_or(&NONE)
}

/// Whether an operation of `document` asks for the bearer token, as every operation but health
/// and the anonymous raiser's receipts does.
pub fn takes_a_token(document: &Value, operation: &Value) -> bool {
    security(document, operation) == &json!([{"bearer": []}])
}

/// Work that holds a database connection until it is released.
pub type HeldWork = Box<dyn FnOnce(&mut DbConnection) -> careloop::error::ApiResult<()> + Send>;

/// `count` connections held by work started through `start` (`Db::run` or `Db::run_long`),
/// each running by the time this returns: the releases (send or drop one to end its work),
/// and the work's tasks.
pub async fn hold_connections<F, Fut>(
    count: u32,
    start: F,
) -> (
    Vec<std::sync::mpsc::Sender<()>>,
    Vec<actix_web::rt::task::JoinHandle<careloop::error::ApiResult<()>>>,
)
where
    F: Fn(HeldWork) -> Fut,
    Fut: std::future::Future<Output = careloop::error::ApiResult<()>> + 'static,
{
    let (started, mut running) = tokio::sync::mpsc::unbounded_channel();
    let (mut releases, mut held) = (Vec::new(), Vec::new());
    for _ in 0..count {
        let (release, released) = std::sync::mpsc::channel::<()>();
        let started = started.clone();
        releases.push(release);
        held.push(actix_web::rt::spawn(start(Box::new(move |_| {
            started.send(()).ok();
            released.recv().ok();
            Ok(())
        }))));
    }
    for _ in 0..count {
        running.recv().await.expect("a connection held");
    }
    (releases, held)
}

/// The connections of a [`TestApp`]'s pool.
pub const TEST_POOL_SIZE: u32 = 4;

/// A pool of `size` connections (and two for long reads), with prepared statements unless the run goes through a pooler
/// in transaction mode (`CARELOOP_DB_PREPARED_STATEMENTS=false`, as `.ci/run` sets for its
/// PgBouncer run).
pub fn test_pooling(size: u32) -> Pooling {
    let prepared_statements = std::env::var("CARELOOP_DB_PREPARED_STATEMENTS")
        .map_or(true, |value| !value.eq_ignore_ascii_case("false"));
    Pooling {
        size,
        long_reads: 2,
        prepared_statements,
    }
}

/// A fresh, migrated database for one test.
pub fn fresh_database(dir: &tempfile::TempDir) -> DatabaseUrl {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(server) if server.starts_with("postgres") => {
            let name = format!("careloop_test_{}", uuid::Uuid::now_v7().simple());
            let mut admin = diesel::PgConnection::establish(&server)
                .expect("TEST_DATABASE_URL must name a reachable PostgreSQL server");
            admin
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create the test database");
            let (base, query) = match server.split_once('?') {
                Some((base, query)) => (base, format!("?{query}")),
                None => (server.as_str(), String::new()),
            };
            let base = &base[..base.rfind('/').expect("the URL names a database")];
            DatabaseUrl::parse(&format!("{base}/{name}{query}"))
        }
        _ => DatabaseUrl::Sqlite(dir.path().join("careloop.db").display().to_string()),
    }
}

/// A verifier checking the test issuer and audience, with no keys yet.
pub fn test_verifier() -> Verifier {
    Verifier::new(Some(ISSUER.into()), Some(AUDIENCE.into()))
}

pub fn claims(org: &str, roles: &[Role], sub: &str) -> Claims {
    Claims {
        sub: sub.to_owned(),
        org: org.to_owned(),
        roles: roles.to_vec(),
        locations: None,
        name: Some(format!("Test {sub}")),
        exp: chrono::Utc::now().timestamp() + 3600,
        iat: None,
        iss: Some(ISSUER.to_owned()),
        aud: Some(Audience::One(AUDIENCE.to_owned())),
        client_id: None,
    }
}

/// How the usual test app signs machine clients' tokens: with the test secret, carrying the
/// test issuer and audience.
pub fn test_signer() -> TokenSigner {
    TokenSigner::Hs256 {
        secret: SECRET.to_vec(),
        issuer: Some(ISSUER.into()),
        audience: Some(AUDIENCE.into()),
    }
}

/// The intake points' limits of a test app: the fewest seconds to fill a form in, and
/// submissions per client address and per door per minute.
#[derive(Debug, Clone, Copy)]
pub struct IntakeLimits {
    pub min_seconds: u32,
    pub per_address: u32,
    pub per_point: u32,
}

/// The usual test app takes a form as soon as it is served, and never limits submissions.
pub const INTAKE_LIMITS: IntakeLimits = IntakeLimits {
    min_seconds: 0,
    per_address: 1_000_000,
    per_point: 1_000_000,
};

/// Requests a subject may make per minute in the tests: enough never to matter but where a
/// test lowers it.
pub const RATE_LIMIT: u32 = 1_000_000;

pub fn sign(claims: &Claims) -> String {
    mint_hs256(SECRET, claims)
}

/// An id that names no record (of this organisation or any other): a fresh UUID v7.
pub fn nothing_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl TestApp {
    /// The usual app: tokens are HS256 with the test secret, issuer and audience.
    pub async fn new() -> Self {
        Self::with_verifier(test_verifier().with_secret(SECRET)).await
    }

    pub async fn with_verifier(verifier: Verifier) -> Self {
        Self::build(verifier, test_signer(), RATE_LIMIT, true).await
    }

    /// An app with its own token verifier and signer, a rate limit per subject, and whether
    /// webhooks may go to the tests' receivers on 127.0.0.1 (`CARELOOP_WEBHOOK_ALLOW_PRIVATE`).
    pub async fn build(
        verifier: Verifier,
        signer: TokenSigner,
        rate_limit: u32,
        webhooks_allow_private: bool,
    ) -> Self {
        Self::build_in(
            verifier,
            signer,
            (rate_limit, INTAKE_LIMITS),
            webhooks_allow_private,
            false,
        )
        .await
    }

    /// The usual app with the intake points' limits (`CARELOOP_INTAKE_*`) set.
    pub async fn with_intake_limits(limits: IntakeLimits) -> Self {
        let verifier = test_verifier().with_secret(SECRET);
        Self::build_in(verifier, test_signer(), (RATE_LIMIT, limits), true, false).await
    }

    /// The usual app in development mode: the dashboard's development sign-in works.
    pub async fn development() -> Self {
        let verifier = test_verifier().with_secret(SECRET);
        let limits = (RATE_LIMIT, INTAKE_LIMITS);
        Self::build_in(verifier, test_signer(), limits, true, true).await
    }

    async fn build_in(
        verifier: Verifier,
        signer: TokenSigner,
        (rate_limit, intake): (u32, IntakeLimits),
        webhooks_allow_private: bool,
        development: bool,
    ) -> Self {
        log_capture::install();
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = fresh_database(&dir);
        let db =
            Db::connect(&url, test_pooling(TEST_POOL_SIZE)).expect("connect to the test database");
        db.migrate().expect("migrate the test database");
        let state = web::Data::new(AppState {
            db: db.clone(),
            verifier,
            signer,
            organisations: Default::default(),
            clients: Default::default(),
            limiter: RateLimiter::new(rate_limit),
            webhooks_allow_private,
            receipts: ReceiptGuard::new(RECEIPT_ATTEMPTS, TrustedProxies::default()),
            intake: IntakeGuard::new(
                b"the intake form key of the tests, 32 bytes or more".to_vec(),
                intake.min_seconds,
                (intake.per_address, intake.per_point),
                TrustedProxies::default(),
            ),
            public_url: None,
            import_max_bytes: IMPORT_MAX_BYTES,
            catalogue: Catalogue::load(Some(std::path::Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/frameworks"
            ))))
            .expect("the frameworks load"),
            development,
        });
        let service = test::init_service(build_app(state, BODY_LIMIT)).await;
        let service = boxed::service(service.map(ServiceResponse::map_into_boxed_body));

        let (org, location, second_location) = seed_organisation(&db, "Meadowbank Care Ltd", 2);
        let (other_org, other_org_location, _) = seed_organisation(&db, "Other Provider Ltd", 1);
        let token = |role: Role| sign(&claims(&org, &[role], &format!("user-{role}")));
        Self {
            admin: token(Role::Admin),
            manager: token(Role::Manager),
            staff: token(Role::Staff),
            viewer: token(Role::Viewer),
            integration: token(Role::Integration),
            other_admin: sign(&claims(&other_org, &[Role::Admin], "other-admin")),
            service,
            db,
            org,
            location,
            second_location,
            other_org,
            other_org_location,
            _dir: dir,
        }
    }

    /// A token for a role of this organisation.
    pub fn token(&self, role: Role) -> &str {
        match role {
            Role::Admin => &self.admin,
            Role::Manager => &self.manager,
            Role::Staff => &self.staff,
            Role::Viewer => &self.viewer,
            Role::Integration => &self.integration,
        }
    }

    pub async fn send(&self, request: TestRequest) -> Response {
        let (status, headers, bytes) = self.exchange(request).await;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Response {
            status,
            headers,
            body,
        }
    }

    /// Sends a request and reads the whole answer, streamed or not.
    pub async fn exchange(
        &self,
        request: TestRequest,
    ) -> (
        actix_web::http::StatusCode,
        HeaderMap,
        actix_web::web::Bytes,
    ) {
        let response = self
            .service
            .call(request.to_request())
            .await
            .expect("the app answers every request");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap_or_default();
        (status, headers, bytes)
    }

    /// `method path` from a loopback client, as the bearer of `token` when there is one.
    pub fn request(method: Method, path: &str, token: Option<&str>) -> TestRequest {
        let request = TestRequest::default()
            .method(method)
            .uri(path)
            .peer_addr(SocketAddr::from(([127, 0, 0, 1], 40000)));
        match token {
            Some(token) => request.insert_header(("Authorization", format!("Bearer {token}"))),
            None => request,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut request = Self::request(method, path, token);
        if let Some(body) = body {
            request = request.set_json(body);
        }
        self.send(request).await
    }

    /// `method path` as the bearer of `token`, with these further headers (`If-Match`,
    /// `Idempotency-Key` …) and `body`, when there is one, as JSON.
    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Response {
        let mut request = Self::request(method, path, Some(token));
        for &header in headers {
            request = request.insert_header(header);
        }
        if let Some(body) = body {
            request = request.set_json(body);
        }
        self.send(request).await
    }

    /// `method path` as the bearer of `token`, with these headers and `payload` sent as it
    /// stands: malformed JSON, or a body under another `Content-Type`.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        token: &str,
        headers: &[(&str, &str)],
        payload: &str,
    ) -> Response {
        let mut request = Self::request(method, path, Some(token));
        for &header in headers {
            request = request.insert_header(header);
        }
        self.send(request.set_payload(payload.to_owned())).await
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Response {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> Response {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, token: &str, path: &str) -> Response {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> Response {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    /// A `PATCH` on condition that the record's ETag is still `etag`.
    pub async fn patch_if_match(
        &self,
        token: &str,
        path: &str,
        etag: &str,
        body: Value,
    ) -> Response {
        self.send_with(
            Method::PATCH,
            path,
            token,
            &[("If-Match", etag)],
            Some(body),
        )
        .await
    }

    /// Scores a quality statement as the manager, on condition of `etag` when there is one.
    pub async fn put_score(&self, path: &str, score: u8, etag: Option<&str>) -> Response {
        let if_match = etag.map(|etag| ("If-Match", etag));
        self.send_with(
            Method::PUT,
            path,
            &self.manager,
            if_match.as_slice(),
            Some(json!({"score": score, "rationale": "Seen in audits and debriefs"})),
        )
        .await
    }

    /// A `POST` (a transition) on condition that the record's ETag is still `etag`.
    pub async fn post_if_match(
        &self,
        token: &str,
        path: &str,
        etag: &str,
        body: Value,
    ) -> Response {
        self.send_with(Method::POST, path, token, &[("If-Match", etag)], Some(body))
            .await
    }

    /// A `POST` with an `Idempotency-Key`.
    pub async fn post_keyed(&self, token: &str, path: &str, key: &str, body: Value) -> Response {
        self.send_with(
            Method::POST,
            path,
            token,
            &[("Idempotency-Key", key)],
            Some(body),
        )
        .await
    }

    /// Opens an intake point at the first location taking `kinds`, as the manager.
    pub async fn intake_point(&self, kinds: &[&str]) -> Response {
        self.post(
            &self.manager,
            "/v1/intake-points",
            json!({"location_id": self.location, "kinds": kinds, "title": "Tell us how we are doing",
                   "welcome": "We read every message. You do not have to give your name."}),
        )
        .await
        .expect(201)
    }

    /// The form token a door serves an app (`GET /i/{slug}` as JSON), without a token.
    pub async fn form_token(&self, slug: &str) -> String {
        let request = Self::request(Method::GET, &format!("/i/{slug}"), None)
            .insert_header(("Accept", "application/json"));
        let form = self.send(request).await.expect(200);
        form.body["form_token"].as_str().unwrap().to_owned()
    }

    /// Submits `body` as JSON through the door `slug`, with a fresh form token, without a token.
    pub async fn submit(&self, slug: &str, mut body: Value) -> Response {
        body["form_token"] = json!(self.form_token(slug).await);
        self.call(Method::POST, &format!("/i/{slug}"), None, Some(body))
            .await
    }

    /// The id of the first recognition awaiting approval (a compliment through a door), as the
    /// manager sees it.
    pub async fn awaiting_approval(&self) -> String {
        self.get(&self.manager, "/v1/recognitions?approval=awaiting_approval")
            .await
            .expect(200)
            .body["items"][0]["id"]
            .as_str()
            .expect("a recognition awaits approval")
            .to_owned()
    }

    /// Raises a plain concern as `token` and answers its id.
    pub async fn raise(&self, token: &str, extra: Value) -> String {
        let mut body = json!({
            "title": "Call bells unanswered at night",
            "description": "Residents on the first floor waited over 20 minutes on 24 November.",
            "category": "care_practice",
            "risk": "medium",
            "location_id": self.location,
        });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        self.post(token, "/v1/concerns", body)
            .await
            .expect(201)
            .id()
    }

    /// Moves a concern as the manager, expecting success.
    pub async fn move_to(&self, id: &str, body: Value) -> Response {
        self.post(
            &self.manager,
            &format!("/v1/concerns/{id}/transitions"),
            body,
        )
        .await
        .expect(200)
    }

    /// Registers a machine client as the admin and answers its id.
    pub async fn new_client(&self) -> String {
        self.post(
            &self.admin,
            "/v1/api-clients",
            json!({"name": "Vendor", "roles": ["integration"]}),
        )
        .await
        .expect(201)
        .body["client_id"]
            .as_str()
            .expect("a client id")
            .to_owned()
    }

    /// Subscribes an endpoint (that nothing will deliver to) as the admin, queues it a test
    /// ping, and answers the endpoint's id and the ping's.
    pub async fn new_webhook(&self) -> (String, String) {
        let webhook = self
            .post(
                &self.admin,
                "/v1/webhooks",
                json!({"url": "https://vendor.example/hook", "event_types": ["*"],
                       "scope": ["integration"]}),
            )
            .await
            .expect(201)
            .id();
        let ping = self
            .post(
                &self.admin,
                &format!("/v1/webhooks/{webhook}/test"),
                json!({}),
            )
            .await
            .expect(202)
            .id();
        (webhook, ping)
    }

    /// Runs a query against the test database.
    pub fn with_conn<T>(&self, f: impl FnOnce(&mut DbConnection) -> T) -> T {
        let mut conn = self.db.get().expect("a database connection");
        f(&mut conn)
    }

    /// How many rows a table holds.
    pub fn count(&self, table: &str) -> i64 {
        self.with_conn(|conn| count_rows(conn, table))
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

pub fn count_rows(conn: &mut DbConnection, table: &str) -> i64 {
    use diesel::RunQueryDsl;
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<Count>(conn)
        .expect("count rows")
        .n
}

/// An organisation with `locations` locations; answers its id and up to two location ids.
fn seed_organisation(db: &Db, name: &str, locations: usize) -> (String, String, String) {
    use careloop::api::locations::{dto::NewLocation, store as location_store};
    use careloop::api::organisation::store as organisation_store;
    use careloop::domain::location::LocationKind;
    use careloop::store::audit::Actor;
    let mut conn = db.get().expect("connection");
    careloop::db::write_transaction(&mut conn, |conn| {
        let org = organisation_store::create(conn, name, None, None)?
            .id
            .to_string();
        let mut ids = Vec::new();
        for n in 0..locations {
            let new = NewLocation {
                name: format!("House {n}"),
                kind: LocationKind::CareHome,
                cqc_location_id: None,
                external_ref: None,
            };
            ids.push(
                location_store::create(conn, Actor::System, &org, &new)?
                    .id
                    .to_string(),
            );
        }
        ids.resize(2, String::new());
        Ok((org, ids[0].clone(), ids[1].clone()))
    })
    .expect("seed an organisation")
}

/// Every log line of the test run, so tests can check what reaches the log.
pub mod log_capture {
    use std::sync::{Mutex, Once};

    static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());
    static INSTALL: Once = Once::new();

    struct Capture;

    impl log::Log for Capture {
        fn enabled(&self, metadata: &log::Metadata) -> bool {
            metadata.level() <= log::Level::Info
        }

        fn log(&self, record: &log::Record) {
            if self.enabled(record.metadata()) {
                let line = format!("{} {}", record.target(), record.args());
                LINES.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        }

        fn flush(&self) {}
    }

    pub fn install() {
        INSTALL.call_once(|| {
            log::set_boxed_logger(Box::new(Capture)).expect("the only logger");
            log::set_max_level(log::LevelFilter::Info);
        });
    }

    /// Whether any line logged so far contains `needle`.
    pub fn contains(needle: &str) -> bool {
        LINES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|line| line.contains(needle))
    }
}

#[derive(diesel::QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    text: String,
}

/// The first column of a query's rows, as text.
pub fn texts(conn: &mut DbConnection, sql: &str) -> Vec<String> {
    use diesel::RunQueryDsl;
    let rows: Vec<Text> = diesel::sql_query(sql).load(conn).expect("a query of text");
    rows.into_iter().map(|row| row.text).collect()
}

/// Every value of every table of the database, as text, to search for what must not be there.
pub fn dump_everything(conn: &mut DbConnection) -> String {
    use diesel::RunQueryDsl;
    let is_sqlite = matches!(conn, DbConnection::Sqlite(_));
    let tables_sql = if is_sqlite {
        "SELECT name AS text FROM sqlite_master WHERE type = 'table'"
    } else {
        "SELECT tablename::text AS text FROM pg_tables WHERE schemaname = 'public'"
    };
    let tables: Vec<Text> = diesel::sql_query(tables_sql)
        .load(conn)
        .expect("list tables");
    let mut dump = String::new();
    for table in tables {
        let rows_sql = if is_sqlite {
            let columns: Vec<Text> = diesel::sql_query(format!(
                "SELECT name AS text FROM pragma_table_info('{}')",
                table.text
            ))
            .load(conn)
            .expect("list columns");
            let row = columns
                .iter()
                .map(|c| format!("COALESCE(CAST(\"{}\" AS TEXT), '')", c.text))
                .collect::<Vec<_>>()
                .join(" || ' ' || ");
            format!("SELECT {row} AS text FROM \"{}\"", table.text)
        } else {
            format!(
                "SELECT row_to_json(t)::text AS text FROM \"{}\" t",
                table.text
            )
        };
        let rows: Vec<Text> = diesel::sql_query(rows_sql).load(conn).expect("dump rows");
        for row in rows {
            dump.push_str(&row.text);
            dump.push('\n');
        }
    }
    dump
}
