//! Evolution: answers may gain fields and enum values, so the document never forbids an unknown
//! field in an answer and tells clients to accept unknown enum values; requests stay strict; and
//! every value careloop sends is one the document lists.

use serde_json::{json, Value};

use crate::helpers::{texts, TestApp};
use crate::privacy::scene;

fn schemas() -> &'static Value {
    &careloop::api::docs::document()["components"]["schemas"]
}

#[test]
fn answers_are_open_to_new_fields_and_enums_to_new_values() {
    let document = careloop::api::docs::document();
    let text = document.to_string();
    // Only request bodies (schemas no answer uses) forbid unknown fields.
    for (name, schema) in schemas().as_object().unwrap() {
        if schema["additionalProperties"] == false {
            let reference = format!("\"#/components/schemas/{name}\"");
            let answered = document["paths"]
                .as_object()
                .unwrap()
                .values()
                .flat_map(|item| item.as_object().unwrap().values())
                .any(|operation| operation["responses"].to_string().contains(&reference));
            assert!(!answered, "{name} is answered but forbids new fields");
        }
        if schema.get("enum").is_some() {
            assert!(
                schema["description"]
                    .as_str()
                    .is_some_and(|d| d.contains("a client must accept one it does not know")),
                "{name} does not say it may grow"
            );
        }
    }
    assert!(text.contains("Evolution"));
}

#[test]
fn every_object_a_request_uses_forbids_fields_it_does_not_name() {
    let document = careloop::api::docs::document();
    let mut requested = std::collections::BTreeSet::new();
    let mut pending: Vec<&Value> = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        // JSON bodies: the token endpoint's form must ignore what it does not know (RFC 6749
        // §3.2), and says so.
        .map(|operation| &operation["requestBody"]["content"]["application/json"])
        .collect();
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => {
                if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                    let name = reference.rsplit('/').next().unwrap();
                    if requested.insert(name.to_owned()) {
                        pending.push(&schemas()[name]);
                    }
                }
                pending.extend(map.values());
            }
            Value::Array(list) => pending.extend(list.iter()),
            _ => {}
        }
    }
    assert!(requested.contains("ExternalRefInput"), "{requested:?}");
    for name in &requested {
        let schema = &schemas()[name.as_str()];
        if schema.get("properties").is_some() {
            assert_eq!(
                schema["additionalProperties"], false,
                "{name} takes unknown fields"
            );
        }
    }
}

#[actix_web::test]
async fn requests_stay_strict_in_objects_answers_share() {
    let app = TestApp::new().await;
    let refused = app
        .post(
            &app.manager,
            "/v1/evidence",
            json!({"source": "audit", "evidence_category": "processes",
                   "quality_statements": ["safe.safeguarding"], "title": "Audit",
                   "observed_at": "2026-11-01T10:00:00Z",
                   "external_ref": {"system": "vendor", "id": "A-1", "colour": "red"}}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        refused.body["errors"],
        json!([{"field": "external_ref.colour", "message": "is not a field of this request"}])
    );
    assert_eq!(app.count("evidence"), 0);
}

#[actix_web::test]
async fn every_audit_action_and_resource_type_sent_is_documented() {
    let app = TestApp::new().await;
    let scene = scene(&app).await;
    app.call(
        actix_web::http::Method::DELETE,
        &format!("/v1/evidence/{}", scene.evidence),
        Some(&app.manager),
        None,
    )
    .await
    .expect(200);
    let listed = |name: &str| -> Vec<String> {
        schemas()[name]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let (actions, resources) = (listed("AuditAction"), listed("AuditResource"));
    let sent = app.with_conn(|conn| {
        (
            texts(conn, "SELECT DISTINCT action AS text FROM audit_events"),
            texts(
                conn,
                "SELECT DISTINCT resource_type AS text FROM audit_events",
            ),
        )
    });
    assert!(sent.0.len() >= 4 && sent.1.len() >= 8, "{sent:?}");
    for action in &sent.0 {
        assert!(actions.contains(action), "{action} is not in AuditAction");
    }
    for resource in &sent.1 {
        assert!(
            resources.contains(resource),
            "{resource} is not in AuditResource"
        );
    }
}
