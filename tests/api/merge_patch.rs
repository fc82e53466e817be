//! Every PATCH is a JSON Merge Patch (RFC 7396): a field left out stays, `null` clears a field
//! the document types nullable and is a 422 naming any other field, changing nothing.

use serde_json::{json, Value};

use careloop::api::docs::conventions::is_nullable;

use crate::helpers::{operations, TestApp};
use crate::privacy::scene;

/// One record of each kind that has a PATCH (the privacy walk's), by the template that changes it.
async fn records(app: &TestApp) -> Vec<(&'static str, String)> {
    let scene = scene(app).await;
    let (plan, action) = (&scene.plan, &scene.action);
    vec![
        (
            "/v1/concerns/{concern_id}",
            format!("/v1/concerns/{}", scene.concern),
        ),
        (
            "/v1/learning-events/{learning_event_id}",
            format!("/v1/learning-events/{}", scene.learning),
        ),
        (
            "/v1/evidence/{evidence_id}",
            format!("/v1/evidence/{}", scene.evidence),
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
            format!("/v1/locations/{}", app.location),
        ),
        ("/v1/organisation", "/v1/organisation".to_owned()),
        (
            "/v1/webhooks/{webhook_id}",
            format!("/v1/webhooks/{}", scene.webhook),
        ),
        (
            "/v1/intake-points/{intake_point_id}",
            format!("/v1/intake-points/{}", scene.intake_point),
        ),
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
