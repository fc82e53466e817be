//! Learning events: recording, the governance-review rule, links, filters and edits.

use careloop::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{claims, nothing_id, sign, TestApp};

fn governance_review(app: &TestApp) -> Value {
    json!({
        "kind": "governance_review",
        "occurred_at": "2026-11-20T14:00:00Z",
        "title": "November governance meeting",
        "location_id": app.location,
        "participants": [{"role": "manager", "name": "Alex"}, {"role": "relative"}],
        "went_well": "Falls down a third",
        "did_not_go_well": "Call bells at night",
        "to_change": "Second night carer",
        "lessons": ["Check call-bell logs weekly"],
        "shared_via": ["team_meeting", "newsletter"],
        "quality_statements": ["well_led.governance_management_sustainability", "safe.learning_culture"]
    })
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_governance_review_is_recorded_with_its_links() {
    let app = TestApp::new().await;
    let concern = app.raise(&app.staff, json!({})).await;
    let mut body = governance_review(&app);
    body["linked_records"] = json!([{"kind": "concern", "id": concern}]);
    let created = app
        .post(&app.manager, "/v1/learning-events", body)
        .await
        .expect(201);
    let id = created.id();
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/learning-events/{id}").as_str())
    );
    assert_eq!(created.body["kind"], "governance_review");
    assert_eq!(
        created.body["participants"][1],
        json!({"role": "relative", "name": null, "agreed_to_be_named": false})
    );
    assert_eq!(
        created.body["shared_via"],
        json!(["team_meeting", "newsletter"])
    );
    assert_eq!(
        created.body["quality_statements"],
        json!([
            "safe.learning_culture",
            "well_led.governance_management_sustainability"
        ])
    );
    assert_eq!(
        created.body["linked_records"],
        json!([{"kind": "concern", "id": concern}])
    );
    assert_eq!(
        created.body["recorded_by"],
        json!({"kind": "user", "sub": "user-manager", "name": null})
    );
    let read = app
        .get(&app.viewer, &format!("/v1/learning-events/{id}"))
        .await
        .expect(200);
    assert_eq!(read.body, created.body);
    assert_eq!(read.header("etag"), Some("\"1\""));
}

#[actix_web::test]
async fn a_governance_review_needs_all_three_reflections() {
    let app = TestApp::new().await;
    let mut body = governance_review(&app);
    body.as_object_mut().unwrap().remove("went_well");
    body.as_object_mut().unwrap().remove("to_change");
    let response = app
        .post(&app.manager, "/v1/learning-events", body)
        .await
        .expect_problem(422, "validation_failed");
    let fields: Vec<_> = response.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].clone())
        .collect();
    assert_eq!(fields, [json!("went_well"), json!("to_change")]);
    // A blank reflection is refused by the document, before the review's rules are read.
    let mut blank = governance_review(&app);
    blank["to_change"] = json!("  ");
    let response = app
        .post(&app.manager, "/v1/learning-events", blank)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        response.body["errors"],
        json!([{"field": "to_change", "message": "must not be blank"}])
    );
    // A debrief needs none of them.
    let debrief = json!({"kind": "post_incident_debrief", "occurred_at": "2026-11-01T10:00:00Z",
                         "title": "Fall in the lounge", "location_id": app.location});
    app.post(&app.staff, "/v1/learning-events", debrief)
        .await
        .expect(201);
    assert_eq!(app.count("learning_events"), 1);
}

#[actix_web::test]
async fn bad_learning_events_are_rejected_and_not_stored() {
    let app = TestApp::new().await;
    let with = |field: &str, value: Value| {
        let mut body = governance_review(&app);
        body[field] = value;
        body
    };
    let unknown = app
        .post(
            &app.manager,
            "/v1/learning-events",
            with(
                "quality_statements",
                json!(["safe.learning_culture", "safe.nonsense"]),
            ),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        unknown.body["errors"],
        json!([{"field": "quality_statements", "message": "unknown quality statement: safe.nonsense"}])
    );
    let missing = nothing_id();
    let bad_link = app
        .post(
            &app.manager,
            "/v1/learning-events",
            with(
                "linked_records",
                json!([{"kind": "concern", "id": missing}]),
            ),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        bad_link.body["errors"],
        json!([{"field": "linked_records", "message": format!("no such concern: {missing}")}])
    );
    // Another organisation's concern is as good as none.
    let theirs = app
        .post(
            &app.other_admin,
            "/v1/concerns",
            json!({"title": "t", "description": "d", "category": "other", "risk": "low"}),
        )
        .await
        .expect(201)
        .id();
    app.post(
        &app.manager,
        "/v1/learning-events",
        with("linked_records", json!([{"kind": "concern", "id": theirs}])),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &app.manager,
        "/v1/learning-events",
        with("occurred_at", json!("2999-01-01T00:00:00Z")),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &app.manager,
        "/v1/learning-events",
        with("kind", json!("party")),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &app.manager,
        "/v1/learning-events",
        with("participants", json!([{"role": "cat"}])),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &app.manager,
        "/v1/learning-events",
        with("lessons", json!([""])),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &app.manager,
        "/v1/learning-events",
        with("title", json!("x".repeat(201))),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &app.manager,
        "/v1/learning-events",
        with("occurred_at", json!("last tuesday")),
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_eq!(app.count("learning_events"), 0);
    assert_eq!(app.count("quality_statement_tags"), 0);
    assert_eq!(app.count("record_links"), 0);
}

#[actix_web::test]
async fn learning_events_are_filtered() {
    let app = TestApp::new().await;
    let review = app
        .post(&app.manager, "/v1/learning-events", governance_review(&app))
        .await
        .expect(201)
        .id();
    let debrief = app
        .post(&app.staff, "/v1/learning-events",
              json!({"kind": "post_incident_debrief", "occurred_at": "2026-10-01T10:00:00Z", "title": "Fall",
                     "location_id": app.second_location, "quality_statements": ["safe.learning_culture"],
                     "external_ref": {"system": "vendor", "id": "D-1"}}))
        .await
        .expect(201)
        .id();
    let list = |query: &'static str| {
        let app = &app;
        async move {
            ids(&app
                .get(&app.viewer, &format!("/v1/learning-events?{query}"))
                .await
                .expect(200)
                .body)
        }
    };
    assert_eq!(list("").await, vec![review.clone(), debrief.clone()]);
    assert_eq!(
        list("kind=post_incident_debrief").await,
        vec![debrief.clone()]
    );
    assert_eq!(
        list("quality_statement_id=safe.learning_culture").await,
        vec![review.clone(), debrief.clone()]
    );
    assert_eq!(
        list("quality_statement_id=well_led.governance_management_sustainability").await,
        vec![review.clone()]
    );
    assert_eq!(
        list("from=2026-11-01T00:00:00Z").await,
        vec![review.clone()]
    );
    assert_eq!(list("to=2026-10-31T00:00:00Z").await, vec![debrief.clone()]);
    let here = app
        .get(
            &app.viewer,
            &format!("/v1/learning-events?location_id={}", app.location),
        )
        .await;
    assert_eq!(ids(&here.body), vec![review.clone()]);
    assert_eq!(
        list("updated_since=2999-01-01T00:00:00Z").await,
        Vec::<String>::new()
    );
    app.get(
        &app.viewer,
        "/v1/learning-events?from=2026-12-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    )
    .await
    .expect_problem(422, "validation_failed");
    // The same external reference twice is a conflict naming the first.
    let duplicate = app
        .post(&app.staff, "/v1/learning-events",
              json!({"kind": "supervision", "occurred_at": "2026-10-02T10:00:00Z", "title": "Again",
                     "location_id": app.location, "external_ref": {"system": "vendor", "id": "D-1"}}))
        .await
        .expect_problem(409, "duplicate_external_ref");
    assert_eq!(duplicate.body["existing_id"], json!(debrief));
}

#[actix_web::test]
async fn learning_events_are_edited_by_the_team_and_their_recorder() {
    let app = TestApp::new().await;
    let mine = app
        .post(
            &app.staff,
            "/v1/learning-events",
            json!({"kind": "reflective_discussion", "occurred_at": "2026-11-02T10:00:00Z",
                     "title": "Night handover", "location_id": app.location, "lessons": ["one"]}),
        )
        .await
        .expect(201)
        .id();
    let path = format!("/v1/learning-events/{mine}");
    let edited = app
        .patch(
            &app.staff,
            &path,
            json!({"lessons": ["one", "two"], "summary": "Handover is rushed",
                                          "quality_statements": ["safe.learning_culture"]}),
        )
        .await
        .expect(200);
    assert_eq!(edited.body["lessons"], json!(["one", "two"]));
    assert_eq!(
        edited.body["quality_statements"],
        json!(["safe.learning_culture"])
    );
    assert_eq!(edited.body["version"], 2);
    let colleague = sign(&claims(&app.org, &[Role::Staff], "another-carer"));
    app.patch(&colleague, &path, json!({"title": "Mine now"}))
        .await
        .expect_problem(403, "forbidden");
    app.patch(&app.viewer, &path, json!({"title": "x"}))
        .await
        .expect_problem(403, "forbidden");
    app.patch(&app.manager, &path, json!({"summary": null}))
        .await
        .expect(200);
    // Becoming a governance review needs the reflections this record does not have.
    let conflict = app
        .patch(&app.manager, &path, json!({"kind": "governance_review"}))
        .await
        .expect_problem(409, "conflicts_with_record");
    assert_eq!(conflict.body["errors"].as_array().unwrap().len(), 3);
    app.patch_if_match(&app.manager, &path, "\"1\"", json!({"title": "Stale"}))
        .await
        .expect_problem(412, "precondition_failed");
    let read = app.get(&app.manager, &path).await.expect(200);
    assert_eq!(read.body["summary"], json!(null));
    assert_eq!(read.body["title"], "Night handover");
    assert_eq!(read.body["version"], 3);
    let audit = app
        .get(
            &app.admin,
            &format!("/v1/audit-events?resource_type=learning_event&resource_id={mine}"),
        )
        .await
        .expect(200);
    let actions: Vec<_> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].clone())
        .collect();
    assert_eq!(
        actions,
        vec![json!("create"), json!("update"), json!("update")]
    );
    assert_eq!(
        audit.body["items"][1]["changed_fields"],
        json!(["summary", "lessons", "quality_statements"])
    );
}
