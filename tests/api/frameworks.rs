//! Frameworks as data, coverage of quality statements, and self-assessment roll-ups.

use serde_json::{json, Value};

use crate::helpers::{nothing_id, TestApp};

const CQC: &str = "cqc-saf-2024";

#[actix_web::test]
async fn the_cqc_catalogue_is_served_whole() {
    let app = TestApp::new().await;
    let list = app.get(&app.staff, "/v1/frameworks").await.expect(200);
    let framework_ids: Vec<_> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].clone())
        .collect();
    // The second framework is only a data file in the tests' frameworks folder.
    assert_eq!(framework_ids, vec![json!(CQC), json!("test-care-2027")]);
    assert_eq!(list.body["items"][0]["quality_statement_count"], 34);

    let whole = app
        .get(&app.viewer, &format!("/v1/frameworks/{CQC}"))
        .await
        .expect(200);
    let counts: Vec<usize> = whole.body["key_questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["quality_statements"].as_array().unwrap().len())
        .collect();
    assert_eq!(counts, [8, 6, 5, 7, 8]);
    assert_eq!(
        whole.body["evidence_categories"].as_array().unwrap().len(),
        6
    );
    assert_eq!(
        whole.body["score_scale"]["4"],
        "Evidence shows an exceptional standard"
    );
    assert_eq!(whole.body["rating_bands"][1]["min_percent"], 39.0);
    assert_eq!(whole.body["limiters"].as_array().unwrap().len(), 2);
    // A statement without a "we statement" keeps it null.
    assert_eq!(
        whole.body["key_questions"][1]["quality_statements"][0]["we_statement"],
        json!(null)
    );

    let flat = app
        .get(
            &app.integration,
            &format!("/v1/frameworks/{CQC}/quality-statements"),
        )
        .await
        .expect(200);
    let codes: Vec<_> = flat.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 34);
    assert_eq!((codes[0].as_str(), codes[33].as_str()), ("S1", "W8"));
    assert_eq!(flat.body["items"][0]["key_question_id"], "safe");
    app.get(&app.staff, "/v1/frameworks/nice-2030")
        .await
        .expect_problem(404, "not_found");
}

/// Evidence tagged with statements, in a category, at a date.
async fn add_evidence(
    app: &TestApp,
    statements: Value,
    category: &str,
    observed_at: &str,
) -> String {
    app.post(
        &app.manager,
        "/v1/evidence",
        json!({"source": "audit", "evidence_category": category, "quality_statements": statements,
               "title": "Evidence", "observed_at": observed_at, "location_id": app.location}),
    )
    .await
    .expect(201)
    .id()
}

fn statement<'a>(coverage: &'a Value, id: &str) -> &'a Value {
    coverage["statements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["quality_statement_id"] == id)
        .expect("the statement is covered")
}

#[actix_web::test]
async fn coverage_counts_what_references_each_statement() {
    let app = TestApp::new().await;
    add_evidence(
        &app,
        json!(["safe.learning_culture"]),
        "processes",
        "2026-03-01T00:00:00Z",
    )
    .await;
    add_evidence(
        &app,
        json!(["safe.learning_culture", "safe.safeguarding"]),
        "feedback_staff_leaders",
        "2026-10-01T00:00:00Z",
    )
    .await;
    let archived = add_evidence(
        &app,
        json!(["safe.safeguarding"]),
        "processes",
        "2026-10-05T00:00:00Z",
    )
    .await;
    app.call(
        actix_web::http::Method::DELETE,
        &format!("/v1/evidence/{archived}"),
        Some(&app.manager),
        None,
    )
    .await
    .expect(200);
    app.post(
        &app.manager,
        "/v1/learning-events",
        json!({"kind": "lessons_shared", "occurred_at": "2026-09-01T00:00:00Z", "title": "Lessons",
                    "location_id": app.location, "quality_statements": ["safe.learning_culture"]}),
    )
    .await
    .expect(201);
    app.raise(
        &app.staff,
        json!({"quality_statements": ["safe.learning_culture", "well_led.freedom_to_speak_up"]}),
    )
    .await;

    let all = app
        .get(&app.viewer, &format!("/v1/frameworks/{CQC}/coverage"))
        .await
        .expect(200);
    assert_eq!(all.body["statements"].as_array().unwrap().len(), 34);
    let culture = statement(&all.body, "safe.learning_culture");
    assert_eq!(culture["evidence_count"], 2);
    assert_eq!(
        culture["evidence_count_by_category"],
        json!({"feedback_staff_leaders": 1, "processes": 1})
    );
    assert_eq!(culture["learning_event_count"], 1);
    assert_eq!(culture["concern_count"], 1);
    assert_eq!(culture["newest_evidence_at"], "2026-10-01T00:00:00Z");
    assert_eq!(culture["newest_learning_event_at"], "2026-09-01T00:00:00Z");
    assert_eq!(culture["no_recent_evidence"], false);
    assert_eq!(culture["code"], "S1");
    // The archived item does not count.
    assert_eq!(
        statement(&all.body, "safe.safeguarding")["evidence_count"],
        1
    );
    let speak_up = statement(&all.body, "well_led.freedom_to_speak_up");
    assert_eq!(
        (
            speak_up["concern_count"].clone(),
            speak_up["evidence_count"].clone()
        ),
        (json!(1), json!(0))
    );
    assert_eq!(speak_up["no_recent_evidence"], true);

    let recent = app
        .get(
            &app.viewer,
            &format!("/v1/frameworks/{CQC}/coverage?from=2026-06-01T00:00:00Z"),
        )
        .await
        .expect(200);
    let culture = statement(&recent.body, "safe.learning_culture");
    assert_eq!(culture["evidence_count"], 1);
    assert_eq!(
        culture["evidence_count_by_category"],
        json!({"feedback_staff_leaders": 1})
    );
    assert_eq!(
        statement(&recent.body, "safe.safeguarding")["no_recent_evidence"],
        false
    );
    let late = app
        .get(
            &app.viewer,
            &format!("/v1/frameworks/{CQC}/coverage?from=2026-10-02T00:00:00Z"),
        )
        .await
        .expect(200);
    let culture = statement(&late.body, "safe.learning_culture");
    assert_eq!(culture["no_recent_evidence"], true);
    // The newest is shown even when it is older than `since`.
    assert_eq!(culture["newest_evidence_at"], "2026-10-01T00:00:00Z");

    let elsewhere = app
        .get(
            &app.viewer,
            &format!(
                "/v1/frameworks/{CQC}/coverage?location_id={}",
                app.second_location
            ),
        )
        .await
        .expect(200);
    assert_eq!(
        statement(&elsewhere.body, "safe.learning_culture")["evidence_count"],
        0
    );
}

#[actix_web::test]
async fn self_assessment_scores_roll_up_to_key_questions() {
    let app = TestApp::new().await;
    let base = format!("/v1/locations/{}/self-assessments/{CQC}", app.location);
    let evidence = add_evidence(
        &app,
        json!(["safe.learning_culture"]),
        "processes",
        "2026-10-01T00:00:00Z",
    )
    .await;
    let first = app
        .put(
            &app.manager,
            &format!("{base}/quality-statements/safe.learning_culture"),
            json!({"score": 2, "rationale": "Debriefs are late", "evidence": [{"kind": "evidence", "id": evidence}]}),
        )
        .await
        .expect(201);
    assert_eq!(
        first.header("location"),
        Some(format!("{base}/quality-statements/safe.learning_culture").as_str())
    );
    assert_eq!(first.body["version"], 1);
    assert_eq!(
        first.body["evidence"],
        json!([{"kind": "evidence", "id": evidence}])
    );
    // A new score replaces the old; a stale one is refused.
    let second = app
        .put_score(
            &format!("{base}/quality-statements/safe.learning_culture"),
            4,
            Some("\"1\""),
        )
        .await
        .expect(200);
    assert_eq!(second.body["version"], 2);
    app.put_score(
        &format!("{base}/quality-statements/safe.learning_culture"),
        3,
        Some("\"1\""),
    )
    .await
    .expect_problem(412, "precondition_failed");

    // Safe: 4, 4, 4 and a 1 → 13/16 = 81% good, capped at requires improvement.
    for (statement, score) in [
        ("safe.safe_systems_pathways_transitions", 4),
        ("safe.safeguarding", 4),
        ("safe.involving_people_to_manage_risks", 1),
    ] {
        app.put_score(
            &format!("{base}/quality-statements/{statement}"),
            score,
            None,
        )
        .await
        .expect(201);
    }
    // Caring: 4 and 3 → 7/8 = 87.5% → 88% outstanding.
    for (statement, score) in [
        ("caring.kindness_compassion_dignity", 4),
        ("caring.treating_people_as_individuals", 3),
    ] {
        app.put_score(
            &format!("{base}/quality-statements/{statement}"),
            score,
            None,
        )
        .await
        .expect(201);
    }
    let summary = app.get(&app.viewer, &base).await.expect(200);
    let safe = &summary.body["key_questions"][0];
    assert_eq!(safe["key_question_id"], "safe");
    assert_eq!(safe["statements_scored"], 4);
    assert_eq!(safe["statements_unscored"], 4);
    assert_eq!(safe["score_sum"], 13);
    assert_eq!(safe["percentage"], 81.25);
    assert_eq!(safe["rating"], "requires_improvement");
    assert_eq!(safe["limiter_applied"]["cap_at"], "requires_improvement");
    let caring = &summary.body["key_questions"][2];
    assert_eq!(caring["percentage"], 87.5);
    assert_eq!(caring["rating"], "outstanding");
    assert_eq!(caring["limiter_applied"], json!(null));
    let effective = &summary.body["key_questions"][1];
    assert_eq!(
        (
            effective["rating"].clone(),
            effective["statements_unscored"].clone()
        ),
        (json!(null), json!(6))
    );
    let culture = &summary.body["statements"][0];
    assert_eq!(culture["quality_statement_id"], "safe.learning_culture");
    assert_eq!(culture["latest"]["score"], 4);
    assert_eq!(summary.body["statements"][4]["latest"], json!(null));

    // Every score is in the audit trail.
    let audit = app
        .get(&app.admin, "/v1/audit-events?resource_type=self_assessment")
        .await
        .expect(200);
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 7);
    assert_eq!(audit.body["items"][0]["detail"]["score"], 2);
}

#[actix_web::test]
async fn self_assessment_input_is_checked() {
    let app = TestApp::new().await;
    let base = format!("/v1/locations/{}/self-assessments/{CQC}", app.location);
    app.put_score(
        &format!("{base}/quality-statements/safe.learning_culture"),
        5,
        None,
    )
    .await
    .expect_problem(422, "validation_failed");
    app.put_score(
        &format!("{base}/quality-statements/safe.learning_culture"),
        0,
        None,
    )
    .await
    .expect_problem(422, "validation_failed");
    app.put_score(&format!("{base}/quality-statements/safe.nothing"), 3, None)
        .await
        .expect_problem(404, "not_found");
    app.put_score(
        &format!(
            "/v1/locations/{}/self-assessments/nice-2030/quality-statements/safe.learning_culture",
            app.location
        ),
        3,
        None,
    )
    .await
    .expect_problem(404, "not_found");
    app.put_score(
        &format!(
            "/v1/locations/{}/self-assessments/{CQC}/quality-statements/safe.learning_culture",
            app.other_org_location
        ),
        3,
        None,
    )
    .await
    .expect_problem(404, "not_found");
    let culture = format!("{base}/quality-statements/safe.learning_culture");
    app.put(
        &app.manager,
        &culture,
        json!({"score": 3, "rationale": "r", "evidence": [{"kind": "evidence", "id": nothing_id()}]}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.put(&app.staff, &culture, json!({"score": 3, "rationale": "r"}))
        .await
        .expect_problem(403, "forbidden");
    assert_eq!(app.count("self_assessments"), 0);
}

#[actix_web::test]
async fn a_second_framework_works_end_to_end_as_data() {
    let app = TestApp::new().await;
    let base = format!(
        "/v1/locations/{}/self-assessments/test-care-2027",
        app.location
    );
    // Its own scale (1 to 3) and its own bands and limiter.
    app.put_score(
        &format!("{base}/quality-statements/wellbeing.nutrition"),
        4,
        None,
    )
    .await
    .expect_problem(422, "validation_failed");
    app.put_score(
        &format!("{base}/quality-statements/wellbeing.nutrition"),
        3,
        None,
    )
    .await
    .expect(201);
    app.put_score(
        &format!("{base}/quality-statements/wellbeing.activity"),
        3,
        None,
    )
    .await
    .expect(201);
    let summary = app.get(&app.manager, &base).await.expect(200);
    assert_eq!(summary.body["key_questions"][0]["rating"], "leading");
    app.put_score(
        &format!("{base}/quality-statements/wellbeing.activity"),
        1,
        None,
    )
    .await
    .expect(200);
    let capped = app.get(&app.manager, &base).await.expect(200);
    assert_eq!(capped.body["key_questions"][0]["rating"], "on_track");
    // Its statements and categories are valid references anywhere in the API.
    app.post(
        &app.manager,
        "/v1/evidence",
        json!({"source": "audit", "evidence_category": "care_records", "quality_statements": ["wellbeing.nutrition"],
               "title": "Fluid charts", "observed_at": "2026-11-01T00:00:00Z", "location_id": app.location}),
    )
    .await
    .expect(201);
    let coverage = app
        .get(&app.viewer, "/v1/frameworks/test-care-2027/coverage")
        .await
        .expect(200);
    assert_eq!(
        coverage.body["statements"][0]["evidence_count_by_category"],
        json!({"care_records": 1})
    );
}
