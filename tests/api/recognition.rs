//! Recognition, the highlights feed, and the trail that closes the loop.

use careloop::auth::Role;
use chrono::{Duration, Utc};
use serde_json::json;

use crate::helpers::{claims, nothing_id, sign, TestApp};
use crate::improvement::{move_action, move_plan, new_action, new_plan};

#[actix_web::test]
async fn recognitions_are_recorded_and_read() {
    let app = TestApp::new().await;
    let plan = new_plan(&app, json!({})).await;
    let created = app
        .post(&app.staff, "/v1/recognitions",
              json!({"kind": "thanks", "title": "Thank you, night team", "message": "For covering Sunday",
                     "recipients": ["Night team", " Sam "], "from": "staff", "location_id": app.location,
                     "occurred_on": Utc::now().date_naive().to_string(),
                     "linked_records": [{"kind": "improvement_plan", "id": plan},
                                        {"kind": "improvement_plan", "id": plan}]}))
        .await
        .expect(201);
    let id = created.id();
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/recognitions/{id}").as_str())
    );
    assert_eq!(created.body["recipients"], json!(["Night team", "Sam"]));
    assert_eq!(created.body["from"], "staff");
    // A record named twice is linked once.
    assert_eq!(
        created.body["linked_records"],
        json!([{"kind": "improvement_plan", "id": plan}])
    );
    let read = app
        .get(&app.viewer, &format!("/v1/recognitions/{id}"))
        .await
        .expect(200);
    assert_eq!(read.body, created.body);
    let listed = app
        .get(&app.viewer, "/v1/recognitions?kind=thanks")
        .await
        .expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);

    let valid = json!({"kind": "compliment", "title": "t", "recipients": ["x"], "from": "relative",
                       "occurred_on": "2026-01-01", "location_id": app.location});
    let with = |field: &str, value: serde_json::Value| {
        let mut body = valid.clone();
        body[field] = value;
        body
    };
    app.post(&app.viewer, "/v1/recognitions", valid.clone())
        .await
        .expect_problem(403, "forbidden");
    app.post(
        &app.staff,
        "/v1/recognitions",
        with("recipients", json!([])),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &app.staff,
        "/v1/recognitions",
        with("occurred_on", json!("2999-01-01")),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(&app.staff, "/v1/recognitions", with("from", json!("cat")))
        .await
        .expect_problem(422, "validation_failed");
    app.post(
        &app.staff,
        "/v1/recognitions",
        with(
            "linked_records",
            json!([{"kind": "concern", "id": nothing_id()}]),
        ),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &app.staff,
        "/v1/recognitions",
        with("linked_records", json!([{"kind": "recognition", "id": id}])),
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_eq!(app.count("recognitions"), 1);
}

#[actix_web::test]
async fn highlights_share_what_went_well_and_nothing_confidential() {
    let app = TestApp::new().await;
    let now = Utc::now();
    // A resolved concern: its outcome is shared, without its title or raiser.
    let open_concern = app
        .raise(
            &app.staff,
            json!({"title": "Sam's private worry about Room 4", "category": "medication"}),
        )
        .await;
    let confidential = app
        .raise(
            &app.staff,
            json!({"title": "Whistle", "category": "whistleblowing"}),
        )
        .await;
    let anonymous = app
        .raise(
            &app.staff,
            json!({"title": "Anonymous worry", "category": "culture", "anonymous": true}),
        )
        .await;
    for (id, outcome) in [
        (&open_concern, "Medication round times changed"),
        (&confidential, "Secret outcome"),
        (&anonymous, "Culture outcome"),
    ] {
        app.move_to(id, json!({"to": "acknowledged"})).await;
        app.move_to(id, json!({"to": "investigating"})).await;
        app.move_to(id, json!({"to": "resolved", "outcome": outcome}))
            .await;
    }
    app.post(&app.manager, "/v1/learning-events",
             json!({"kind": "lessons_shared", "occurred_at": now.to_rfc3339(), "title": "Handover lessons",
                    "location_id": app.location, "lessons": ["Read the MAR at handover", "Two signatures"]}))
        .await
        .expect(201);
    let plan = new_plan(&app, json!({})).await;
    move_plan(&app, &plan, json!({"to": "active"}))
        .await
        .expect(200);
    let action = new_action(&app, &plan, "user-manager").await;
    move_action(
        &app,
        &app.manager,
        &plan,
        &action,
        json!({"to": "in_progress"}),
    )
    .await
    .expect(200);
    move_action(
        &app,
        &app.manager,
        &plan,
        &action,
        json!({"to": "done", "completion_note": "Rota changed", "celebrate": true}),
    )
    .await
    .expect(200);
    move_plan(&app, &plan, json!({"to": "completed"}))
        .await
        .expect(200);

    let feed = app.get(&app.viewer, "/v1/highlights").await.expect(200);
    let items = feed.body["items"].as_array().unwrap();
    let kinds: Vec<_> = items
        .iter()
        .map(|h| h["kind"].as_str().unwrap().to_owned())
        .collect();
    for kind in [
        "recognition",
        "action_completed",
        "plan_completed",
        "lessons",
        "you_said_we_did",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} missing from {kinds:?}"
        );
    }
    let text = feed.body.to_string();
    assert!(text.contains("Medication round times changed"));
    assert!(text.contains("Culture outcome"));
    assert!(
        !text.contains("Secret outcome"),
        "a confidential concern reached the highlights"
    );
    assert!(
        !text.contains("Sam's private worry")
            && !text.contains("Anonymous worry")
            && !text.contains("user-staff")
    );
    assert!(text.contains("Read the MAR at handover; Two signatures"));
    // Newest first.
    let times: Vec<_> = items
        .iter()
        .map(|h| {
            h["occurred_at"]
                .as_str()
                .unwrap()
                .parse::<chrono::DateTime<Utc>>()
                .unwrap()
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    // Paged one at a time, the feed is the same list, each highlight once.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let ask = match &cursor {
            Some(cursor) => format!("/v1/highlights?limit=1&cursor={cursor}"),
            None => "/v1/highlights?limit=1".to_owned(),
        };
        let page = app.get(&app.viewer, &ask).await.expect(200);
        paged.extend(page.body["items"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(&paged, items);
    // A cursor is for the query it came with.
    let first = app
        .get(&app.viewer, "/v1/highlights?limit=1")
        .await
        .expect(200);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let refused = app
        .get(
            &app.viewer,
            &format!(
                "/v1/highlights?limit=1&cursor={cursor}&location_id={}",
                app.location
            ),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(refused.body["errors"][0]["field"], "cursor");

    let later = (now + Duration::days(2)).to_rfc3339().replace('+', "%2B");
    let nothing = app
        .get(&app.viewer, &format!("/v1/highlights?from={later}"))
        .await
        .expect(200);
    assert_eq!(nothing.body["items"], json!([]));
    let elsewhere = app
        .get(
            &app.viewer,
            &format!("/v1/highlights?location_id={}", app.second_location),
        )
        .await
        .expect(200);
    assert_eq!(elsewhere.body["items"], json!([]));
}

#[actix_web::test]
async fn the_trail_follows_a_concern_round_the_loop() {
    let app = TestApp::new().await;
    let concern = app.raise(&app.staff, json!({})).await;
    let learning = app
        .post(&app.manager, "/v1/learning-events",
              json!({"kind": "after_action_review", "occurred_at": Utc::now().to_rfc3339(), "title": "Night review",
                     "location_id": app.location, "linked_records": [{"kind": "concern", "id": concern}]}))
        .await
        .expect(201)
        .id();
    let plan = new_plan(
        &app,
        json!({"title": "Night staffing plan", "sources": [{"kind": "learning_event", "id": learning}]}),
    )
    .await;
    move_plan(&app, &plan, json!({"to": "active"}))
        .await
        .expect(200);
    let action = new_action(&app, &plan, "user-manager").await;
    move_action(
        &app,
        &app.manager,
        &plan,
        &action,
        json!({"to": "in_progress"}),
    )
    .await
    .expect(200);
    move_action(
        &app,
        &app.manager,
        &plan,
        &action,
        json!({"to": "done", "completion_note": "Done", "celebrate": true}),
    )
    .await
    .expect(200);
    let evidence = app
        .post(&app.manager, "/v1/evidence",
              json!({"source": "audit", "evidence_category": "processes", "quality_statements": ["safe.learning_culture"],
                     "title": "Call-bell audit after the change", "observed_at": Utc::now().to_rfc3339(),
                     "location_id": app.location}))
        .await
        .expect(201)
        .id();
    app.patch(
        &app.manager,
        &format!("/v1/improvement-plans/{plan}/actions/{action}"),
        json!({"effectiveness": "effective", "checked_on": Utc::now().date_naive().to_string(),
                     "check_evidence": [{"kind": "evidence", "id": evidence}]}),
    )
    .await
    .expect(200);

    let trail = app
        .get(&app.manager, &format!("/v1/concerns/{concern}/trail"))
        .await
        .expect(200);
    assert_eq!(trail.body["truncated"], false);
    assert_eq!(
        trail.body["record"],
        json!({"kind": "concern", "id": concern})
    );
    let steps: Vec<_> = trail.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_owned(),
                i["depth"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("learning_event", 1),
        ("improvement_plan", 2),
        ("action", 3),
        ("evidence", 4),
        ("recognition", 4),
    ];
    for (kind, depth) in expected {
        assert!(
            steps.contains(&(kind.to_owned(), depth)),
            "{kind} at {depth} missing from {steps:?}"
        );
    }
    let plan_entry = trail.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "improvement_plan")
        .unwrap();
    assert_eq!(plan_entry["title"], "Night staffing plan");
    assert_eq!(plan_entry["status"], "active");
    assert_eq!(
        plan_entry["via"],
        json!({"kind": "learning_event", "id": learning})
    );

    // From the other end, back to the concern.
    for path in [
        format!("/v1/evidence/{evidence}/trail"),
        format!("/v1/improvement-plans/{plan}/trail"),
        format!("/v1/learning-events/{learning}/trail"),
    ] {
        let back = app.get(&app.viewer, &path).await.expect(200);
        assert!(
            back.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["id"] == json!(concern)),
            "{path}"
        );
    }
    app.get(&app.other_admin, &format!("/v1/concerns/{concern}/trail"))
        .await
        .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn the_trail_hides_what_the_caller_may_not_see() {
    let app = TestApp::new().await;
    let secret = app
        .raise(&app.manager, json!({"category": "safeguarding"}))
        .await;
    let learning = app
        .post(&app.manager, "/v1/learning-events",
              json!({"kind": "post_incident_debrief", "occurred_at": Utc::now().to_rfc3339(), "title": "Debrief",
                     "location_id": app.location, "linked_records": [{"kind": "concern", "id": secret}]}))
        .await
        .expect(201)
        .id();
    app.get(&app.viewer, &format!("/v1/concerns/{secret}/trail"))
        .await
        .expect_problem(404, "not_found");
    let from_learning = app
        .get(
            &app.viewer,
            &format!("/v1/learning-events/{learning}/trail"),
        )
        .await
        .expect(200);
    assert_eq!(from_learning.body["items"], json!([]));
    let manager_view = app
        .get(
            &app.manager,
            &format!("/v1/learning-events/{learning}/trail"),
        )
        .await
        .expect(200);
    assert_eq!(manager_view.body["items"][0]["id"], json!(secret));
    let staff = sign(&claims(&app.org, &[Role::Staff], "someone"));
    let staff_view = app
        .get(&staff, &format!("/v1/learning-events/{learning}/trail"))
        .await
        .expect(200);
    assert_eq!(staff_view.body["items"], json!([]));
}

#[actix_web::test]
async fn a_wide_trail_stops_at_its_bound() {
    let app = TestApp::new().await;
    let plan = new_plan(&app, json!({})).await;
    move_plan(&app, &plan, json!({"to": "active"}))
        .await
        .expect(200);
    for _ in 0..501 {
        new_action(&app, &plan, "user-manager").await;
    }
    let trail = app
        .get(&app.manager, &format!("/v1/improvement-plans/{plan}/trail"))
        .await
        .expect(200);
    let items = trail.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 500);
    assert_eq!(trail.body["truncated"], true);
    let ids: std::collections::HashSet<_> = items.iter().map(|i| i["id"].clone()).collect();
    assert_eq!(ids.len(), 500);
    assert!(items
        .iter()
        .all(|i| i["kind"] == "action" && i["depth"] == 1 && i["via"]["id"] == json!(plan)));
}

/// The feed pages by each highlight's own moment, not by when its record was created: a lesson
/// recorded late about an older event comes after a newer one, on the next page, not lost.
#[actix_web::test]
async fn highlights_page_by_their_moment_not_their_creation() {
    let app = TestApp::new().await;
    let lesson = |title: &'static str, days_ago: i64| {
        let app = &app;
        async move {
            app.post(
                &app.manager,
                "/v1/learning-events",
                json!({"kind": "supervision", "title": title, "lessons": [title],
                       "occurred_at": (Utc::now() - Duration::days(days_ago)).to_rfc3339(),
                       "location_id": app.location}),
            )
            .await
            .expect(201)
            .id()
        }
    };
    // Recorded newest moment first, so ids run against the feed's order.
    let recent = lesson("Recent", 1).await;
    let older = lesson("Older, recorded later", 10).await;
    let oldest = lesson("Oldest, recorded last", 20).await;
    let mut paged = Vec::new();
    let mut ask = "/v1/highlights?limit=1".to_owned();
    loop {
        let page = app.get(&app.viewer, &ask).await.expect(200);
        paged.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["record"]["id"].as_str().unwrap().to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(cursor) => ask = format!("/v1/highlights?limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(paged, [recent, older, oldest]);
}
