//! Insights: figures per period on worked data, the signal rule, and counts that leave out what
//! the caller may not read.

use careloop::auth::Role;
use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

use crate::helpers::{claims, sign, TestApp};
use crate::improvement::{move_action, move_plan, new_action, new_plan};

/// Sets columns of a row directly: the past cannot be made through the API.
fn set(app: &TestApp, table: &str, id: &str, columns: &str) {
    app.with_conn(|conn| {
        conn.batch_execute(&format!("UPDATE {table} SET {columns} WHERE id = '{id}'"))
            .unwrap()
    });
}

/// A concern raised on `day` (`YYYY-MM-DD`, at 09:00) with its clocks from then: acknowledged
/// after `acknowledged_hours` and resolved after `resolved_days` when given.
async fn concern_raised(
    app: &TestApp,
    day: &str,
    category: &str,
    risk: &str,
    acknowledged_hours: Option<i64>,
    resolved_days: Option<i64>,
) -> String {
    let id = app
        .raise(
            &app.manager,
            json!({"category": category, "risk": risk, "confidential": false}),
        )
        .await;
    if acknowledged_hours.is_some() {
        app.move_to(&id, json!({"to": "acknowledged"})).await;
    }
    if resolved_days.is_some() {
        app.move_to(&id, json!({"to": "investigating"})).await;
        app.move_to(&id, json!({"to": "resolved", "outcome": "Rota changed"}))
            .await;
    }
    let raised = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let at = |t: chrono::NaiveDateTime| format!("'{}'", t.format("%Y-%m-%d %H:%M:%S"));
    let mut columns = format!(
        "created_at = {}, acknowledge_by = {}, feedback_by = {}",
        at(raised),
        at(raised + chrono::Duration::hours(72)),
        at(raised + chrono::Duration::days(90)),
    );
    if let Some(hours) = acknowledged_hours {
        columns += &format!(
            ", acknowledged_at = {}",
            at(raised + chrono::Duration::hours(hours))
        );
    }
    if let Some(days) = resolved_days {
        columns += &format!(
            ", resolved_at = {}",
            at(raised + chrono::Duration::days(days))
        );
    }
    set(app, "concerns", &id, &columns);
    id
}

fn period<'a>(body: &'a Value, start: &str) -> &'a Value {
    body["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["period_start_on"] == start)
        .unwrap_or_else(|| panic!("no period from {start}: {body:#}"))
}

fn count_of(counts: &Value, value: &str) -> i64 {
    counts
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["value"] == value)
        .unwrap_or_else(|| panic!("no {value} in {counts}"))["count"]
        .as_i64()
        .unwrap()
}

#[actix_web::test]
async fn concern_figures_per_month_on_worked_data() {
    let app = TestApp::new().await;
    // May 2026: three concerns. Acknowledged after 10 h, 30 h and 100 h (the last too late:
    // the clock is 72 h); the first resolved after 20 days, the second after 100 (too late).
    concern_raised(&app, "2026-05-04", "medication", "low", Some(10), Some(20)).await;
    concern_raised(
        &app,
        "2026-05-11",
        "staffing",
        "medium",
        Some(30),
        Some(100),
    )
    .await;
    concern_raised(&app, "2026-05-18", "staffing", "high", Some(100), None).await;
    // June: one, never acknowledged (its clock long run out).
    concern_raised(&app, "2026-06-01", "culture", "critical", None, None).await;

    let body = app
        .get(
            &app.manager,
            "/v1/insights/concerns?from=2026-05-10&to=2026-06-30&interval=month",
        )
        .await
        .expect(200)
        .body;
    assert_eq!(body["interval"], "month");
    assert_eq!(
        body["from_on"], "2026-05-01",
        "from the start of its period"
    );
    assert_eq!(body["to_on"], "2026-06-30");
    assert_eq!(body["periods"].as_array().unwrap().len(), 2);
    let may = period(&body, "2026-05-01");
    assert_eq!(may["period_end_on"], "2026-05-31");
    assert_eq!(may["raised"], 3);
    assert_eq!(count_of(&may["by_category"], "staffing"), 2);
    assert_eq!(count_of(&may["by_category"], "medication"), 1);
    assert_eq!(count_of(&may["by_category"], "safeguarding"), 0);
    assert_eq!(count_of(&may["by_risk"], "high"), 1);
    assert_eq!(count_of(&may["by_status"], "resolved"), 2);
    assert_eq!(count_of(&may["by_status"], "acknowledged"), 1);
    assert_eq!(may["acknowledged_in_time"], 2);
    assert_eq!(may["acknowledgement_due"], 3);
    assert_eq!(may["acknowledged_in_time_percent"], 66.7);
    assert_eq!(may["resolved_in_time"], 1);
    // The third's feedback clock ran out in August: it was due, and missed.
    assert_eq!(may["resolution_due"], 3);
    assert_eq!(may["resolved_in_time_percent"], 33.3);
    assert_eq!(may["median_hours_to_acknowledge"], 30.0);
    assert_eq!(
        may["median_days_to_resolve"], 60.0,
        "the mean of 20 and 100"
    );
    let june = period(&body, "2026-06-01");
    assert_eq!(june["raised"], 1);
    assert_eq!(june["acknowledged_in_time"], 0);
    assert_eq!(june["acknowledgement_due"], 1);
    assert_eq!(june["acknowledged_in_time_percent"], 0.0);
    assert_eq!(june["median_hours_to_acknowledge"], json!(null));

    // Now: the two unresolved are open and past their feedback clock; the critical one is a
    // signal of its own, listed with its deadlines.
    assert_eq!(body["open_now"], 2);
    assert_eq!(body["overdue_now"], 2);
    let signals = &body["signals"];
    assert_eq!(signals["high_risk_overdue_count"], 2);
    let listed = signals["high_risk_overdue"].as_array().unwrap();
    assert_eq!(listed[0]["risk"], "high", "oldest first");
    assert_eq!(listed[1]["risk"], "critical");
    assert_eq!(listed[1]["raised_at"], "2026-06-01T09:00:00Z");
    assert_eq!(listed[1]["acknowledge_due_at"], "2026-06-04T09:00:00Z");
    assert!(signals["rule"]
        .as_str()
        .unwrap()
        .contains("two standard deviations"));

    // Weeks start on Monday: 4 May 2026 is one.
    let weeks = app
        .get(
            &app.manager,
            "/v1/insights/concerns?from=2026-05-06&to=2026-05-17&interval=week",
        )
        .await
        .expect(200)
        .body;
    let starts: Vec<&str> = weeks["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["period_start_on"].as_str().unwrap())
        .collect();
    assert_eq!(starts, ["2026-05-04", "2026-05-11"]);
    assert_eq!(period(&weeks, "2026-05-04")["raised"], 1);
    assert_eq!(period(&weeks, "2026-05-11")["raised"], 1);
    assert_eq!(period(&weeks, "2026-05-11")["period_end_on"], "2026-05-17");
    let quarter = app
        .get(
            &app.manager,
            "/v1/insights/concerns?from=2026-04-01&to=2026-06-30&interval=quarter",
        )
        .await
        .expect(200)
        .body;
    assert_eq!(period(&quarter, "2026-04-01")["raised"], 4);
}

#[actix_web::test]
async fn a_category_well_above_its_baseline_is_a_signal() {
    let app = TestApp::new().await;
    // One medication concern a month from December to May, then four in June: above the mean
    // (1) plus two standard deviations (0). Staffing, steady at one a month, is not.
    for month in [
        "2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05",
    ] {
        let day = format!("{month}-10");
        concern_raised(&app, &day, "medication", "low", None, None).await;
        concern_raised(&app, &day, "staffing", "low", None, None).await;
    }
    for day in ["2026-06-02", "2026-06-09", "2026-06-16", "2026-06-23"] {
        concern_raised(&app, day, "medication", "low", None, None).await;
    }
    concern_raised(&app, "2026-06-10", "staffing", "low", None, None).await;
    let ask = "/v1/insights/concerns?from=2026-06-01&to=2026-06-30";
    let body = app.get(&app.manager, ask).await.expect(200).body;
    assert_eq!(
        body["signals"]["categories"],
        json!([{"category": "medication", "period_start_on": "2026-06-01", "count": 4,
                "baseline_mean": 1.0, "baseline_standard_deviation": 0.0, "threshold": 1.0}])
    );
    // The baseline is read before the first period shown: only June is in the answer.
    assert_eq!(body["periods"].as_array().unwrap().len(), 1);
    // Without six periods of history (none before the first concern) there is no baseline.
    app.with_conn(|conn| {
        conn.batch_execute("DELETE FROM concerns WHERE created_at < '2026-01-01'")
            .unwrap()
    });
    let body = app.get(&app.manager, ask).await.expect(200).body;
    assert_eq!(body["signals"]["categories"], json!([]));
}

#[actix_web::test]
async fn a_quiet_spell_is_history_too() {
    let app = TestApp::new().await;
    // A concern in 2025, then none until one in each of April and May, then four in June: the
    // quiet months are a baseline of nothing, not months before the service was used.
    concern_raised(&app, "2025-06-10", "staffing", "low", None, None).await;
    for day in ["2026-04-10", "2026-05-10"] {
        concern_raised(&app, day, "medication", "low", None, None).await;
    }
    for day in ["2026-06-02", "2026-06-09", "2026-06-16", "2026-06-23"] {
        concern_raised(&app, day, "medication", "low", None, None).await;
    }
    let body = app
        .get(
            &app.manager,
            "/v1/insights/concerns?from=2026-06-01&to=2026-06-30",
        )
        .await
        .expect(200)
        .body;
    let signals = &body["signals"]["categories"];
    assert_eq!(signals[0]["category"], "medication", "{signals}");
    assert_eq!(signals[0]["count"], 4);
    // Two in six months: a mean of 1/3.
    assert!((signals[0]["baseline_mean"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    // A span running past today still signals on the period today falls in.
    let today = chrono::Utc::now().date_naive();
    let ahead = app
        .get(
            &app.manager,
            &format!(
                "/v1/insights/concerns?to={}",
                today + chrono::Duration::days(70)
            ),
        )
        .await
        .expect(200)
        .body;
    assert!(ahead["signals"]["categories"].is_array());
}

#[actix_web::test]
async fn weeks_quarters_and_medians_at_their_edges() {
    let app = TestApp::new().await;
    // Sunday 10 May 2026 late evening belongs to the week from Monday 4 May; 31 March is the
    // first quarter, 1 April the second.
    let sunday = concern_raised(&app, "2026-05-10", "other", "low", Some(10), None).await;
    set(
        &app,
        "concerns",
        &sunday,
        "created_at = '2026-05-10 23:30:00', acknowledged_at = '2026-05-11 09:30:00'",
    );
    concern_raised(&app, "2026-03-31", "other", "low", Some(10), None).await;
    concern_raised(&app, "2026-04-01", "other", "low", Some(10), None).await;
    let weeks = app
        .get(
            &app.manager,
            "/v1/insights/concerns?from=2026-05-04&to=2026-05-17&interval=week",
        )
        .await
        .expect(200)
        .body;
    assert_eq!(period(&weeks, "2026-05-04")["raised"], 1);
    assert_eq!(period(&weeks, "2026-05-11")["raised"], 0);
    // Exactly ten hours to acknowledge, on both backends.
    assert_eq!(
        period(&weeks, "2026-05-04")["median_hours_to_acknowledge"],
        10.0
    );
    let quarters = app
        .get(
            &app.manager,
            "/v1/insights/concerns?from=2026-01-01&to=2026-06-30&interval=quarter",
        )
        .await
        .expect(200)
        .body;
    assert_eq!(period(&quarters, "2026-01-01")["raised"], 1);
    assert_eq!(period(&quarters, "2026-04-01")["raised"], 2);
    assert_eq!(
        period(&quarters, "2026-04-01")["median_hours_to_acknowledge"],
        10.0
    );
}

#[actix_web::test]
async fn counts_leave_out_the_concerns_the_caller_may_not_read() {
    let app = TestApp::new().await;
    let month = chrono::Utc::now().format("%Y-%m-01").to_string();
    // A confidential safeguarding concern and a plain one at the first location; one at the
    // second location raised by the staff member.
    app.raise(
        &app.manager,
        json!({"category": "safeguarding", "risk": "high"}),
    )
    .await;
    app.raise(&app.manager, json!({})).await;
    app.raise(&app.staff, json!({"location_id": app.second_location}))
        .await;
    let raised = |body: &Value| period(body, &month)["raised"].as_i64().unwrap();
    let ask = "/v1/insights/concerns";
    let admin = app.get(&app.admin, ask).await.expect(200).body;
    assert_eq!(raised(&admin), 3);
    assert_eq!(admin["open_now"], 3);
    let viewer = app.get(&app.viewer, ask).await.expect(200).body;
    assert_eq!(raised(&viewer), 2, "not the confidential one");
    assert_eq!(viewer["open_now"], 2);
    assert_eq!(
        count_of(&period(&viewer, &month)["by_category"], "safeguarding"),
        0
    );
    let staff = app.get(&app.staff, ask).await.expect(200).body;
    assert_eq!(raised(&staff), 1, "only what they raised");
    let mut limited = claims(&app.org, &[Role::Manager], "user-limited");
    limited.locations = Some(vec![app.second_location.clone()]);
    let limited = sign(&limited);
    let body = app.get(&limited, ask).await.expect(200).body;
    assert_eq!(raised(&body), 1, "only their location");
    let at_first = format!("{ask}?location_id={}", app.location);
    app.get(&limited, &at_first)
        .await
        .expect_problem(422, "validation_failed");
    let admin_at_first = app.get(&app.admin, &at_first).await.expect(200).body;
    assert_eq!(raised(&admin_at_first), 2);
    // Another organisation sees none of it.
    let other = app.get(&app.other_admin, ask).await.expect(200).body;
    assert_eq!(raised(&other), 0);
}

#[actix_web::test]
async fn bad_spans_are_refused() {
    let app = TestApp::new().await;
    for (ask, field) in [
        (
            "/v1/insights/concerns?from=2026-06-02&to=2026-06-01",
            "from",
        ),
        (
            "/v1/insights/actions?from=2020-01-01&to=2026-06-01&interval=week",
            "to",
        ),
        ("/v1/insights/learning?interval=fortnight", "interval"),
        ("/v1/insights/evidence?from=yesterday", "from"),
    ] {
        let problem = app
            .get(&app.manager, ask)
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(problem.body["errors"][0]["field"], field, "{ask}");
    }
    let unknown = format!(
        "/v1/insights/concerns?location_id={}",
        app.other_org_location
    );
    app.get(&app.manager, &unknown)
        .await
        .expect_problem(422, "validation_failed");
}

#[actix_web::test]
async fn action_figures_per_month_and_where_the_plans_stand() {
    let app = TestApp::new().await;
    let plan = new_plan(&app, json!({})).await;
    move_plan(&app, &plan, json!({"to": "active"}))
        .await
        .expect(200);
    let draft = new_plan(&app, json!({})).await;
    let on_time = new_action(&app, &plan, "user-staff").await;
    let late = new_action(&app, &plan, "user-staff").await;
    let open = new_action(&app, &plan, "user-staff").await;
    for action in [&on_time, &late] {
        move_action(
            &app,
            &app.manager,
            &plan,
            action,
            json!({"to": "in_progress"}),
        )
        .await
        .expect(200);
        move_action(
            &app,
            &app.manager,
            &plan,
            action,
            json!({"to": "done", "completion_note": "Done"}),
        )
        .await
        .expect(200);
    }
    // All three opened and due in March; one done on time and found to work, one done late
    // and found not to, one still open.
    set(&app, "plan_actions", &on_time, "created_at = '2026-03-02 10:00:00', due_on = '2026-03-20', \
         completed_at = '2026-03-19 12:00:00', effectiveness = 'effective', checked_on = '2026-04-15'");
    set(&app, "plan_actions", &late, "created_at = '2026-03-02 10:00:00', due_on = '2026-03-20', \
         completed_at = '2026-04-02 12:00:00', effectiveness = 'not_effective', checked_on = '2026-04-20'");
    set(
        &app,
        "plan_actions",
        &open,
        "created_at = '2026-03-03 10:00:00', due_on = '2026-03-31'",
    );
    app.post(
        &app.manager,
        &format!("/v1/improvement-plans/{plan}/reviews"),
        json!({"reviewed_on": chrono::Utc::now().date_naive().to_string(), "progress": "amber"}),
    )
    .await
    .expect(201);

    let body = app
        .get(
            &app.viewer,
            "/v1/insights/actions?from=2026-03-01&to=2026-04-30",
        )
        .await
        .expect(200)
        .body;
    let march = period(&body, "2026-03-01");
    assert_eq!(
        (
            &march["opened"],
            &march["done"],
            &march["due"],
            &march["overdue"]
        ),
        (&json!(3), &json!(1), &json!(3), &json!(2)),
        "{march:#}"
    );
    let april = period(&body, "2026-04-01");
    assert_eq!(april["done"], 1);
    assert_eq!(april["checked_effective"], 1);
    assert_eq!(april["checked_not_effective"], 1);
    assert_eq!(april["effective_percent"], 50.0);
    assert_eq!(march["effective_percent"], json!(null));
    assert_eq!(body["open_now"], 1);
    assert_eq!(body["overdue_now"], 1);
    assert_eq!(count_of(&body["plans_by_status"], "active"), 1);
    assert_eq!(count_of(&body["plans_by_status"], "draft"), 1);
    assert_eq!(
        body["active_plans_by_rag"],
        json!({"red": 0, "amber": 1, "green": 0, "not_reviewed": 0})
    );
    // A monthly plan reviewed today is next due in a month: neither due soon nor overdue.
    assert_eq!(
        (&body["reviews_due"], &body["reviews_overdue"]),
        (&json!(0), &json!(0))
    );
    set(
        &app,
        "improvement_plans",
        &plan,
        "next_review_due = '2026-01-01'",
    );
    let body = app
        .get(&app.viewer, "/v1/insights/actions")
        .await
        .expect(200)
        .body;
    assert_eq!(body["reviews_overdue"], 1);

    // A caller limited to the other location sees none of the plan's actions.
    let mut limited = claims(&app.org, &[Role::Viewer], "user-limited");
    limited.locations = Some(vec![app.second_location.clone()]);
    let body = app
        .get(
            &sign(&limited),
            "/v1/insights/actions?from=2026-03-01&to=2026-04-30",
        )
        .await
        .expect(200)
        .body;
    assert_eq!(period(&body, "2026-03-01")["opened"], 0);
    assert_eq!(body["open_now"], 0);
    assert_eq!(count_of(&body["plans_by_status"], "draft"), 0);
    drop(draft);
}

async fn learning_event(app: &TestApp, kind: &str, at: &str, location: &str) {
    let mut body = json!({
        "kind": kind,
        "occurred_at": at,
        "title": "Meeting",
        "location_id": location,
        "participants": [{"role": "manager"}],
    });
    if kind == "governance_review" {
        body["went_well"] = json!("Falls down");
        body["did_not_go_well"] = json!("Call bells");
        body["to_change"] = json!("Second night carer");
        body["shared_via"] = json!(["team_meeting"]);
    }
    app.post(&app.manager, "/v1/learning-events", body)
        .await
        .expect(201);
}

#[actix_web::test]
async fn learning_per_month_and_the_governance_rhythm() {
    let app = TestApp::new().await;
    let (first, second) = (app.location.clone(), app.second_location.clone());
    // The first location has used careloop since 2025; the second joined in March.
    set(
        &app,
        "locations",
        &first,
        "created_at = '2025-01-01 00:00:00'",
    );
    set(
        &app,
        "locations",
        &second,
        "created_at = '2026-03-10 00:00:00'",
    );
    learning_event(&app, "governance_review", "2026-01-20T14:00:00Z", &first).await;
    learning_event(&app, "governance_review", "2026-03-20T14:00:00Z", &first).await;
    learning_event(&app, "governance_review", "2026-03-21T14:00:00Z", &second).await;
    learning_event(
        &app,
        "post_incident_debrief",
        "2026-02-03T10:00:00Z",
        &first,
    )
    .await;
    learning_event(&app, "lessons_shared", "2026-02-04T10:00:00Z", &second).await;

    let body = app
        .get(
            &app.viewer,
            "/v1/insights/learning?from=2026-01-01&to=2026-03-31",
        )
        .await
        .expect(200)
        .body;
    let february = period(&body, "2026-02-01");
    assert_eq!(february["events"], 2);
    assert_eq!(count_of(&february["by_kind"], "post_incident_debrief"), 1);
    assert_eq!(february["lessons_shared"], 1, "the lessons-shared event");
    assert_eq!(
        period(&body, "2026-03-01")["lessons_shared"],
        2,
        "shared at team meetings"
    );
    let rhythm = |location: &str| -> Vec<(String, i64, bool)> {
        body["governance_reviews"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["location_id"] == location)
            .unwrap()["months"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["month_start_on"].as_str().unwrap().to_owned(),
                    m["reviews"].as_i64().unwrap(),
                    m["missed"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        rhythm(&first),
        [
            ("2026-01-01".to_owned(), 1, false),
            ("2026-02-01".to_owned(), 0, true),
            ("2026-03-01".to_owned(), 1, false),
        ]
    );
    // Nothing was missed before the second location joined.
    assert_eq!(rhythm(&second).iter().filter(|m| m.2).count(), 0);
    // The organisation's own review (of no location) counts for each location, also when one
    // location is asked for.
    app.post(
        &app.manager,
        "/v1/learning-events",
        json!({"kind": "governance_review", "occurred_at": "2026-02-20T14:00:00Z",
               "title": "Organisation-wide", "participants": [{"role": "manager"}],
               "went_well": "a", "did_not_go_well": "b", "to_change": "c"}),
    )
    .await
    .expect(201);
    let at_first = app
        .get(
            &app.viewer,
            &format!("/v1/insights/learning?from=2026-01-01&to=2026-03-31&location_id={first}"),
        )
        .await
        .expect(200)
        .body;
    let months = &at_first["governance_reviews"][0]["months"];
    assert_eq!(months[1]["reviews"], 1, "{months}");
    assert_eq!(months[1]["missed"], false);
    let first_entry = body["governance_reviews"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["location_id"] == first.as_str())
        .unwrap();
    assert_eq!(first_entry["months_missed"], 1);
    // The month still running is not missed yet.
    let now = app
        .get(&app.viewer, "/v1/insights/learning")
        .await
        .expect(200)
        .body;
    let months = now["governance_reviews"][0]["months"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    assert_eq!(months[11]["missed"], false);
    assert_eq!(months[10]["missed"], true);
}

#[actix_web::test]
async fn metrics_against_their_targets_and_evidence_per_statement() {
    let app = TestApp::new().await;
    let evidence = |month: u32, metric: Value, statements: Value| {
        json!({
            "source": "audit",
            "evidence_category": "processes",
            "quality_statements": statements,
            "title": format!("Audit {month}"),
            "observed_at": format!("2026-{month:02}-10T10:00:00Z"),
            "location_id": app.location,
            "metric": metric,
        })
    };
    for (month, score) in [(1, 80.0), (2, 85.0), (3, 90.0), (4, 96.0)] {
        let metric =
            json!({"name": "medication_audit_score", "value": score, "unit": "%", "target": 95.0});
        app.post(
            &app.manager,
            "/v1/evidence",
            evidence(month, metric, json!(["safe.medicines_optimisation"])),
        )
        .await
        .expect(201);
    }
    for (month, falls) in [(1, 2.0), (2, 4.0), (3, 6.0)] {
        let metric =
            json!({"name": "falls", "value": falls, "target": 3.0, "direction": "at_most"});
        app.post(
            &app.manager,
            "/v1/evidence",
            evidence(month, metric, json!(["safe.safe_environments"])),
        )
        .await
        .expect(201);
    }
    let body = app
        .get(
            &app.viewer,
            "/v1/insights/evidence?from=2026-01-01&to=2026-04-30",
        )
        .await
        .expect(200)
        .body;
    assert_eq!(body["framework_id"], "cqc-saf-2024");
    let metrics = body["metrics"].as_array().unwrap();
    assert_eq!(metrics.len(), 2);
    let falls = &metrics[0];
    assert_eq!(falls["metric"], "falls");
    assert_eq!(
        falls["latest"],
        json!({"value": 6.0, "dated_on": "2026-03-10", "target": 3.0, "direction": "at_most", "on_target": false})
    );
    assert_eq!(falls["trend"], "rising");
    assert_eq!(falls["improving"], false, "more falls is worse");
    let audit = &metrics[1];
    assert_eq!(audit["latest"]["value"], 96.0);
    assert_eq!(audit["latest"]["on_target"], true);
    assert_eq!(audit["trend"], "rising");
    assert_eq!(audit["improving"], true);
    assert_eq!(audit["unit"], "%");
    assert_eq!(audit["periods"].as_array().unwrap().len(), 4);
    assert_eq!(
        audit["periods"][0],
        json!({"period_start_on": "2026-01-01", "count": 1, "mean": 80.0})
    );

    let statement = |id: &str| -> Value {
        body["statements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["quality_statement_id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(statement("safe.medicines_optimisation")["in_span"], 4);
    assert_eq!(statement("safe.safe_environments")["last_12_months"], 3);
    let gaps: Vec<&str> = body["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap())
        .collect();
    assert!(!gaps.contains(&"safe.medicines_optimisation"));
    assert!(gaps.contains(&"safe.safeguarding"));
    assert_eq!(gaps.len(), body["statements"].as_array().unwrap().len() - 2);

    // March only: the audit's span figures shrink; a limited caller of the other location sees
    // no metric at all.
    let march = app
        .get(
            &app.viewer,
            "/v1/insights/evidence?from=2026-03-01&to=2026-03-31",
        )
        .await
        .expect(200)
        .body;
    assert_eq!(march["metrics"][1]["latest"]["value"], 90.0);
    let mut limited = claims(&app.org, &[Role::Viewer], "user-limited");
    limited.locations = Some(vec![app.second_location.clone()]);
    let other = app
        .get(
            &sign(&limited),
            "/v1/insights/evidence?from=2026-01-01&to=2026-04-30",
        )
        .await
        .expect(200)
        .body;
    assert_eq!(other["metrics"], json!([]));
    assert_eq!(
        other["gaps"].as_array().unwrap().len(),
        body["statements"].as_array().unwrap().len()
    );
}
