//! Self-assessment scores as resources: a statement's current score set by an idempotent PUT,
//! its history added to by POST (with `Idempotency-Key`) and read page by page, each score at
//! its own URL; and the old paths, kept as deprecated aliases that say so on the wire.

use actix_web::http::Method;
use serde_json::json;

use crate::helpers::TestApp;

const CQC: &str = "cqc-saf-2024";

fn statement(app: &TestApp) -> String {
    format!(
        "/v1/locations/{}/self-assessments/{CQC}/quality-statements/safe.learning_culture",
        app.location
    )
}

#[actix_web::test]
async fn a_repeated_put_writes_nothing_and_answers_the_current_score() {
    let app = TestApp::new().await;
    let url = statement(&app);
    app.get(&app.viewer, &url)
        .await
        .expect_problem(404, "not_found");
    let body = json!({"score": 3, "rationale": "Debriefs within a week"});
    let first = app.put(&app.manager, &url, body.clone()).await.expect(201);
    assert_eq!(first.header("location"), Some(url.as_str()));
    assert_eq!(first.header("etag"), Some("\"1\""));
    // The retry, even one still conditional on the version before, changes nothing.
    for etag in [None, Some("\"0\""), Some("\"1\"")] {
        let headers: Vec<(&str, &str)> = etag.map(|e| ("if-match", e)).into_iter().collect();
        let again = app
            .send_with(
                Method::PUT,
                &url,
                &app.manager,
                &headers,
                Some(body.clone()),
            )
            .await
            .expect(200);
        assert_eq!(again.body, first.body);
    }
    assert_eq!(app.count("self_assessments"), 1);
    let current = app.get(&app.viewer, &url).await.expect(200);
    assert_eq!(current.body, first.body);
    assert_eq!(current.header("etag"), Some("\"1\""));
    // A different body is a new score, conditional on the current version.
    let changed = json!({"score": 4, "rationale": "Debriefs within a week"});
    app.send_with(
        Method::PUT,
        &url,
        &app.manager,
        &[("if-match", "\"0\"")],
        Some(changed.clone()),
    )
    .await
    .expect_problem(412, "precondition_failed");
    let second = app.put(&app.manager, &url, changed).await.expect(200);
    assert_eq!(second.body["version"], 2);
    assert_eq!(app.count("self_assessments"), 2);
    let audit = app
        .get(&app.admin, "/v1/audit-events?resource_type=self_assessment")
        .await
        .expect(200);
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn scores_are_recorded_once_per_key_and_read_as_a_history() {
    let app = TestApp::new().await;
    let scores = format!("{}/scores", statement(&app));
    let body = json!({"score": 2, "rationale": "Late debriefs"});
    let first = app
        .post_keyed(&app.manager, &scores, "score-1", body.clone())
        .await
        .expect(201);
    let replay = app
        .post_keyed(&app.manager, &scores, "score-1", body.clone())
        .await
        .expect(201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.body, first.body);
    let id = first.id();
    assert_eq!(
        first.header("location"),
        Some(format!("{scores}/{id}").as_str())
    );
    // A POST records a score even when it repeats the last one: it is an event, not a state.
    app.post(&app.manager, &scores, body.clone())
        .await
        .expect(201);
    app.post(
        &app.manager,
        &scores,
        json!({"score": 4, "rationale": "Fixed"}),
    )
    .await
    .expect(201);
    let page = app
        .get(&app.viewer, &format!("{scores}?limit=2"))
        .await
        .expect(200);
    let versions: Vec<i64> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2]);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&app.viewer, &format!("{scores}?limit=2&cursor={cursor}"))
        .await
        .expect(200);
    assert_eq!(rest.body["items"][0]["score"], 4);
    assert_eq!(rest.body["next_cursor"], json!(null));
    let one = app
        .get(&app.viewer, &format!("{scores}/{id}"))
        .await
        .expect(200);
    assert_eq!(one.body, first.body);
    let current = app.get(&app.viewer, &statement(&app)).await.expect(200);
    assert_eq!(current.body["score"], 4);
    // A score is found only under its own statement.
    let elsewhere = format!(
        "/v1/locations/{}/self-assessments/{CQC}/quality-statements/safe.safeguarding/scores/{id}",
        app.location
    );
    app.get(&app.viewer, &elsewhere)
        .await
        .expect_problem(404, "not_found");
    let bad = app
        .get(&app.viewer, &format!("{scores}/not-an-id"))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        bad.body["errors"],
        json!([{"field": "score_id", "message": "must be a UUID"}])
    );
}

#[actix_web::test]
async fn the_old_paths_are_deprecated_aliases_that_say_so() {
    let app = TestApp::new().await;
    let old = format!(
        "/v1/self-assessments/{}/{CQC}/safe.learning_culture",
        app.location
    );
    let scored = app
        .put(&app.manager, &old, json!({"score": 3, "rationale": "r"}))
        .await
        .expect(201);
    assert_eq!(scored.header("deprecation"), Some("@1795651200"));
    assert_eq!(
        scored.header("sunset"),
        Some("Mon, 31 May 2027 00:00:00 GMT")
    );
    assert_eq!(
        scored.header("link"),
        Some(format!("<{}>; rel=\"successor-version\"", statement(&app)).as_str())
    );
    // The alias and its successor are one resource.
    let current = app.get(&app.viewer, &statement(&app)).await.expect(200);
    assert_eq!(current.body, scored.body);
    assert_eq!(current.header("deprecation"), None);
    let summary = format!("/v1/self-assessments/{}/{CQC}", app.location);
    let read = app.get(&app.viewer, &summary).await.expect(200);
    assert_eq!(read.header("deprecation"), Some("@1795651200"));
    let successor = format!("/v1/locations/{}/self-assessments/{CQC}", app.location);
    assert_eq!(
        read.body,
        app.get(&app.viewer, &successor).await.expect(200).body
    );
    // Errors from a deprecated path carry the headers too.
    let refused = app
        .get(
            &app.viewer,
            &format!("/v1/self-assessments/not-an-id/{CQC}"),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(refused.header("deprecation"), Some("@1795651200"));

    let document = careloop::api::docs::document();
    let paths = &document["paths"];
    assert_eq!(
        paths["/v1/self-assessments/{location_id}/{framework_id}"]["get"]["deprecated"],
        true
    );
    let put =
        &paths["/v1/self-assessments/{location_id}/{framework_id}/{quality_statement_id}"]["put"];
    assert_eq!(put["deprecated"], true);
    for header in ["Deprecation", "Sunset", "Link"] {
        assert!(put["responses"]["200"]["headers"].get(header).is_some());
    }
    assert_eq!(
        paths["/v1/locations/{location_id}/self-assessments/{framework_id}"]["get"]
            .get("deprecated"),
        None
    );
}
