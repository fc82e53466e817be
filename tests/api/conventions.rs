//! What every endpoint shares: request ids, problems for unknown routes, health, docs and the
//! committed OpenAPI document.

use actix_web::http::Method;
use actix_web::test::TestRequest;

use serde_json::json;

use crate::helpers::{log_capture, nothing_id, operations, security, takes_a_token, TestApp};

#[actix_web::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::new().await;
    let generated = app
        .call(Method::GET, "/health/live", None, None)
        .await
        .expect(200);
    let id = generated
        .header("x-request-id")
        .expect("a request id")
        .to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert!(log_capture::contains(&format!("request_id={id}")));
    let kept = app
        .send(
            TestRequest::get()
                .uri("/v1/organisation")
                .insert_header(("x-request-id", "vendor-trace-42")),
        )
        .await
        .expect(401);
    assert_eq!(kept.header("x-request-id"), Some("vendor-trace-42"));
}

#[actix_web::test]
async fn unknown_routes_are_404_and_unknown_methods_405_with_allow() {
    let app = TestApp::new().await;
    app.get(&app.admin, "/v1/nothing-here")
        .await
        .expect_problem(404, "not_found");
    let wrong = app
        .call(Method::DELETE, "/v1/organisation", Some(&app.admin), None)
        .await
        .expect_problem(405, "method_not_allowed");
    assert_eq!(wrong.header("allow"), Some("GET, PATCH, HEAD"));
    let concern = format!("/v1/concerns/{}", nothing_id());
    let trace = app
        .call(Method::TRACE, &concern, None, None)
        .await
        .expect_problem(405, "method_not_allowed");
    assert_eq!(trace.header("allow"), Some("GET, PATCH, HEAD"));
    let post_only = app
        .call(Method::PUT, &format!("{concern}/transitions"), None, None)
        .await
        .expect_problem(405, "method_not_allowed");
    assert_eq!(post_only.header("allow"), Some("POST"));
}

#[actix_web::test]
async fn head_is_answered_wherever_get_is() {
    let app = TestApp::new().await;
    let live = app.call(Method::HEAD, "/health/live", None, None).await;
    assert_eq!(live.status, 200);
    let path = format!("/v1/concerns/{}", app.raise(&app.staff, json!({})).await);
    let head = app.call(Method::HEAD, &path, Some(&app.staff), None).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("etag"), Some("\"1\""));
    app.call(Method::HEAD, &path, None, None)
        .await
        .expect_problem(401, "unauthorized");
}

#[actix_web::test]
async fn health_and_docs_are_served() {
    let app = TestApp::new().await;
    let live = app
        .call(Method::GET, "/health/live", None, None)
        .await
        .expect(200);
    assert_eq!(live.body["status"], "ok");
    let ready = app
        .call(Method::GET, "/health/ready", None, None)
        .await
        .expect(200);
    assert_eq!(ready.body["status"], "ok");
    let spec = app
        .call(Method::GET, "/openapi.json", None, None)
        .await
        .expect(200);
    assert_eq!(spec.header("content-type"), Some("application/json"));
    assert_eq!(&spec.body, careloop::api::docs::document());
    let docs = app.call(Method::GET, "/docs/", None, None).await;
    assert_eq!(docs.status, 200);
    // The docs page reads the document served above.
    let (status, _, script) = app
        .exchange(TestRequest::get().uri("/docs/swagger-initializer.js"))
        .await;
    assert_eq!(status, 200);
    let script = String::from_utf8_lossy(&script);
    assert!(script.contains("\"/openapi.json\""), "{script}");
    let redirect = app.call(Method::GET, "/docs", None, None).await;
    assert_eq!(redirect.status, 307);
    assert_eq!(redirect.header("location"), Some("/docs/"));
}

#[test]
fn the_committed_openapi_document_is_current() {
    let generated = serde_json::to_string_pretty(careloop::api::docs::document()).unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let (committed, generated) = (committed.trim_end(), generated.trim_end());
    if committed != generated {
        let diff = similar::TextDiff::from_lines(committed, generated);
        let diff = diff
            .unified_diff()
            .context_radius(3)
            .header(
                "openapi/openapi.json (committed)",
                "careloop openapi (generated)",
            )
            .to_string();
        const SHOWN: usize = 200;
        let lines = diff.lines().count();
        let shown: Vec<&str> = diff.lines().take(SHOWN).collect();
        let more = if lines > SHOWN {
            format!("\n… and {} more lines of diff", lines - SHOWN)
        } else {
            String::new()
        };
        panic!(
            "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json`\n{}{more}",
            shown.join("\n")
        );
    }
}

#[test]
fn every_operation_is_documented_with_errors_and_security() {
    let spec = careloop::api::docs::document();
    // The whole API. permissions.rs ties each operation to a row of its table (or to the
    // token-free list) and `the_app_serves_exactly_the_documented_methods_of_each_path` to a
    // route, so a new route changes these numbers along with its row.
    assert_eq!(spec["paths"].as_object().unwrap().len(), 80);
    assert_eq!(operations(spec).count(), 109);
    for (method, path, operation) in operations(spec) {
        let responses = operation["responses"].as_object().unwrap();
        assert!(
            operation["summary"].is_string(),
            "{method} {path} has no summary"
        );
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{method} {path}"
        );
        if path.starts_with("/v1/receipt") {
            // The anonymous raiser's receipt code is the credential, in a header.
            assert!(responses.contains_key("401"), "{method} {path} lacks 401");
            assert_eq!(
                security(spec, operation),
                &json!([{"receipt": []}]),
                "{method} {path}"
            );
            let success = responses
                .iter()
                .find(|(s, _)| s.starts_with('2'))
                .unwrap()
                .1;
            assert!(
                success["headers"]["Cache-Control"].is_object(),
                "{method} {path} does not say no-store"
            );
        } else if path.starts_with("/v1/public/") {
            // The public front door's JSON: no token, so no 401 or 403.
            assert_eq!(security(spec, operation), &json!([]), "{method} {path}");
            assert!(!responses.contains_key("401"), "{method} {path} has 401");
        } else if path.starts_with("/v1/") {
            assert!(responses.contains_key("401"), "{method} {path} lacks 401");
            assert!(responses.contains_key("403"), "{method} {path} lacks 403");
            assert_eq!(
                security(spec, operation),
                &json!([{"bearer": []}]),
                "{method} {path}"
            );
        } else if path == "/oauth/token" {
            // A machine client authenticates with HTTP Basic or with form fields.
            assert_eq!(
                security(spec, operation),
                &json!([{}, {"client_basic": []}]),
                "{method} {path}"
            );
        } else {
            // Health and the token keys take no token, and say so.
            let requirements = security(spec, operation).as_array().unwrap();
            assert!(
                requirements.iter().all(|r| r == &json!({})),
                "{method} {path} asks for {requirements:?}"
            );
        }
        // A write takes a body, but for a command on a record that needs no more than its
        // path (rotating a secret or a slug, revoking a client, retrying a delivery, sending a
        // test, verifying evidence).
        let command = [
            "/rotate-secret",
            "/revoke",
            "/retry",
            "/test",
            "/slug",
            "/verification",
        ]
        .iter()
        .any(|c| path.ends_with(c));
        if ["POST", "PATCH", "PUT"].contains(&method.as_str()) && !command {
            assert!(
                operation["requestBody"].is_object(),
                "{method} {path} has no body schema"
            );
            if path != "/oauth/token" {
                assert!(responses.contains_key("422"), "{method} {path} lacks 422");
            }
        }
    }
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
    assert!(spec["components"]["securitySchemes"]["receipt"].is_object());
    assert!(spec["components"]["schemas"]["Concern"]["example"].is_object());
}

/// Each documented path, with every method: a documented one reaches its handler (401 for want
/// of a token, where one is needed), any other is the 405 that names the documented ones. The
/// routes actix registered are therefore exactly the operations of the document, path by path.
#[actix_web::test]
async fn the_app_serves_exactly_the_documented_methods_of_each_path() {
    let app = TestApp::new().await;
    let document = careloop::api::docs::document();
    let unrouted = app
        .call(Method::GET, "/v1/nothing-here", None, None)
        .await
        .expect_problem(404, "not_found");
    for (path, item) in document["paths"].as_object().unwrap() {
        let concrete = with_ids_of_nothing(path);
        let mut documented: Vec<String> = operations(document)
            .filter(|(_, at, _)| at == path)
            .map(|(method, _, _)| method)
            .collect();
        documented.sort_unstable();
        assert!(!documented.is_empty(), "{path} has no operation");
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            let answer = app.call(method.clone(), &concrete, None, None).await;
            if documented.iter().any(|m| m == method.as_str()) {
                assert!(
                    answer.status != 405 && answer.body != unrouted.body,
                    "{method} {path} is documented but not routed: {} {:#}",
                    answer.status,
                    answer.body
                );
                let operation = &item[method.as_str().to_lowercase()];
                if takes_a_token(document, operation) {
                    answer.expect_problem(401, "unauthorized");
                }
            } else {
                let refused = answer.expect_problem(405, "method_not_allowed");
                let mut allowed: Vec<&str> = refused
                    .header("allow")
                    .expect("an Allow header")
                    .split(", ")
                    .filter(|m| *m != "HEAD")
                    .collect();
                allowed.sort_unstable();
                assert_eq!(allowed, documented, "{method} {path}");
            }
        }
    }
}

#[actix_web::test]
async fn runs_on_the_database_it_was_asked_for() {
    let app = TestApp::new().await;
    let on_postgres = app.with_conn(|conn| matches!(conn, careloop::db::DbConnection::Pg(_)));
    let asked_for_postgres =
        std::env::var("TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres"));
    assert_eq!(on_postgres, asked_for_postgres);
}

/// A path template with every parameter filled with an id that names nothing.
fn with_ids_of_nothing(template: &str) -> String {
    template
        .split('/')
        .map(|s| {
            if s.starts_with('{') {
                nothing_id()
            } else {
                s.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[actix_web::test]
async fn who_may_act_is_decided_before_what_they_sent() {
    let app = TestApp::new().await;
    let document = careloop::api::docs::document();
    let (writes, token_free): (Vec<_>, Vec<_>) = operations(document)
        .filter(|(method, _, _)| ["POST", "PATCH", "PUT", "DELETE"].contains(&method.as_str()))
        .partition(|(_, _, operation)| takes_a_token(document, operation));
    // Every write but the anonymous raiser's message, whose receipt code is the credential,
    // a machine client's token request, whose client secret is, and the dashboard's sign-in,
    // which exists only in development mode (loopback only, no key configured), and the public
    // intake points' doors, whose form token binds a submission to a form they served.
    let token_free: Vec<_> = token_free
        .iter()
        .map(|(method, path, _)| format!("{method} {path}"))
        .collect();
    assert_eq!(
        token_free,
        [
            "POST /dashboard/sign-in",
            "POST /i/{slug}",
            "POST /oauth/token",
            "POST /v1/receipt/messages"
        ]
    );
    for (method, path, _) in writes {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let path = with_ids_of_nothing(path);
        for body in ["{\"nonsense\": true, \"title\": 42}", "{not json", ""] {
            app.send_raw(
                method.clone(),
                &path,
                &app.viewer,
                &[
                    ("Content-Type", "application/json"),
                    ("Idempotency-Key", "has spaces in it"),
                ],
                body,
            )
            .await
            .expect_problem(403, "forbidden");
        }
    }
    assert_eq!(app.count("recognitions"), 0);
}

#[actix_web::test]
async fn one_answer_names_every_bad_field_by_its_json_path() {
    let app = TestApp::new().await;
    let missing = app
        .post(&app.staff, "/v1/concerns", json!({}))
        .await
        .expect_problem(422, "validation_failed");
    let fields = missing.error_fields();
    assert_eq!(fields, ["category", "description", "risk", "title"]);
    assert!(missing.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["message"] == "is required"));

    let nested = app
        .post(
            &app.manager,
            "/v1/evidence",
            json!({
                "source": "audit", "evidence_category": "processes", "title": "Audit",
                "quality_statements": ["safe.medicines_optimisation"],
                "metric": {"name": "score", "value": "ninety"},
                "observed_at": "last tuesday", "colour": "red",
            }),
        )
        .await
        .expect_problem(422, "validation_failed");
    let errors = &nested.body["errors"];
    let named = |field: &str| {
        errors
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["field"] == field)
            .map(|e| e["message"].as_str().unwrap().to_owned())
    };
    assert_eq!(named("metric.value").as_deref(), Some("must be a number"));
    assert_eq!(
        named("observed_at").as_deref(),
        Some("must be a date and time in RFC 3339 (2026-11-26T14:00:00Z)")
    );
    assert_eq!(
        named("colour").as_deref(),
        Some("is not a field of this request")
    );
    assert_eq!(app.count("evidence"), 0);

    let malformed = app
        .send_raw(
            Method::POST,
            "/v1/concerns",
            &app.staff,
            &[("Content-Type", "application/json")],
            "{\"title\": ",
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        malformed.body["errors"],
        json!([{"field": "body", "message": "ends before its JSON is complete"}])
    );
}

#[actix_web::test]
async fn query_errors_are_named_like_body_errors_and_empty_values_are_absent() {
    let app = TestApp::new().await;
    let bad = app
        .get(
            &app.manager,
            "/v1/concerns?limit=abc&status=lost&overdue=maybe",
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        bad.body["errors"],
        json!([
            {"field": "limit", "message": "must be a whole number"},
            {"field": "overdue", "message": "must be true or false"},
            {"field": "status", "message": "must be one of: raised, acknowledged, investigating, escalated, resolved, closed"},
        ])
    );
    let too_many = app
        .get(&app.manager, "/v1/concerns?limit=1000")
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(too_many.body["errors"][0]["field"], "limit");
    app.get(&app.manager, "/v1/concerns?cursor=&limit=&status=")
        .await
        .expect(200);
    let misspelt = app
        .get(&app.manager, "/v1/concerns?stauts=raised")
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        misspelt.body["errors"],
        json!([{"field": "stauts", "message": "is not a parameter of this request"}])
    );
}

#[actix_web::test]
async fn a_malformed_idempotency_key_is_422_and_changes_nothing() {
    let app = TestApp::new().await;
    for key in ["has spaces", &"k".repeat(256)] {
        let body = json!({"title": "t", "description": "d", "category": "other", "risk": "low"});
        let refused = app
            .post_keyed(&app.staff, "/v1/concerns", key, body)
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(refused.body["errors"][0]["field"], "Idempotency-Key");
    }
    assert_eq!(app.count("concerns"), 0);
}

#[test]
fn every_cursor_parameter_is_described_as_the_cursor_careloop_sends() {
    let document = careloop::api::docs::document();
    let mut with_cursor = Vec::new();
    let mut with_limit = Vec::new();
    let mut lists = Vec::new();
    let mut whole_lists = Vec::new();
    for (method, path, operation) in operations(document) {
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let named = |name: &str| parameters.iter().find(|p| p["name"] == name);
        if let Some(cursor) = named("cursor") {
            assert_eq!(cursor["schema"]["pattern"], careloop::api::contract::CURSOR);
            with_cursor.push(format!("{method} {path}"));
        }
        if named("limit").is_some() {
            with_limit.push(format!("{method} {path}"));
        }
        // A list answers `items` and `next_cursor`; one that takes no cursor is always whole.
        let answer = &operation["responses"]["200"]["content"]["application/json"]["schema"];
        let answer = match answer["$ref"].as_str() {
            Some(reference) => document
                .pointer(reference.trim_start_matches('#'))
                .expect("the reference resolves"),
            None => answer,
        };
        if answer["properties"]["next_cursor"].is_object() {
            match named("cursor") {
                Some(_) => lists.push(format!("{method} {path}")),
                None => whole_lists.push(format!("{method} {path}")),
            }
        }
    }
    // Paging takes both; only lists take them; every list pages.
    assert_eq!(with_cursor, with_limit);
    assert_eq!(with_cursor, lists);
    assert!(whole_lists.is_empty(), "{whole_lists:?}");
}

#[actix_web::test]
async fn numbers_and_shapes_are_read_as_the_schema_reads_them() {
    let app = TestApp::new().await;
    // JSON Schema counts 3.0 as the integer 3, so careloop does too.
    let scored = app
        .put(
            &app.manager,
            &format!(
                "/v1/locations/{}/self-assessments/cqc-saf-2024/quality-statements/safe.learning_culture",
                app.location
            ),
            json!({"score": 3.0, "rationale": "Debriefs after every fall"}),
        )
        .await
        .expect(201);
    assert_eq!(scored.body["score"], 3);
    // An array is not an object, though serde would read one into a struct.
    let location = format!("/v1/locations/{}", app.location);
    let refused = app
        .patch(&app.admin, &location, json!(["Renamed", null, null]))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        refused.body["errors"],
        json!([{"field": "body", "message": "must be an object"}])
    );
    let unchanged = app.get(&app.admin, &location).await.expect(200);
    assert_ne!(unchanged.body["name"], "Renamed");
}

/// One vocabulary: operationIds are `verb_noun` from one small set of verbs, and every path
/// parameter is named for what it identifies.
#[test]
fn operation_ids_and_path_parameters_follow_one_style() {
    const VERBS: [&str; 21] = [
        "submit",
        "verify",
        "decide",
        "publish",
        "unpublish",
        "list",
        "delete",
        "retry",
        "test",
        "rotate",
        "revoke",
        "issue",
        "get",
        "create",
        "update",
        "transition",
        "add",
        "archive",
        "set",
        "record",
        "check",
    ];
    let document = careloop::api::docs::document();
    for (method, path, operation) in operations(document) {
        for (member, value) in operation.as_object().unwrap() {
            assert!(!value.is_null(), "{method} {path}: {member} is null");
        }
        let id = operation["operationId"].as_str().unwrap();
        let verb = id.split('_').next().unwrap();
        assert!(VERBS.contains(&verb), "{method} {path}: {id}");
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(|c| c == '{' || c == '}');
            assert!(
                name.ends_with("_id") || ["metric_name", "month", "slug"].contains(&name),
                "{method} {path}: {{{name}}} does not say what it identifies"
            );
        }
    }
}

/// Times are named for what they are: an instant ends in `_at`, a day in `_on`, in every schema
/// of the document (query windows are `from` and `to`, and the sync filter `updated_since`).
#[test]
fn instants_end_in_at_and_days_in_on() {
    let schemas = careloop::api::docs::document()["components"]["schemas"]
        .as_object()
        .unwrap();
    for (name, schema) in schemas {
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            // The Standard Webhooks envelope names its instant `timestamp`.
            if field == "from" || field == "to" || (name.ends_with("Event") && field == "timestamp")
            {
                continue;
            }
            let text = property.to_string();
            if text.contains("\"date-time\"") {
                assert!(field.ends_with("_at"), "{name}.{field} is an instant");
            } else if text.contains("\"format\":\"date\"") {
                assert!(field.ends_with("_on"), "{name}.{field} is a day");
            }
        }
    }
}
