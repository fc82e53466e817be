//! Concerns: raising, validation, workflow, clocks, visibility, timeline, conventions.

use actix_web::http::Method;
use careloop::auth::Role;
use chrono::{DateTime, Duration, Utc};
use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

use crate::helpers::{claims, nothing_id, sign, TestApp, BODY_LIMIT};

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().expect("a time").parse().expect("RFC 3339")
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn raising_a_concern_answers_201_with_its_clocks() {
    let app = TestApp::new().await;
    let response = app
        .post(
            &app.staff,
            "/v1/concerns",
            json!({"title": "  Medication round late  ", "description": "Evening round 90 minutes late.",
                   "category": "medication", "risk": "high", "location_id": app.location}),
        )
        .await
        .expect(201);
    let id = response.id();
    assert_eq!(
        response.header("location"),
        Some(format!("/v1/concerns/{id}").as_str())
    );
    assert_eq!(response.header("etag"), Some("\"1\""));
    let body = &response.body;
    assert_eq!(body["title"], "Medication round late");
    assert_eq!(body["status"], "raised");
    assert_eq!(body["confidential"], false);
    assert_eq!(body["anonymous"], false);
    assert_eq!(
        body["raised_by"],
        json!({"kind": "user", "sub": "user-staff", "name": "Test user-staff"})
    );
    assert_eq!(body["overdue"], false);
    assert!(body["receipt_code"].is_null());
    let created = time(&body["created_at"]);
    assert_eq!(
        time(&body["acknowledge_due_at"]),
        created + Duration::hours(72)
    );
    assert_eq!(time(&body["feedback_due_at"]), created + Duration::days(90));
    assert!(uuid::Uuid::parse_str(&id).unwrap().get_version_num() == 7);

    let read = app
        .get(&app.staff, &format!("/v1/concerns/{id}"))
        .await
        .expect(200);
    assert_eq!(read.body, response.body);
}

#[actix_web::test]
async fn clocks_follow_the_organisation_settings() {
    let app = TestApp::new().await;
    app.patch(
        &app.admin,
        "/v1/organisation",
        json!({"acknowledge_within_hours": 24, "feedback_within_days": 28}),
    )
    .await
    .expect(200);
    let id = app.raise(&app.staff, json!({})).await;
    let body = app
        .get(&app.manager, &format!("/v1/concerns/{id}"))
        .await
        .body;
    let created = time(&body["created_at"]);
    assert_eq!(
        time(&body["acknowledge_due_at"]),
        created + Duration::hours(24)
    );
    assert_eq!(time(&body["feedback_due_at"]), created + Duration::days(28));
}

#[actix_web::test]
async fn safeguarding_and_whistleblowing_are_confidential_by_default() {
    let app = TestApp::new().await;
    for (category, expected) in [
        ("safeguarding", true),
        ("whistleblowing", true),
        ("staffing", false),
    ] {
        let id = app.raise(&app.staff, json!({"category": category})).await;
        let body = app
            .get(&app.manager, &format!("/v1/concerns/{id}"))
            .await
            .body;
        assert_eq!(body["confidential"], expected, "{category}");
    }
    let open = app
        .raise(
            &app.staff,
            json!({"category": "safeguarding", "confidential": false}),
        )
        .await;
    let body = app
        .get(&app.manager, &format!("/v1/concerns/{open}"))
        .await
        .body;
    assert_eq!(body["confidential"], false);
}

#[actix_web::test]
async fn bad_input_is_a_problem_and_stores_nothing() {
    let app = TestApp::new().await;
    let send_raw = |content_type: &'static str, body: String| {
        let app = &app;
        async move {
            let headers = [("Content-Type", content_type)];
            app.send_raw(Method::POST, "/v1/concerns", &app.staff, &headers, &body)
                .await
        }
    };
    for malformed in ["{\"title\": ", "not json"] {
        send_raw("application/json", malformed.to_owned())
            .await
            .expect_problem(422, "validation_failed");
    }
    let valid = json!({"title": "t", "description": "d", "category": "other", "risk": "low"});
    let with = |field: &str, value: Value| {
        let mut body = valid.clone();
        body[field] = value;
        body
    };
    app.post(&app.staff, "/v1/concerns", with("risk", json!(3)))
        .await
        .expect_problem(422, "validation_failed");
    app.post(
        &app.staff,
        "/v1/concerns",
        with("category", json!("gossip")),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(&app.staff, "/v1/concerns", with("anonymous", json!("yes")))
        .await
        .expect_problem(422, "validation_failed");
    app.post(&app.staff, "/v1/concerns", with("status", json!("closed")))
        .await
        .expect_problem(422, "validation_failed");
    app.post(&app.staff, "/v1/concerns", json!({"title": "t"}))
        .await
        .expect_problem(422, "validation_failed");
    let long = app
        .post(
            &app.staff,
            "/v1/concerns",
            with("title", json!("x".repeat(201))),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        long.body["errors"],
        json!([{"field": "title", "message": "must be at most 200 characters"}])
    );
    let unknown = app
        .post(
            &app.staff,
            "/v1/concerns",
            with(
                "quality_statements",
                json!(["safe.learning_culture", "safe.bogus"]),
            ),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        unknown.body["errors"],
        json!([{"field": "quality_statements", "message": "unknown quality statement: safe.bogus"}])
    );
    app.post(
        &app.staff,
        "/v1/concerns",
        with("description", json!("   ")),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &app.staff,
        "/v1/concerns",
        with("location_id", json!(nothing_id())),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &app.staff,
        "/v1/concerns",
        with("external_ref", json!({"system": "", "id": "1"})),
    )
    .await
    .expect_problem(422, "validation_failed");
    let oversized = with("description", json!("x".repeat(BODY_LIMIT + 1)));
    app.post(&app.staff, "/v1/concerns", oversized)
        .await
        .expect_problem(413, "payload_too_large");
    send_raw("text/plain", valid.to_string())
        .await
        .expect_problem(415, "unsupported_media_type");
    // An exactly 200-character title is fine.
    app.post(
        &app.staff,
        "/v1/concerns",
        with("title", json!("x".repeat(200))),
    )
    .await
    .expect(201);
    assert_eq!(app.count("concerns"), 1);
    assert_eq!(app.count("audit_events"), 1 + 5); // the seeded organisations and locations
}

#[actix_web::test]
async fn bad_paths_and_queries_are_422_naming_the_part() {
    let app = TestApp::new().await;
    let bad_id = app
        .get(&app.manager, "/v1/concerns/not-a-uuid")
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        bad_id.body["errors"],
        json!([{"field": "concern_id", "message": "must be a UUID"}])
    );
    let bad_cursor = app
        .get(&app.manager, "/v1/concerns?cursor=nonsense")
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(bad_cursor.body["errors"][0]["field"], "cursor");
    app.get(&app.manager, "/v1/concerns?status=lost")
        .await
        .expect_problem(422, "validation_failed");
    app.get(&app.manager, "/v1/concerns?limit=500")
        .await
        .expect_problem(422, "validation_failed");
    let cursor = app
        .get(&app.manager, "/v1/concerns?cursor=abc")
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(
        cursor.body["errors"],
        json!([{"field": "cursor", "message": "must be a next_cursor careloop sent"}])
    );
    app.get(&app.manager, "/v1/concerns?colour=red")
        .await
        .expect_problem(422, "validation_failed");
}

#[actix_web::test]
async fn a_duplicate_external_ref_is_409_naming_the_existing_concern() {
    let app = TestApp::new().await;
    let reference = json!({"external_ref": {"system": "carevendor", "id": "INC-1"}});
    let first = app.raise(&app.integration, reference.clone()).await;
    let body = app
        .get(&app.integration, &format!("/v1/concerns/{first}"))
        .await
        .body;
    assert_eq!(
        body["external_ref"],
        json!({"system": "carevendor", "id": "INC-1"})
    );
    let mut second = json!({"title": "t", "description": "d", "category": "other", "risk": "low",
                            "location_id": app.location});
    second["external_ref"] = reference["external_ref"].clone();
    let conflict = app
        .post(&app.integration, "/v1/concerns", second.clone())
        .await
        .expect_problem(409, "duplicate_external_ref");
    assert_eq!(conflict.body["existing_id"], first);
    assert_eq!(app.count("concerns"), 1);
    // The same id from another system, or in another organisation, is a different record.
    second["external_ref"]["system"] = json!("othervendor");
    app.post(&app.integration, "/v1/concerns", second)
        .await
        .expect(201);
    let other_org = sign(&claims(&app.other_org, &[Role::Integration], "vendor"));
    let mut elsewhere =
        json!({"title": "t", "description": "d", "category": "other", "risk": "low"});
    elsewhere["external_ref"] = reference["external_ref"].clone();
    app.post(&other_org, "/v1/concerns", elsewhere)
        .await
        .expect(201);
}

#[actix_web::test]
async fn concurrent_creates_are_each_answered_as_if_alone() {
    // On SQLite, writes arriving together are committed together (each in a savepoint): one
    // refused in its transaction must leave the others, and nothing of its own, stored.
    let app = TestApp::new().await;
    let audited = app.count("audit_events");
    let create = |n: usize| {
        let app = &app;
        let mut body = json!({"title": format!("Race {n}"), "description": "d",
                              "category": "other", "risk": "low", "location_id": app.location,
                              "quality_statements": ["safe.safeguarding",
                                                     "safe.safe_systems_pathways_transitions",
                                                     "safe.safeguarding"]});
        // Every third names the same record in the vendor's system: one of them wins.
        if n.is_multiple_of(3) {
            body["external_ref"] = json!({"system": "carevendor", "id": "INC-RACE"});
        }
        async move { app.post(&app.integration, "/v1/concerns", body).await }
    };
    let answers = futures_util::future::join_all((0..24).map(create)).await;
    let created: Vec<_> = answers.iter().filter(|a| a.status == 201).collect();
    let refused: Vec<_> = answers.iter().filter(|a| a.status == 409).collect();
    let statuses: Vec<_> = answers.iter().map(|a| a.status.as_u16()).collect();
    assert_eq!((created.len(), refused.len()), (17, 7), "{statuses:?}");
    let holder = created
        .iter()
        .find(|a| a.body["external_ref"]["id"] == "INC-RACE")
        .map(|a| a.body["id"].clone())
        .expect("one create of the shared reference won");
    for conflict in &refused {
        assert_eq!(conflict.body["code"], "duplicate_external_ref");
        assert_eq!(conflict.body["existing_id"], holder);
    }
    // Each created concern is whole (its tags, its audit event, its change), and read back as
    // it was answered; the refused left nothing.
    for answer in &created {
        let id = answer.body["id"].as_str().unwrap();
        let read = app
            .get(&app.integration, &format!("/v1/concerns/{id}"))
            .await
            .expect(200);
        assert_eq!(read.body, answer.body);
        // Each once, in the order of their ids' bytes (whatever a PostgreSQL collation says).
        assert_eq!(
            read.body["quality_statements"],
            json!([
                "safe.safe_systems_pathways_transitions",
                "safe.safeguarding"
            ])
        );
    }
    assert_eq!(app.count("concerns"), 17);
    assert_eq!(app.count("quality_statement_tags"), 34);
    assert_eq!(app.count("audit_events"), audited + 17);
    let feed = app
        .get(
            &app.admin,
            "/v1/changes?types=concern&include=ids&limit=100",
        )
        .await
        .expect(200);
    let items = feed.body["items"].as_array().unwrap();
    let mut fed: Vec<_> = items.iter().map(|item| item["id"].clone()).collect();
    let mut ids: Vec<_> = created.iter().map(|a| a.body["id"].clone()).collect();
    fed.sort_by_key(|id| id.to_string());
    ids.sort_by_key(|id| id.to_string());
    assert_eq!(fed, ids);
    let cursors: Vec<_> = items
        .iter()
        .map(|item| item["cursor"].as_str().unwrap())
        .collect();
    assert!(
        cursors.windows(2).all(|pair| pair[0] < pair[1]),
        "{cursors:?}"
    );
}

#[actix_web::test]
async fn the_workflow_moves_along_its_edges_only() {
    let app = TestApp::new().await;
    let id = app.raise(&app.staff, json!({})).await;
    let path = format!("/v1/concerns/{id}/transitions");

    let illegal = app
        .post(
            &app.manager,
            &path,
            json!({"to": "resolved", "outcome": "x"}),
        )
        .await
        .expect_problem(409, "illegal_transition");
    assert_eq!(
        illegal.body["allowed"],
        json!(["acknowledged", "escalated"])
    );

    let acknowledged = app
        .move_to(
            &id,
            json!({"to": "acknowledged", "note": "Looking into it"}),
        )
        .await;
    assert_eq!(acknowledged.body["status"], "acknowledged");
    assert!(acknowledged.body["acknowledged_at"].is_string());
    assert_eq!(acknowledged.body["version"], 2);
    app.move_to(&id, json!({"to": "investigating"})).await;

    let missing = app
        .post(&app.manager, &path, json!({"to": "resolved"}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(missing.body["errors"][0]["field"], "outcome");
    app.post(&app.manager, &path, json!({"to": "escalated"}))
        .await
        .expect_problem(422, "validation_failed");

    let escalated = app
        .move_to(
            &id,
            json!({"to": "escalated", "escalated_to": "Local authority safeguarding team"}),
        )
        .await;
    assert_eq!(
        escalated.body["escalated_to"],
        "Local authority safeguarding team"
    );
    let resolved = app
        .move_to(
            &id,
            json!({"to": "resolved", "outcome": "Second night carer on every shift"}),
        )
        .await;
    assert_eq!(
        resolved.body["outcome"],
        "Second night carer on every shift"
    );
    assert!(resolved.body["resolved_at"].is_string());

    let reopened = app
        .move_to(
            &id,
            json!({"to": "investigating", "note": "It happened again"}),
        )
        .await;
    assert_eq!(reopened.body["resolved_at"], json!(null));
    app.move_to(
        &id,
        json!({"to": "resolved", "outcome": "Rota fixed for good"}),
    )
    .await;
    let closed = app.move_to(&id, json!({"to": "closed"})).await;
    assert_eq!(closed.body["status"], "closed");
    assert!(closed.body["resolved_at"].is_string());

    let after_close = app
        .post(&app.manager, &path, json!({"to": "investigating"}))
        .await
        .expect_problem(409, "illegal_transition");
    assert_eq!(after_close.body["allowed"], json!([]));

    // Every transition is on the timeline, in order.
    let timeline = app
        .get(&app.manager, &format!("/v1/concerns/{id}/updates"))
        .await
        .expect(200);
    let moves: Vec<_> = timeline.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["from_status"].as_str().unwrap().to_owned(),
                u["to_status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("raised", "acknowledged"),
        ("acknowledged", "investigating"),
        ("investigating", "escalated"),
        ("escalated", "resolved"),
        ("resolved", "investigating"),
        ("investigating", "resolved"),
        ("resolved", "closed"),
    ];
    assert_eq!(
        moves,
        expected.map(|(a, b)| (a.to_owned(), b.to_owned())).to_vec()
    );
    assert_eq!(timeline.body["items"][0]["body"], "Looking into it");
    assert_eq!(timeline.body["items"][0]["author"]["sub"], "user-manager");
}

#[actix_web::test]
async fn overdue_is_computed_when_read_and_filterable() {
    let app = TestApp::new().await;
    let late = app.raise(&app.staff, json!({})).await;
    let on_time = app.raise(&app.staff, json!({})).await;
    let acknowledged_late = app.raise(&app.staff, json!({})).await;
    app.move_to(&acknowledged_late, json!({"to": "acknowledged"}))
        .await;
    // Move two concerns' acknowledgement deadline into the past, as if raised days ago.
    app.with_conn(|conn| {
        conn.batch_execute(&format!(
            "UPDATE concerns SET acknowledge_by = '2020-01-01 00:00:00' WHERE id IN ('{late}', '{acknowledged_late}')"
        ))
        .unwrap()
    });
    let read = |id: String| {
        let app = &app;
        async move {
            app.get(&app.manager, &format!("/v1/concerns/{id}"))
                .await
                .body["overdue"]
                .clone()
        }
    };
    assert_eq!(read(late.clone()).await, true);
    assert_eq!(read(on_time.clone()).await, false);
    assert_eq!(read(acknowledged_late.clone()).await, false);

    let overdue = app
        .get(&app.manager, "/v1/concerns?overdue=true")
        .await
        .expect(200);
    assert_eq!(ids(&overdue.body), vec![late.clone()]);
    let fine = app
        .get(&app.manager, "/v1/concerns?overdue=false")
        .await
        .expect(200);
    assert_eq!(
        ids(&fine.body),
        vec![on_time.clone(), acknowledged_late.clone()]
    );

    // Acknowledging meets the first deadline; missing the feedback deadline is overdue again.
    app.move_to(&late, json!({"to": "acknowledged"})).await;
    assert_eq!(read(late.clone()).await, false);
    app.with_conn(|conn| {
        conn.batch_execute(&format!(
            "UPDATE concerns SET feedback_by = '2020-02-01 00:00:00' WHERE id = '{late}'"
        ))
        .unwrap()
    });
    assert_eq!(read(late.clone()).await, true);
    app.move_to(&late, json!({"to": "investigating"})).await;
    app.move_to(&late, json!({"to": "resolved", "outcome": "Fixed"}))
        .await;
    assert_eq!(read(late).await, false);
}

#[actix_web::test]
async fn each_role_sees_the_concerns_it_should() {
    let app = TestApp::new().await;
    let own = app.raise(&app.staff, json!({})).await;
    let own_confidential = app
        .raise(&app.staff, json!({"category": "whistleblowing"}))
        .await;
    let colleagues = app.raise(&app.manager, json!({})).await;
    let confidential = app
        .raise(&app.manager, json!({"category": "safeguarding"}))
        .await;
    let anonymous = app.raise(&app.staff, json!({"anonymous": true})).await;
    // An anonymous concern's id encodes only the hour it was raised in, so it lists first.
    let all = vec![
        anonymous.clone(),
        own.clone(),
        own_confidential.clone(),
        colleagues.clone(),
        confidential.clone(),
    ];

    let list = |token: String| {
        let app = &app;
        async move { ids(&app.get(&token, "/v1/concerns").await.expect(200).body) }
    };
    assert_eq!(list(app.manager.clone()).await, all);
    assert_eq!(list(app.admin.clone()).await, all);
    assert_eq!(
        list(app.staff.clone()).await,
        vec![own.clone(), own_confidential.clone()]
    );
    let open = vec![anonymous.clone(), own.clone(), colleagues.clone()];
    assert_eq!(list(app.viewer.clone()).await, open);
    assert_eq!(list(app.integration.clone()).await, open);

    app.get(&app.staff, &format!("/v1/concerns/{colleagues}"))
        .await
        .expect_problem(404, "not_found");
    app.get(&app.staff, &format!("/v1/concerns/{anonymous}"))
        .await
        .expect_problem(404, "not_found");
    app.get(&app.viewer, &format!("/v1/concerns/{confidential}"))
        .await
        .expect_problem(404, "not_found");
    app.get(&app.staff, &format!("/v1/concerns/{own_confidential}"))
        .await
        .expect(200);

    // Another staff member sees none of them.
    let colleague = sign(&claims(&app.org, &[Role::Staff], "another-carer"));
    assert_eq!(list(colleague).await, Vec::<String>::new());
    // Roles add up: a staff member who is also a viewer sees both sets.
    let both = sign(&claims(
        &app.org,
        &[Role::Staff, Role::Viewer],
        "user-staff",
    ));
    assert_eq!(
        list(both).await,
        vec![anonymous, own, own_confidential, colleagues]
    );
}

#[actix_web::test]
async fn list_filters_narrow_the_results() {
    let app = TestApp::new().await;
    let medication = app
        .raise(
            &app.manager,
            json!({"category": "medication", "risk": "high"}),
        )
        .await;
    let staffing = app
        .raise(
            &app.manager,
            json!({"category": "staffing", "risk": "low", "location_id": app.second_location}),
        )
        .await;
    app.move_to(&staffing, json!({"to": "acknowledged"})).await;
    let get = |query: &'static str| {
        let app = &app;
        async move {
            ids(&app
                .get(&app.manager, &format!("/v1/concerns?{query}"))
                .await
                .expect(200)
                .body)
        }
    };
    assert_eq!(get("category=medication").await, vec![medication.clone()]);
    assert_eq!(get("risk=low").await, vec![staffing.clone()]);
    assert_eq!(get("status=acknowledged").await, vec![staffing.clone()]);
    assert_eq!(
        get("status=raised&risk=high").await,
        vec![medication.clone()]
    );
    // A repeated filter takes any of its values.
    assert_eq!(
        get("status=raised&status=acknowledged").await,
        vec![medication.clone(), staffing.clone()]
    );
    assert_eq!(
        get("category=medication&category=staffing&risk=low").await,
        vec![staffing.clone()]
    );
    let by_location = app
        .get(
            &app.manager,
            &format!("/v1/concerns?location_id={}", app.second_location),
        )
        .await;
    assert_eq!(ids(&by_location.body), vec![staffing.clone()]);

    let before = Utc::now();
    std::thread::sleep(std::time::Duration::from_millis(5));
    app.patch(
        &app.manager,
        &format!("/v1/concerns/{medication}"),
        json!({"risk": "critical"}),
    )
    .await
    .expect(200);
    let since = before
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        .replace('+', "%2B");
    let changed = app
        .get(&app.manager, &format!("/v1/concerns?updated_since={since}"))
        .await
        .expect(200);
    assert_eq!(ids(&changed.body), vec![medication]);
}

#[actix_web::test]
async fn paging_returns_every_concern_once_while_more_arrive() {
    let app = TestApp::new().await;
    let mut raised = Vec::new();
    for _ in 0..5 {
        raised.push(app.raise(&app.manager, json!({})).await);
    }
    let mut seen = Vec::new();
    let mut path = "/v1/concerns?limit=2".to_owned();
    loop {
        let page = app.get(&app.manager, &path).await.expect(200);
        seen.extend(ids(&page.body));
        // New concerns keep arriving while the client pages.
        if raised.len() < 8 {
            raised.push(app.raise(&app.manager, json!({})).await);
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/concerns?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, raised, "every concern exactly once, in order");
}

#[actix_web::test]
async fn patch_changes_descriptive_fields_and_honours_if_match() {
    let app = TestApp::new().await;
    let id = app.raise(&app.staff, json!({})).await;
    let path = format!("/v1/concerns/{id}");
    let read = app.get(&app.manager, &path).await;
    assert_eq!(read.header("etag"), Some("\"1\""));
    let updated = app
        .patch_if_match(
            &app.manager,
            &path,
            "\"1\"",
            json!({"risk": "critical", "title": "Call bells ignored", "location_id": null}),
        )
        .await
        .expect(200);
    assert_eq!(updated.body["risk"], "critical");
    assert_eq!(updated.body["title"], "Call bells ignored");
    assert_eq!(updated.body["location_id"], json!(null));
    assert_eq!(updated.body["status"], "raised");
    assert_eq!(updated.header("etag"), Some("\"2\""));
    app.patch_if_match(&app.manager, &path, "\"1\"", json!({"risk": "low"}))
        .await
        .expect_problem(412, "precondition_failed");
    app.patch(&app.manager, &path, json!({"status": "closed"}))
        .await
        .expect_problem(422, "validation_failed");
    app.patch(&app.manager, &path, json!({"title": ""}))
        .await
        .expect_problem(422, "validation_failed");
    let unchanged = app.get(&app.manager, &path).await;
    assert_eq!(unchanged.body["risk"], "critical");
    assert_eq!(unchanged.body["version"], 2);

    // Transitions honour If-Match too.
    let transitions = format!("{path}/transitions");
    let acknowledge = json!({"to": "acknowledged"});
    app.post_if_match(&app.manager, &transitions, "\"1\"", acknowledge.clone())
        .await
        .expect_problem(412, "precondition_failed");
    app.post_if_match(&app.manager, &transitions, "\"2\"", acknowledge)
        .await
        .expect(200);
}

#[actix_web::test]
async fn the_timeline_keeps_internal_notes_from_the_raiser() {
    let app = TestApp::new().await;
    let id = app.raise(&app.staff, json!({})).await;
    let path = format!("/v1/concerns/{id}/updates");
    let internal = app
        .post(
            &app.manager,
            &path,
            json!({"body": "Check the rota for that week"}),
        )
        .await
        .expect(201);
    assert_eq!(internal.body["visibility"], "internal");
    assert_eq!(internal.body["kind"], "note");
    assert_eq!(
        internal.header("location"),
        Some(format!("{path}/{}", internal.id()).as_str())
    );
    let shared = app
        .post(
            &app.manager,
            &path,
            json!({"body": "Thank you for telling us", "visibility": "raiser"}),
        )
        .await
        .expect(201);
    let from_raiser = app
        .post(&app.staff, &path, json!({"body": "It was worst on Sunday"}))
        .await
        .expect(201);
    assert_eq!(from_raiser.body["visibility"], "raiser");
    assert_eq!(from_raiser.body["kind"], "message");
    assert_eq!(from_raiser.body["by_raiser"], true);
    app.post(
        &app.staff,
        &path,
        json!({"body": "secret", "visibility": "internal"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(&app.manager, &path, json!({"body": ""}))
        .await
        .expect_problem(422, "validation_failed");

    let team = app.get(&app.manager, &path).await.expect(200);
    assert_eq!(
        ids(&team.body),
        vec![internal.id(), shared.id(), from_raiser.id()]
    );
    let raiser = app.get(&app.staff, &path).await.expect(200);
    assert_eq!(ids(&raiser.body), vec![shared.id(), from_raiser.id()]);
    app.get(&app.staff, &format!("{path}/{}", internal.id()))
        .await
        .expect_problem(404, "not_found");
    app.get(&app.staff, &format!("{path}/{}", shared.id()))
        .await
        .expect(200);
    // A note changes the concern for anyone syncing by updated_since.
    let concern = app
        .get(&app.manager, &format!("/v1/concerns/{id}"))
        .await
        .body;
    assert!(time(&concern["updated_at"]) > time(&concern["created_at"]));
}

#[actix_web::test]
async fn idempotency_keys_replay_the_first_answer() {
    let app = TestApp::new().await;
    let body = json!({"title": "Broken hoist", "description": "The hoist in room 4 is broken.",
                      "category": "environment", "risk": "high", "location_id": app.location});
    let keyed = |key: &'static str, body: &Value| {
        app.post_keyed(&app.staff, "/v1/concerns", key, body.clone())
    };
    let first = keyed("key-1", &body).await.expect(201);
    let replay = keyed("key-1", &body).await.expect(201);
    assert_eq!(replay.body, first.body);
    assert_eq!(replay.header("location"), first.header("location"));
    assert_eq!(replay.header("etag"), Some("\"1\""));
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(app.count("concerns"), 1);

    let mut other = body.clone();
    other["risk"] = json!("low");
    keyed("key-1", &other)
        .await
        .expect_problem(422, "idempotency_key_reused");
    assert_eq!(app.count("concerns"), 1);

    // Keys belong to their caller: another caller's same key is a new request.
    let theirs = app
        .post_keyed(&app.manager, "/v1/concerns", "key-1", body.clone())
        .await
        .expect(201);
    assert_ne!(theirs.id(), first.id());

    // A failed request leaves its key free for a corrected retry.
    let mut invalid = body.clone();
    invalid["title"] = json!("");
    keyed("key-2", &invalid).await.expect(422);
    keyed("key-2", &body).await.expect(201);

    // Transitions replay too, rather than failing as an illegal second move.
    let id = first.id();
    let transitions = format!("/v1/concerns/{id}/transitions");
    let transition = || {
        app.post_keyed(
            &app.manager,
            &transitions,
            "ack-1",
            json!({"to": "acknowledged"}),
        )
    };
    let moved = transition().await.expect(200);
    let again = transition().await.expect(200);
    assert_eq!(again.body, moved.body);
    let timeline = app
        .get(&app.manager, &format!("/v1/concerns/{id}/updates"))
        .await;
    assert_eq!(timeline.body["items"].as_array().unwrap().len(), 1);
    app.post_keyed(&app.staff, "/v1/concerns", &"x".repeat(300), body)
        .await
        .expect_problem(422, "validation_failed");
}

#[actix_web::test]
async fn concerns_of_another_location_cannot_be_moved_there_by_a_limited_caller() {
    let app = TestApp::new().await;
    let id = app.raise(&app.manager, json!({})).await;
    let mut limited = claims(&app.org, &[Role::Manager], "limited");
    limited.locations = Some(vec![app.location.clone()]);
    let token = sign(&limited);
    app.call(
        Method::PATCH,
        &format!("/v1/concerns/{id}"),
        Some(&token),
        Some(json!({"location_id": app.second_location})),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.patch(
        &token,
        &format!("/v1/concerns/{id}"),
        json!({"location_id": null}),
    )
    .await
    .expect_problem(422, "validation_failed");
}

#[actix_web::test]
async fn a_stored_value_the_code_never_writes_is_a_500_that_names_nothing() {
    let app = TestApp::new().await;
    let id = app.raise(&app.staff, json!({})).await;
    app.with_conn(|conn| {
        conn.batch_execute(&format!(
            "UPDATE concerns SET status = 'lost_in_the_post' WHERE id = '{id}'"
        ))
        .unwrap()
    });
    let read = app
        .get(&app.manager, &format!("/v1/concerns/{id}"))
        .await
        .expect(500);
    assert_eq!(read.body["code"], "internal_error");
    let body = read.body.to_string();
    assert!(!body.contains("lost_in_the_post"), "{body}");
    assert!(!body.contains("ConcernStatus"), "{body}");
}
