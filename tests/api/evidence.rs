//! Evidence: recording, who may record what, archiving, filters and metric series.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::helpers::{nothing_id, TestApp};

fn audit_result(app: &TestApp, month: u32, value: f64) -> Value {
    json!({
        "source": "audit",
        "evidence_category": "processes",
        "quality_statements": ["safe.medicines_optimisation"],
        "title": format!("Medication audit, month {month}"),
        "period_start_at": format!("2026-{month:02}-01T00:00:00Z"),
        "period_end_at": format!("2026-{month:02}-28T00:00:00Z"),
        "location_id": app.location,
        "metric": {"name": "medication_audit_score", "value": value, "unit": "%", "target": 95.0}
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
async fn an_audit_result_with_a_metric_is_recorded() {
    let app = TestApp::new().await;
    let learning = app
        .post(&app.manager, "/v1/learning-events",
              json!({"kind": "audit_review", "occurred_at": "2026-09-30T10:00:00Z", "title": "Audit review",
                     "location_id": app.location}))
        .await
        .expect(201)
        .id();
    let mut body = audit_result(&app, 9, 92.5);
    body["linked_records"] = json!([{"kind": "learning_event", "id": learning}]);
    body["links"] = json!(["https://records.example/audits/2026-09"]);
    let created = app
        .post(&app.integration, "/v1/evidence", body)
        .await
        .expect(201);
    let id = created.id();
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/evidence/{id}").as_str())
    );
    assert_eq!(
        created.body["metric"],
        json!({"name": "medication_audit_score", "value": 92.5, "unit": "%", "target": 95.0, "direction": "at_least"})
    );
    assert_eq!(
        created.body["linked_records"],
        json!([{"kind": "learning_event", "id": learning}])
    );
    assert_eq!(created.body["observed_at"], json!(null));
    assert_eq!(created.body["period_start_at"], "2026-09-01T00:00:00Z");
    assert_eq!(created.body["archived_at"], json!(null));
    let read = app
        .get(&app.staff, &format!("/v1/evidence/{id}"))
        .await
        .expect(200);
    assert_eq!(read.body, created.body);
}

#[actix_web::test]
async fn staff_record_feedback_and_observations_only() {
    let app = TestApp::new().await;
    let feedback = json!({
        "source": "feedback", "evidence_category": "peoples_experience",
        "quality_statements": ["caring.kindness_compassion_dignity"], "title": "Daughter's thanks",
        "observed_at": "2026-11-01T15:00:00Z", "location_id": app.location, "respondent": "relative"
    });
    app.post(&app.staff, "/v1/evidence", feedback.clone())
        .await
        .expect(201);
    app.post(&app.staff, "/v1/evidence", audit_result(&app, 9, 90.0))
        .await
        .expect_problem(403, "forbidden");
    app.post(&app.viewer, "/v1/evidence", feedback.clone())
        .await
        .expect_problem(403, "forbidden");
    let mut anonymous_feedback = feedback;
    anonymous_feedback
        .as_object_mut()
        .unwrap()
        .remove("respondent");
    app.post(&app.staff, "/v1/evidence", anonymous_feedback)
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(app.count("evidence"), 1);
}

#[actix_web::test]
async fn bad_evidence_is_rejected_and_not_stored() {
    let app = TestApp::new().await;
    let with = |field: &str, value: Value| {
        let mut body = audit_result(&app, 9, 90.0);
        body[field] = value;
        body
    };
    let expect_invalid = |body: Value, field: &'static str| {
        let app = &app;
        async move {
            let response = app
                .post(&app.manager, "/v1/evidence", body)
                .await
                .expect_problem(422, "validation_failed");
            let fields: Vec<_> = response.body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].clone())
                .collect();
            // That field, and only that one: the rest of the body is valid.
            assert_eq!(fields, [json!(field)], "{field}");
        }
    };
    expect_invalid(with("quality_statements", json!([])), "quality_statements").await;
    expect_invalid(
        with("quality_statements", json!(["safe.nope"])),
        "quality_statements",
    )
    .await;
    expect_invalid(
        with("evidence_category", json!("rumour")),
        "evidence_category",
    )
    .await;
    expect_invalid(
        with("observed_at", json!("2026-09-05T00:00:00Z")),
        "observed_at",
    )
    .await;
    expect_invalid(
        with("period_end_at", json!("2026-08-01T00:00:00Z")),
        "period_start_at",
    )
    .await;
    expect_invalid(with("period_end_at", Value::Null), "period_start_at").await;
    expect_invalid(with("links", json!(["not a url"])), "links[0]").await;
    expect_invalid(
        with("metric", json!({"name": " ", "value": 1.0})),
        "metric.name",
    )
    .await;
    expect_invalid(
        with(
            "linked_records",
            json!([{"kind": "concern", "id": nothing_id()}]),
        ),
        "linked_records",
    )
    .await;
    expect_invalid(
        with(
            "linked_records",
            json!([{"kind": "learning_event", "id": nothing_id()}]),
        ),
        "linked_records",
    )
    .await;
    expect_invalid(with("title", json!("x".repeat(201))), "title").await;
    app.post(
        &app.manager,
        "/v1/evidence",
        with("metric", json!({"name": "m", "value": "high"})),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &app.manager,
        "/v1/evidence",
        with("source", json!("gossip")),
    )
    .await
    .expect_problem(422, "validation_failed");
    // One answer names every invalid field, the external reference's too.
    let mut both = with("title", json!(""));
    both["external_ref"] = json!({"system": "", "id": "1"});
    let response = app
        .post(&app.manager, "/v1/evidence", both)
        .await
        .expect_problem(422, "validation_failed");
    let fields: Vec<_> = response.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].clone())
        .collect();
    assert_eq!(fields, vec![json!("external_ref.system"), json!("title")]);
    assert_eq!(app.count("evidence"), 0);
}

#[actix_web::test]
async fn archiving_hides_evidence_but_keeps_it() {
    let app = TestApp::new().await;
    let kept = app
        .post(&app.manager, "/v1/evidence", audit_result(&app, 9, 90.0))
        .await
        .expect(201)
        .id();
    let gone = app
        .post(&app.manager, "/v1/evidence", audit_result(&app, 10, 80.0))
        .await
        .expect(201)
        .id();
    let path = format!("/v1/evidence/{gone}");
    app.call(Method::DELETE, &path, Some(&app.staff), None)
        .await
        .expect_problem(403, "forbidden");
    let stale = [("If-Match", "\"7\"")];
    app.send_with(Method::DELETE, &path, &app.manager, &stale, None)
        .await
        .expect_problem(412, "precondition_failed");
    let archived = app
        .call(Method::DELETE, &path, Some(&app.manager), None)
        .await
        .expect(200);
    assert!(archived.body["archived_at"].is_string());
    assert_eq!(archived.body["version"], 2);
    // Archiving again changes nothing.
    let again = app
        .call(Method::DELETE, &path, Some(&app.manager), None)
        .await
        .expect(200);
    assert_eq!(again.body["version"], 2);

    assert_eq!(
        ids(&app.get(&app.viewer, "/v1/evidence").await.body),
        vec![kept.clone()]
    );
    assert_eq!(
        ids(&app
            .get(&app.viewer, "/v1/evidence?include_archived=true")
            .await
            .body),
        vec![kept.clone(), gone.clone()]
    );
    // A sync read brings the archived record, so a mirror can drop it; unless asked not to.
    let synced = app
        .get(
            &app.viewer,
            "/v1/evidence?updated_since=2000-01-01T00:00:00Z",
        )
        .await
        .body;
    assert_eq!(ids(&synced), vec![kept.clone(), gone.clone()]);
    assert!(synced["items"][1]["archived_at"].is_string());
    assert_eq!(
        ids(&app
            .get(
                &app.viewer,
                "/v1/evidence?updated_since=2000-01-01T00:00:00Z&include_archived=false"
            )
            .await
            .body),
        vec![kept.clone()]
    );
    app.get(&app.viewer, &path).await.expect(200);
    app.patch(&app.manager, &path, json!({"title": "Revived"}))
        .await
        .expect_problem(409, "archived");
    assert_eq!(app.count("evidence"), 2);
    let audit = app
        .get(
            &app.admin,
            &format!("/v1/audit-events?resource_type=evidence&resource_id={gone}"),
        )
        .await;
    let actions: Vec<_> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].clone())
        .collect();
    assert_eq!(actions, vec![json!("create"), json!("archive")]);
    // Archived evidence leaves the series too.
    let series = app
        .get(
            &app.viewer,
            "/v1/evidence/metrics/medication_audit_score/series",
        )
        .await
        .expect(200);
    assert_eq!(series.body["points"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn evidence_is_edited_with_merged_rules() {
    let app = TestApp::new().await;
    let id = app
        .post(&app.manager, "/v1/evidence", audit_result(&app, 9, 90.0))
        .await
        .expect(201)
        .id();
    let path = format!("/v1/evidence/{id}");
    // Switching from a period to a moment must clear the period: the body alone is fine, the
    // record it would leave is not.
    let conflict = app
        .patch(
            &app.manager,
            &path,
            json!({"observed_at": "2026-09-15T10:00:00Z"}),
        )
        .await
        .expect_problem(409, "conflicts_with_record");
    assert_eq!(conflict.body["errors"][0]["field"], "observed_at");
    let moved = app
        .patch(
            &app.manager,
            &path,
            json!({"observed_at": "2026-09-15T10:00:00Z", "period_start_at": null, "period_end_at": null,
                      "metric": null, "quality_statements": ["safe.learning_culture"]}),
        )
        .await
        .expect(200);
    assert_eq!(moved.body["observed_at"], "2026-09-15T10:00:00Z");
    assert_eq!(moved.body["metric"], json!(null));
    assert_eq!(
        moved.body["quality_statements"],
        json!(["safe.learning_culture"])
    );
    app.patch(&app.manager, &path, json!({"quality_statements": []}))
        .await
        .expect_problem(422, "validation_failed");
    app.patch(&app.manager, &path, json!({"source": "feedback"}))
        .await
        .expect_problem(409, "conflicts_with_record");
    let audit = app
        .get(
            &app.admin,
            &format!("/v1/audit-events?resource_type=evidence&resource_id={id}"),
        )
        .await
        .expect(200);
    assert_eq!(
        audit.body["items"][1]["changed_fields"],
        json!([
            "quality_statements",
            "observed_at",
            "period_start_at",
            "period_end_at",
            "metric"
        ])
    );
    app.patch(&app.staff, &path, json!({"title": "x"}))
        .await
        .expect_problem(403, "forbidden");
    assert_eq!(app.get(&app.manager, &path).await.body["version"], 2);
}

#[actix_web::test]
async fn evidence_lists_filter() {
    let app = TestApp::new().await;
    let september = app
        .post(&app.manager, "/v1/evidence", audit_result(&app, 9, 90.0))
        .await
        .expect(201)
        .id();
    let mut observation = json!({
        "source": "observation", "evidence_category": "observation",
        "quality_statements": ["caring.kindness_compassion_dignity"], "title": "Mealtime observation",
        "observed_at": "2026-10-12T12:30:00Z", "location_id": app.second_location
    });
    let observed = app
        .post(&app.staff, "/v1/evidence", observation.clone())
        .await
        .expect(201)
        .id();
    let list = |query: String| {
        let app = &app;
        async move {
            ids(&app
                .get(&app.viewer, &format!("/v1/evidence?{query}"))
                .await
                .expect(200)
                .body)
        }
    };
    assert_eq!(list("source=audit".into()).await, vec![september.clone()]);
    assert_eq!(
        list("evidence_category=observation".into()).await,
        vec![observed.clone()]
    );
    assert_eq!(
        list("quality_statement_id=safe.medicines_optimisation".into()).await,
        vec![september.clone()]
    );
    assert_eq!(
        list("metric=medication_audit_score".into()).await,
        vec![september.clone()]
    );
    assert_eq!(
        list("from=2026-10-01T00:00:00Z".into()).await,
        vec![observed.clone()]
    );
    assert_eq!(
        list("to=2026-09-30T00:00:00Z".into()).await,
        vec![september.clone()]
    );
    assert_eq!(
        list(format!("location_id={}", app.second_location)).await,
        vec![observed.clone()]
    );
    assert_eq!(
        list("updated_since=2999-01-01T00:00:00Z".into()).await,
        Vec::<String>::new()
    );
    assert_eq!(
        list("updated_since=2000-01-01T00:00:00Z".into())
            .await
            .len(),
        2
    );
    observation["external_ref"] = json!({"system": "vendor", "id": "OBS-1"});
    let first = app
        .post(&app.manager, "/v1/evidence", observation.clone())
        .await
        .expect(201)
        .id();
    let duplicate = app
        .post(&app.manager, "/v1/evidence", observation)
        .await
        .expect_problem(409, "duplicate_external_ref");
    assert_eq!(duplicate.body["existing_id"], json!(first));
}

#[actix_web::test]
async fn a_metric_series_is_aggregated_per_interval() {
    let app = TestApp::new().await;
    for (month, value) in [(7, 90.0), (8, 94.0), (8, 96.0), (9, 97.0)] {
        app.post(
            &app.manager,
            "/v1/evidence",
            audit_result(&app, month, value),
        )
        .await
        .expect(201);
    }
    let mut elsewhere = audit_result(&app, 8, 50.0);
    elsewhere["location_id"] = json!(app.second_location);
    app.post(&app.manager, "/v1/evidence", elsewhere)
        .await
        .expect(201);
    let mut untargeted = audit_result(&app, 9, 99.0);
    untargeted["metric"] = json!({"name": "medication_audit_score", "value": 99.0});
    app.post(&app.manager, "/v1/evidence", untargeted)
        .await
        .expect(201);

    let path = format!(
        "/v1/evidence/metrics/medication_audit_score/series?location_id={}",
        app.location
    );
    let monthly = app.get(&app.viewer, &path).await.expect(200);
    assert_eq!(monthly.body["interval"], "month");
    assert_eq!(
        monthly.body["points"],
        json!([
            {"period_start_on": "2026-07-01", "count": 1, "mean": 90.0, "min": 90.0, "max": 90.0, "with_target_count": 1, "met_target_count": 0},
            {"period_start_on": "2026-08-01", "count": 2, "mean": 95.0, "min": 94.0, "max": 96.0, "with_target_count": 2, "met_target_count": 1},
            {"period_start_on": "2026-09-01", "count": 2, "mean": 98.0, "min": 97.0, "max": 99.0, "with_target_count": 1, "met_target_count": 1}
        ])
    );
    let quarterly = app
        .get(&app.viewer, &format!("{path}&interval=quarter"))
        .await
        .expect(200);
    assert_eq!(quarterly.body["points"][0]["period_start_on"], "2026-07-01");
    assert_eq!(quarterly.body["points"][0]["count"], 5);
    let yearly = app
        .get(
            &app.viewer,
            "/v1/evidence/metrics/medication_audit_score/series?interval=year",
        )
        .await;
    assert_eq!(
        yearly.body["points"],
        json!([{
            "period_start_on": "2026-01-01", "count": 6, "mean": 87.66666666666667, "min": 50.0, "max": 99.0,
            "with_target_count": 5, "met_target_count": 2
        }])
    );
    let window = app
        .get(
            &app.viewer,
            &format!("{path}&from=2026-08-01T00:00:00Z&to=2026-08-31T00:00:00Z"),
        )
        .await;
    assert_eq!(window.body["points"].as_array().unwrap().len(), 1);
    let nothing = app
        .get(&app.viewer, "/v1/evidence/metrics/no_such_metric/series")
        .await
        .expect(200);
    assert_eq!(nothing.body["points"], json!([]));
    app.get(
        &app.viewer,
        "/v1/evidence/metrics/x/series?interval=fortnight",
    )
    .await
    .expect_problem(422, "validation_failed");
}

#[actix_web::test]
async fn an_at_most_target_is_met_by_staying_under_it() {
    let app = TestApp::new().await;
    for falls in [1.0, 3.0, 2.0] {
        app.post(
            &app.manager,
            "/v1/evidence",
            json!({"source": "incident_analysis", "evidence_category": "outcomes",
                   "quality_statements": ["safe.learning_culture"], "title": "Falls this month",
                   "observed_at": "2026-10-31T00:00:00Z", "location_id": app.location,
                   "metric": {"name": "falls", "value": falls, "target": 2.0, "direction": "at_most"}}),
        )
        .await
        .expect(201);
    }
    let series = app
        .get(&app.viewer, "/v1/evidence/metrics/falls/series")
        .await
        .expect(200);
    assert_eq!(series.body["points"][0]["met_target_count"], 2);
}
