//! The governance pack (JSON and the printable page), the record of its meeting, and the
//! dashboard page with its development sign-in.

use actix_web::http::Method;
use careloop::auth::Role;
use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

use crate::helpers::{claims, sign, TestApp};
use crate::improvement::{move_action, move_plan, new_action, new_plan};

fn this_month() -> String {
    chrono::Utc::now().format("%Y-%m").to_string()
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| item[key].as_str().unwrap().to_owned())
        .collect()
}

/// A month's records at the first location, and what the pack should list of them.
struct Month {
    recognition: String,
    effective: String,
    not_effective: String,
    overdue: String,
    resolved: String,
    high_risk: String,
    plan: String,
}

async fn a_month(app: &TestApp) -> Month {
    let recognition = app
        .post(
            &app.staff,
            "/v1/recognitions",
            json!({"kind": "compliment", "title": "Thank you <b>night team</b>",
                   "recipients": ["Night team"], "from": "relative", "occurred_on": chrono::Utc::now().date_naive().to_string(),
                   "location_id": app.location}),
        )
        .await
        .expect(201)
        .id();
    let plan = new_plan(app, json!({})).await;
    move_plan(app, &plan, json!({"to": "active"}))
        .await
        .expect(200);
    let mut done = Vec::new();
    for _ in 0..2 {
        let action = new_action(app, &plan, "user-staff").await;
        move_action(
            app,
            &app.manager,
            &plan,
            &action,
            json!({"to": "in_progress"}),
        )
        .await
        .expect(200);
        move_action(
            app,
            &app.manager,
            &plan,
            &action,
            json!({"to": "done", "completion_note": "Rota changed"}),
        )
        .await
        .expect(200);
        done.push(action);
    }
    let today = chrono::Utc::now().date_naive().to_string();
    for (action, effectiveness) in [(&done[0], "effective"), (&done[1], "not_effective")] {
        app.patch(
            &app.manager,
            &format!("/v1/improvement-plans/{plan}/actions/{action}"),
            json!({"effectiveness": effectiveness, "checked_on": today}),
        )
        .await
        .expect(200);
    }
    let overdue = new_action(app, &plan, "user-staff").await;
    app.with_conn(|conn| {
        conn.batch_execute(&format!(
            "UPDATE plan_actions SET due_on = '2020-01-01' WHERE id = '{overdue}'"
        ))
        .unwrap()
    });
    let resolved = app
        .raise(&app.manager, json!({"category": "staffing"}))
        .await;
    app.move_to(&resolved, json!({"to": "acknowledged"})).await;
    app.move_to(&resolved, json!({"to": "investigating"})).await;
    app.move_to(
        &resolved,
        json!({"to": "resolved", "outcome": "Second night carer from Monday"}),
    )
    .await;
    let high_risk = app
        .raise(
            &app.manager,
            json!({"category": "medication", "risk": "critical"}),
        )
        .await;
    for (metric, value) in [("falls_score", 80.0), ("audit_score", 99.0)] {
        app.post(
            &app.manager,
            "/v1/evidence",
            json!({"source": "audit", "evidence_category": "processes",
                   "quality_statements": ["safe.medicines_optimisation"],
                   "title": "Medication audit", "observed_at": chrono::Utc::now().to_rfc3339(),
                   "location_id": app.location,
                   "metric": {"name": metric, "value": value, "target": 90.0}}),
        )
        .await
        .expect(201);
    }
    // The self-assessment: Safe scored 4 but for one statement at 1, which caps its rating.
    let statements = [
        "safe.learning_culture",
        "safe.safe_systems_pathways_transitions",
        "safe.safeguarding",
        "safe.involving_people_to_manage_risks",
        "safe.safe_environments",
        "safe.safe_and_effective_staffing",
        "safe.infection_prevention_and_control",
        "safe.medicines_optimisation",
    ];
    for (i, statement) in statements.iter().enumerate() {
        let score = if i == 7 { 1 } else { 4 };
        app.post(
            &app.manager,
            &format!(
                "/v1/locations/{}/self-assessments/cqc-saf-2024/quality-statements/{statement}/scores",
                app.location
            ),
            json!({"score": score, "rationale": "Seen at the audit"}),
        )
        .await
        .expect(201);
    }
    Month {
        recognition,
        effective: done[0].clone(),
        not_effective: done[1].clone(),
        overdue,
        resolved,
        high_risk,
        plan,
    }
}

#[actix_web::test]
async fn the_pack_of_a_month_under_its_three_headings() {
    let app = TestApp::new().await;
    let month = a_month(&app).await;
    let path = format!(
        "/v1/governance-packs/{}?location_id={}",
        this_month(),
        app.location
    );
    let pack = app.get(&app.manager, &path).await.expect(200).body;
    assert_eq!(pack["month"], this_month());
    assert_eq!(pack["organisation_name"], "Meadowbank Care Ltd");
    assert_eq!(pack["location_id"], app.location.as_str());
    assert!(pack["location_name"].is_string());

    let well = &pack["went_well"];
    assert_eq!(
        ids(&well["recognitions"], "id"),
        vec![month.recognition.clone()]
    );
    assert_eq!(
        ids(&well["actions_effective"], "id"),
        vec![month.effective.clone()]
    );
    assert_eq!(well["actions_effective"][0]["plan_id"], month.plan.as_str());
    assert_eq!(
        ids(&well["concerns_resolved"], "id"),
        vec![month.resolved.clone()]
    );
    assert_eq!(
        well["concerns_resolved"][0]["outcome"],
        "Second night carer from Monday"
    );
    assert_eq!(ids(&well["metrics_on_target"], "metric"), ["audit_score"]);

    let not_well = &pack["did_not_go_well"];
    assert_eq!(
        ids(&not_well["actions_not_effective"], "id"),
        [month.not_effective]
    );
    assert_eq!(
        ids(&not_well["actions_overdue"], "id"),
        vec![month.overdue.clone()]
    );
    assert_eq!(ids(&not_well["high_risk_raised"], "id"), [month.high_risk]);
    assert_eq!(
        ids(&not_well["metrics_off_target"], "metric"),
        ["falls_score"]
    );

    let change = &pack["needs_to_change"];
    let owners = change["open_actions_by_owner"].as_array().unwrap();
    assert_eq!(owners.len(), 1);
    assert_eq!(owners[0]["owner"]["sub"], "user-staff");
    assert_eq!(ids(&owners[0]["actions"], "id"), [month.overdue]);
    // Activated today, the monthly plan's review is due next month: within the horizon.
    assert_eq!(ids(&change["reviews_due"], "plan_id"), [month.plan]);
    let limiting = change["limiting_statements"].as_array().unwrap();
    assert_eq!(limiting.len(), 1, "{limiting:?}");
    assert_eq!(
        limiting[0]["quality_statement_id"],
        "safe.medicines_optimisation"
    );
    assert_eq!(limiting[0]["score"], 1);
    let gaps = ids(
        &change["statements_without_recent_evidence"],
        "quality_statement_id",
    );
    assert!(!gaps.contains(&"safe.medicines_optimisation".to_owned()));
    assert!(gaps.contains(&"safe.safeguarding".to_owned()));

    // Six months of trends, the pack's month last.
    let concerns = pack["trends"]["concerns"].as_array().unwrap();
    assert_eq!(concerns.len(), 6);
    assert_eq!(concerns[5]["raised"], 2);
    assert_eq!(
        concerns[5]["period_start_on"],
        format!("{}-01", this_month())
    );
    assert_eq!(pack["trends"]["actions"][5]["opened"], 3);
    assert_eq!(pack["governance_rhythm"].as_array().unwrap().len(), 1);

    // The other location's pack has none of it.
    let other = format!(
        "/v1/governance-packs/{}?location_id={}",
        this_month(),
        app.second_location
    );
    let other = app.get(&app.manager, &other).await.expect(200).body;
    assert_eq!(other["went_well"]["recognitions"], json!([]));
    assert_eq!(other["did_not_go_well"]["high_risk_raised"], json!([]));
    assert_eq!(other["needs_to_change"]["limiting_statements"], json!([]));
}

#[actix_web::test]
async fn the_pack_prints_as_a_page() {
    let app = TestApp::new().await;
    a_month(&app).await;
    let path = format!("/v1/governance-packs/{}", this_month());
    let request = TestApp::request(Method::GET, &path, Some(&app.manager))
        .insert_header(("Accept", "text/html"));
    let (status, headers, body) = app.exchange(request).await;
    assert_eq!(status, 200);
    assert_eq!(
        headers.get("content-type").unwrap(),
        "text/html; charset=utf-8"
    );
    let policy = headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(policy.contains("default-src 'none'"), "{policy}");
    let page = String::from_utf8(body.to_vec()).unwrap();
    for heading in [
        "What went well",
        "What didn't go well",
        "What needs to change",
    ] {
        assert!(
            page.contains(&format!(">{heading}</h2>")),
            "{heading} in {page}"
        );
    }
    assert_eq!(page.matches("<svg").count(), 2, "two charts");
    assert!(page.contains(r#"role="img""#));
    assert!(page.contains("<table>"), "the numbers beside each chart");
    assert!(
        page.contains("break-before: page"),
        "each heading on a page"
    );
    assert!(!page.contains("<script"), "no script");
    // What people typed is escaped.
    assert!(page.contains("Thank you &#60;b&#62;night team"));
    assert!(!page.contains("<b>night team</b>"));
    assert!(page.contains("Second night carer from Monday"));
    // JSON stays the default.
    let json = app.get(&app.manager, &path).await.expect(200);
    assert_eq!(json.header("content-type"), Some("application/json"));
}

#[actix_web::test]
async fn a_pack_shows_the_caller_only_what_they_may_read() {
    let app = TestApp::new().await;
    let confidential = app
        .raise(
            &app.manager,
            json!({"category": "safeguarding", "risk": "critical", "title": "SECRET bruising"}),
        )
        .await;
    let path = format!("/v1/governance-packs/{}", this_month());
    let manager = app.get(&app.manager, &path).await.expect(200).body;
    assert_eq!(
        ids(&manager["did_not_go_well"]["high_risk_raised"], "id"),
        vec![confidential.clone()]
    );
    for token in [&app.viewer, &app.staff, &app.integration] {
        let pack = app.get(token, &path).await.expect(200).body;
        assert!(!pack.to_string().contains(&confidential));
        assert_eq!(pack["trends"]["concerns"][5]["raised"], 0);
    }
    let mut limited = claims(&app.org, &[Role::Manager], "user-limited");
    limited.locations = Some(vec![app.second_location.clone()]);
    let limited = sign(&limited);
    let pack = app.get(&limited, &path).await.expect(200).body;
    assert!(!pack.to_string().contains(&confidential));
    let elsewhere = format!("{path}?location_id={}", app.location);
    app.get(&limited, &elsewhere)
        .await
        .expect_problem(422, "validation_failed");
    app.get(&app.other_admin, &elsewhere)
        .await
        .expect_problem(422, "validation_failed");
}

#[actix_web::test]
async fn recording_the_meeting_closes_the_loop() {
    let app = TestApp::new().await;
    let review = json!({
        "occurred_at": "2026-10-05T14:00:00Z",
        "participants": [{"role": "manager", "name": "Alex"}, {"role": "relative"}],
        "went_well": "Falls down a third",
        "did_not_go_well": "Call bells at night",
        "to_change": "Second night carer",
        "lessons": ["Check call-bell logs weekly"],
        "shared_via": ["team_meeting"]
    });
    let path = format!(
        "/v1/governance-packs/2026-09/review?location_id={}",
        app.location
    );
    app.post(&app.staff, &path, review.clone())
        .await
        .expect_problem(403, "forbidden");
    let recorded = app
        .post(&app.manager, &path, review.clone())
        .await
        .expect(201);
    let event = &recorded.body;
    assert_eq!(event["kind"], "governance_review");
    assert_eq!(event["governance_month"], "2026-09");
    assert_eq!(event["location_id"], app.location.as_str());
    assert_eq!(event["title"], "Governance review: September 2026");
    assert_eq!(event["went_well"], "Falls down a third");
    assert_eq!(event["occurred_at"], "2026-10-05T14:00:00Z");
    let id = recorded.id();
    assert_eq!(
        recorded.header("location"),
        Some(format!("/v1/learning-events/{id}").as_str())
    );
    // It is a learning event like any other, and the month's pack names it.
    app.get(&app.viewer, &format!("/v1/learning-events/{id}"))
        .await
        .expect(200);
    let pack = app
        .get(
            &app.viewer,
            &format!("/v1/governance-packs/2026-09?location_id={}", app.location),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(ids(&pack["reviews"], "learning_event_id"), vec![id.clone()]);
    let rhythm = &pack["governance_rhythm"][0]["months"];
    assert_eq!(rhythm[5]["reviews"], 0, "held in October, not September");
    assert_eq!(rhythm[4]["month_start_on"], "2026-08-01");

    // Once per month and location; the organisation's own pack is another.
    let again = app
        .post(&app.manager, &path, review.clone())
        .await
        .expect_problem(409, "already_reviewed");
    assert!(again.body["detail"].as_str().unwrap().contains(&id));
    app.post(
        &app.manager,
        "/v1/governance-packs/2026-09/review",
        review.clone(),
    )
    .await
    .expect(201);
    assert_eq!(app.count("learning_events"), 2);

    // Bad input changes nothing.
    for (path, body, field) in [
        (
            "/v1/governance-packs/2026-13/review",
            review.clone(),
            "month",
        ),
        (
            "/v1/governance-packs/2026-08/review",
            json!({"went_well": "x", "did_not_go_well": "y"}),
            "to_change",
        ),
        (
            "/v1/governance-packs/2026-08/review",
            json!({"went_well": "x", "did_not_go_well": "y", "to_change": "z",
                   "occurred_at": "2099-01-01T00:00:00Z"}),
            "occurred_at",
        ),
    ] {
        let problem = app
            .post(&app.manager, path, body)
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(problem.body["errors"][0]["field"], field, "{path}");
    }
    assert_eq!(app.count("learning_events"), 2);
    app.get(&app.manager, "/v1/governance-packs/26-1")
        .await
        .expect_problem(422, "validation_failed");

    // A month is reviewed once it has begun, at a meeting held after it began.
    let next_month = (chrono::Utc::now().date_naive() + chrono::Duration::days(35))
        .format("%Y-%m")
        .to_string();
    let future = app
        .post(
            &app.manager,
            &format!("/v1/governance-packs/{next_month}/review"),
            json!({"went_well": "x", "did_not_go_well": "y", "to_change": "z"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(future.body["errors"][0]["field"], "month");
    let early = app
        .post(
            &app.manager,
            "/v1/governance-packs/2026-08/review",
            json!({"went_well": "x", "did_not_go_well": "y", "to_change": "z",
                   "occurred_at": "2026-07-31T14:00:00Z"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(early.body["errors"][0]["field"], "occurred_at");
    assert_eq!(app.count("learning_events"), 2);

    // The review stays that month's review of that location.
    let event = format!("/v1/learning-events/{id}");
    for change in [
        json!({"kind": "after_action_review"}),
        json!({"location_id": app.second_location}),
    ] {
        app.patch(&app.manager, &event, change)
            .await
            .expect_problem(409, "conflicts_with_record");
    }
    app.patch(
        &app.manager,
        &event,
        json!({"to_change": "Two night carers"}),
    )
    .await
    .expect(200);
}

#[actix_web::test]
async fn a_review_tells_a_caller_nothing_of_a_location_beyond_their_reach() {
    let app = TestApp::new().await;
    let review = json!({"went_well": "x", "did_not_go_well": "y", "to_change": "z"});
    let first = format!(
        "/v1/governance-packs/2026-09/review?location_id={}",
        app.location
    );
    let recorded = app
        .post(&app.manager, &first, review.clone())
        .await
        .expect(201)
        .id();
    let mut limited = claims(&app.org, &[Role::Manager], "user-limited");
    limited.locations = Some(vec![app.second_location.clone()]);
    let limited = sign(&limited);
    // Not 409 naming the first location's review: that location is not theirs.
    let refused = app
        .post(&limited, &first, review.clone())
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(refused.body["errors"][0]["field"], "location_id");
    assert!(!refused.body.to_string().contains(&recorded));
    // Nor the organisation's own review.
    app.post(
        &app.manager,
        "/v1/governance-packs/2026-09/review",
        review.clone(),
    )
    .await
    .expect(201);
    app.post(
        &limited,
        "/v1/governance-packs/2026-09/review",
        review.clone(),
    )
    .await
    .expect_problem(422, "validation_failed");

    // One idempotency key, two locations: two requests, not a replay.
    let second = format!(
        "/v1/governance-packs/2026-08/review?location_id={}",
        app.location
    );
    let third = format!(
        "/v1/governance-packs/2026-08/review?location_id={}",
        app.second_location
    );
    app.post_keyed(&app.manager, &second, "pack-review-1", review.clone())
        .await
        .expect(201);
    app.post_keyed(&app.manager, &third, "pack-review-1", review.clone())
        .await
        .expect_problem(422, "idempotency_key_reused");
    assert_eq!(app.count("learning_events"), 3);
}

async fn sign_in(app: &TestApp, role: &str) -> crate::helpers::Response {
    let body = json!({ "role": role });
    app.call(Method::POST, "/dashboard/sign-in", None, Some(body))
        .await
}

#[actix_web::test]
async fn the_dashboard_page_and_its_development_sign_in() {
    let app = TestApp::new().await;
    let (status, headers, body) = app
        .exchange(TestApp::request(Method::GET, "/dashboard", None))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        headers.get("content-type").unwrap(),
        "text/html; charset=utf-8"
    );
    let policy = headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    let page = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        page.contains("/v1/insights/concerns"),
        "it reads the public API"
    );
    assert!(!page.contains("https://"), "nothing from elsewhere");
    assert!(page.contains(r#"<body data-development="false">"#));
    // Outside development mode there is no sign-in to the page.
    sign_in(&app, "manager")
        .await
        .expect_problem(404, "not_found");

    let dev = TestApp::development().await;
    let (_, _, page) = dev
        .exchange(TestApp::request(Method::GET, "/dashboard", None))
        .await;
    let page = String::from_utf8(page.to_vec()).unwrap();
    assert!(page.contains(r#"<body data-development="true">"#));
    let token = sign_in(&dev, "viewer").await.expect(200).body;
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["scope"], "viewer");
    let token = token["access_token"].as_str().unwrap();
    dev.get(token, "/v1/insights/concerns").await.expect(200);
    dev.post(token, "/v1/concerns", json!({}))
        .await
        .expect_problem(403, "forbidden");
    // Only for a request to the loopback host: not for a page that renamed its own.
    let rebound = TestApp::request(Method::POST, "/dashboard/sign-in", None)
        .insert_header(("Host", "evil.example:8080"))
        .set_json(json!({"role": "admin"}));
    assert_eq!(dev.send(rebound).await.status, 404);
    sign_in(&dev, "superuser")
        .await
        .expect_problem(422, "validation_failed");
}
