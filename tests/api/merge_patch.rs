//! Every PATCH is a JSON Merge Patch (RFC 7396): a field left out stays, `null` clears a field
//! the document types nullable and is a 422 naming any other field, changing nothing.

use serde_json::{json, Value};

use careloop::api::docs::conventions::is_nullable;

use crate::helpers::{operations, TestApp};

/// One record of each kind that has a PATCH, by the path template that changes it.
async fn records(app: &TestApp) -> Vec<(&'static str, String)> {
    let location = &app.location;
    let concern = app
        .raise(&app.manager, json!({"location_id": location}))
        .await;
    let learning = app
        .post(
            &app.manager,
            "/v1/learning-events",
            json!({"kind": "supervision", "occurred_at": "2026-11-01T10:00:00Z",
                   "title": "Supervision", "location_id": location, "summary": "Went over it"}),
        )
        .await
        .expect(201)
        .id();
    let evidence = app
        .post(
            &app.manager,
            "/v1/evidence",
            json!({"source": "audit", "evidence_category": "processes",
                   "quality_statements": ["safe.safeguarding"], "title": "Body map audit",
                   "observed_at": "2026-11-01T10:00:00Z", "location_id": location}),
        )
        .await
        .expect(201)
        .id();
    let plan = app
        .post(
            &app.manager,
            "/v1/improvement-plans",
            json!({"title": "Plan", "objective": "o", "owner": {"sub": "user-manager"},
                   "priority": "high", "review_cadence": "monthly", "location_id": location}),
        )
        .await
        .expect(201)
        .id();
    let action = app
        .post(
            &app.manager,
            &format!("/v1/improvement-plans/{plan}/actions"),
            json!({"description": "Body maps on admission", "owner": {"sub": "user-staff"},
                   "due_on": "2026-12-24"}),
        )
        .await
        .expect(201)
        .id();
    vec![
        (
            "/v1/concerns/{concern_id}",
            format!("/v1/concerns/{concern}"),
        ),
        (
            "/v1/learning-events/{learning_event_id}",
            format!("/v1/learning-events/{learning}"),
        ),
        (
            "/v1/evidence/{evidence_id}",
            format!("/v1/evidence/{evidence}"),
        ),
        (
            "/v1/improvement-plans/{plan_id}",
            format!("/v1/improvement-plans/{plan}"),
        ),
        (
            "/v1/improvement-plans/{plan_id}/actions/{action_id}",
            format!("/v1/improvement-plans/{plan}/actions/{action}"),
        ),
        (
            "/v1/locations/{location_id}",
            format!("/v1/locations/{location}"),
        ),
        ("/v1/organisation", "/v1/organisation".to_owned()),
    ]
}

#[actix_web::test]
async fn null_is_refused_on_every_field_that_cannot_be_cleared() {
    let app = TestApp::new().await;
    let records = records(&app).await;
    let document = careloop::api::docs::document().clone();
    let schemas = &document["components"]["schemas"];
    let mut patches = 0;
    for (method, template, operation) in operations(&document) {
        if method != "PATCH" {
            continue;
        }
        patches += 1;
        let path = &records
            .iter()
            .find(|(t, _)| *t == template)
            .unwrap_or_else(|| panic!("no record for {template}"))
            .1;
        let reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap();
        let body = &schemas[reference.rsplit('/').next().unwrap()];
        assert!(body["description"]
            .as_str()
            .unwrap()
            .contains("JSON Merge Patch"));
        let before = app.get(&app.admin, path).await.expect(200).body;
        for (field, schema) in body["properties"].as_object().unwrap() {
            if is_nullable(schema) {
                continue;
            }
            let refused = app
                .patch(&app.admin, path, json!({ field: null }))
                .await
                .expect_problem(422, "validation_failed");
            assert_eq!(
                refused.body["errors"],
                json!([{"field": field, "message":
                    "cannot be null: it cannot be cleared (leave it out to keep it as it is)"}]),
                "{template} {field}"
            );
        }
        let after = app.get(&app.admin, path).await.expect(200).body;
        assert_eq!(before, after, "{template} changed");
    }
    assert_eq!(patches, records.len());
}

#[actix_web::test]
async fn null_clears_what_may_be_cleared_and_absent_leaves_it() {
    let app = TestApp::new().await;
    let records = records(&app).await;
    let concern = &records[0].1;
    let read = app.get(&app.manager, concern).await.expect(200).body;
    let cleared = app
        .patch(&app.manager, concern, json!({"location_id": null}))
        .await
        .expect(200)
        .body;
    assert_eq!(cleared["location_id"], Value::Null);
    assert_eq!(cleared["title"], read["title"]);
    let learning = &records[1].1;
    let cleared = app
        .patch(
            &app.manager,
            learning,
            json!({"summary": null, "title": "Renamed"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(cleared["summary"], Value::Null);
    assert_eq!(cleared["title"], "Renamed");
    assert_eq!(cleared["kind"], "supervision");
}
