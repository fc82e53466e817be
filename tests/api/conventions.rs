//! What every endpoint shares: request ids, problems for unknown routes, health, docs and the
//! committed OpenAPI document.

use actix_web::http::Method;
use actix_web::test::TestRequest;

use serde_json::json;

use crate::helpers::{log_capture, TestApp};

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
    let trace = app
        .call(
            Method::TRACE,
            "/v1/concerns/0192f0c4-2222-7000-8000-000000000001",
            None,
            None,
        )
        .await
        .expect_problem(405, "method_not_allowed");
    assert_eq!(trace.header("allow"), Some("GET, PATCH, HEAD"));
    let post_only = app
        .call(
            Method::PUT,
            "/v1/concerns/0192f0c4-2222-7000-8000-000000000001/transitions",
            None,
            None,
        )
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
    assert_eq!(spec.body["info"]["title"], "careloop");
    let docs = app.call(Method::GET, "/docs/", None, None).await;
    assert_eq!(docs.status, 200);
    let redirect = app.call(Method::GET, "/docs", None, None).await;
    assert!(redirect.status.is_redirection());
}

#[test]
fn the_committed_openapi_document_is_current() {
    let generated = serde_json::to_string_pretty(careloop::api::docs::document()).unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json`"
    );
}

#[test]
fn every_operation_is_documented_with_errors_and_security() {
    let spec = careloop::api::docs::document();
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.len() >= 12);
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                operation["summary"].is_string(),
                "{method} {path} has no summary"
            );
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path}"
            );
            if path.starts_with("/v1/") && !path.starts_with("/v1/receipts") {
                assert!(responses.contains_key("401"), "{method} {path} lacks 401");
                assert!(responses.contains_key("403"), "{method} {path} lacks 403");
                assert_eq!(
                    operation["security"][0]["bearer"],
                    serde_json::json!([]),
                    "{method} {path}"
                );
            }
            if ["post", "patch", "put"].contains(&method.as_str()) {
                assert!(
                    operation["requestBody"].is_object(),
                    "{method} {path} has no body schema"
                );
                assert!(responses.contains_key("422"), "{method} {path} lacks 422");
            }
        }
    }
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
    assert!(spec["components"]["schemas"]["Concern"]["example"].is_object());
}

#[actix_web::test]
async fn runs_on_the_database_it_was_asked_for() {
    let app = TestApp::new().await;
    let on_postgres = app.with_conn(|conn| matches!(conn, careloop::db::DbConnection::Pg(_)));
    let asked_for_postgres =
        std::env::var("TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres"));
    assert_eq!(on_postgres, asked_for_postgres);
}

/// Every write path of the document, its path parameters filled with an id of nothing.
fn write_operations() -> Vec<(Method, String)> {
    let document = careloop::api::docs::document();
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        if path.starts_with("/v1/receipts") {
            continue; // token-free: the receipt code is the credential
        }
        let path = path
            .split('/')
            .map(|s| {
                if s.starts_with('{') {
                    "0192f0c4-0000-7000-8000-00000000dead"
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            if ["post", "patch", "put", "delete"].contains(&method.as_str()) {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                operations.push((method, path.clone()));
            }
        }
    }
    operations
}

#[actix_web::test]
async fn who_may_act_is_decided_before_what_they_sent() {
    let app = TestApp::new().await;
    let operations = write_operations();
    assert!(operations.len() >= 20);
    for (method, path) in operations {
        for body in ["{\"nonsense\": true, \"title\": 42}", "{not json", ""] {
            let request = TestRequest::default()
                .method(method.clone())
                .uri(&path)
                .insert_header(("Authorization", format!("Bearer {}", app.viewer)))
                .insert_header(("Content-Type", "application/json"))
                .insert_header(("Idempotency-Key", "has spaces in it"))
                .set_payload(body);
            app.send(request).await.expect_problem(403, "forbidden");
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
    let fields: Vec<&str> = missing.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
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
        .send(
            TestRequest::post()
                .uri("/v1/concerns")
                .insert_header(("Authorization", format!("Bearer {}", app.staff)))
                .insert_header(("Content-Type", "application/json"))
                .set_payload("{\"title\": "),
        )
        .await
        .expect_problem(400, "malformed_json");
    assert_eq!(
        malformed.body["detail"],
        "the body ends before its JSON is complete"
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
async fn a_malformed_idempotency_key_is_400_and_changes_nothing() {
    let app = TestApp::new().await;
    for key in ["has spaces", &"k".repeat(256)] {
        let request = TestRequest::post()
            .uri("/v1/concerns")
            .insert_header(("Authorization", format!("Bearer {}", app.staff)))
            .insert_header(("Idempotency-Key", key))
            .set_json(
                json!({"title": "t", "description": "d", "category": "other", "risk": "low"}),
            );
        app.send(request)
            .await
            .expect_problem(400, "invalid_idempotency_key");
    }
    assert_eq!(app.count("concerns"), 0);
}

#[test]
fn every_cursor_parameter_is_described_as_the_cursor_careloop_sends() {
    let document = careloop::api::docs::document();
    let mut cursors = 0;
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for parameter in parameters.iter().filter(|p| p["name"] == "cursor") {
                assert_eq!(
                    parameter["schema"]["pattern"],
                    careloop::api::contract::CURSOR
                );
                cursors += 1;
            }
        }
    }
    assert!(cursors >= 9);
}

#[actix_web::test]
async fn numbers_and_shapes_are_read_as_the_schema_reads_them() {
    let app = TestApp::new().await;
    // JSON Schema counts 3.0 as the integer 3, so careloop does too.
    let scored = app
        .send(
            TestRequest::put()
                .uri(&format!(
                    "/v1/self-assessments/{}/cqc-saf-2024/safe.learning_culture",
                    app.location
                ))
                .insert_header(("Authorization", format!("Bearer {}", app.manager)))
                .set_json(json!({"score": 3.0, "rationale": "Debriefs after every fall"})),
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
