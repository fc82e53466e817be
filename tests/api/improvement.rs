//! Improvement plans: their life, actions, effectiveness checks, reviews and what is due.

use careloop::auth::Role;
use chrono::{Duration, Months, NaiveDate, Utc};
use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

use crate::helpers::{claims, nothing_id, sign, TestApp};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

pub async fn new_plan(app: &TestApp, extra: Value) -> String {
    let mut body = json!({
        "title": "Answer call bells at night within 5 minutes",
        "objective": "Every call bell on nights answered within 5 minutes by March.",
        "location_id": app.location,
        "owner": {"sub": "user-manager", "name": "Alex Manager"},
        "priority": "medium",
        "review_cadence": "monthly",
        "quality_statements": ["safe.safe_and_effective_staffing"]
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    app.post(&app.manager, "/v1/improvement-plans", body)
        .await
        .expect(201)
        .id()
}

pub async fn move_plan(app: &TestApp, id: &str, body: Value) -> crate::helpers::Response {
    app.post(
        &app.manager,
        &format!("/v1/improvement-plans/{id}/transitions"),
        body,
    )
    .await
}

pub async fn new_action(app: &TestApp, plan: &str, owner: &str) -> String {
    app.post(
        &app.manager,
        &format!("/v1/improvement-plans/{plan}/actions"),
        json!({"description": "Add a second carer to the night rota", "owner": {"sub": owner},
               "due_on": (today() + Duration::days(10)).to_string()}),
    )
    .await
    .expect(201)
    .id()
}

pub async fn move_action(
    app: &TestApp,
    token: &str,
    plan: &str,
    action: &str,
    body: Value,
) -> crate::helpers::Response {
    app.post(
        token,
        &format!("/v1/improvement-plans/{plan}/actions/{action}/transitions"),
        body,
    )
    .await
}

#[actix_web::test]
async fn a_plan_lives_from_draft_to_completion() {
    let app = TestApp::new().await;
    let concern = app.raise(&app.staff, json!({})).await;
    let id = new_plan(
        &app,
        json!({"sources": [{"kind": "concern", "id": concern}], "co_produced": true,
                                   "involved": [{"role": "relative"}]}),
    )
    .await;
    let path = format!("/v1/improvement-plans/{id}");
    let draft = app.get(&app.viewer, &path).await.expect(200);
    assert_eq!(draft.body["status"], "draft");
    assert_eq!(draft.body["next_review_due_on"], json!(null));
    assert_eq!(
        draft.body["sources"],
        json!([{"kind": "concern", "id": concern}])
    );
    assert_eq!(draft.body["co_produced"], true);
    assert_eq!(
        draft.body["involved"],
        json!([{"role": "relative", "name": null, "agreed_to_be_named": false}])
    );

    let illegal = move_plan(&app, &id, json!({"to": "completed"}))
        .await
        .expect_problem(409, "illegal_transition");
    assert_eq!(illegal.body["allowed"], json!(["active", "archived"]));
    let active = move_plan(&app, &id, json!({"to": "active"}))
        .await
        .expect(200);
    assert!(active.body["activated_at"]
        .as_str()
        .unwrap()
        .starts_with(&today().to_string()));
    let due = today().checked_add_months(Months::new(1)).unwrap();
    assert_eq!(active.body["next_review_due_on"], due.to_string());
    assert_eq!(active.body["review_overdue"], false);

    let action = new_action(&app, &id, "user-staff").await;
    let blocked = move_plan(&app, &id, json!({"to": "completed"}))
        .await
        .expect_problem(409, "open_actions");
    assert_eq!(
        blocked.body["detail"],
        format!("the plan cannot complete while these actions are open: {action}")
    );
    assert_eq!(blocked.body["open_action_ids"], json!([action]));
    move_action(&app, &app.staff, &id, &action, json!({"to": "in_progress"}))
        .await
        .expect(200);
    move_action(&app, &app.staff, &id, &action, json!({"to": "done"}))
        .await
        .expect_problem(422, "validation_failed");
    let done = move_action(
        &app,
        &app.staff,
        &id,
        &action,
        json!({"to": "done", "completion_note": "Rota changed"}),
    )
    .await
    .expect(200);
    assert!(done.body["completed_at"].is_string());

    let completed = move_plan(&app, &id, json!({"to": "completed", "celebrate": true}))
        .await
        .expect(200);
    assert_eq!(completed.body["status"], "completed");
    assert_eq!(completed.body["next_review_due_on"], json!(null));
    assert!(completed.body["completed_at"].is_string());
    assert_eq!(completed.body["actions"][0]["status"], "done");
    let recognitions = app
        .get(&app.viewer, "/v1/recognitions?kind=improvement_milestone")
        .await
        .expect(200);
    let milestone = &recognitions.body["items"][0];
    assert_eq!(
        milestone["title"],
        "Improvement plan completed: Answer call bells at night within 5 minutes"
    );
    assert_eq!(milestone["recipients"], json!(["Alex Manager"]));
    assert_eq!(
        milestone["linked_records"],
        json!([{"kind": "improvement_plan", "id": id}])
    );

    // A completed plan's actions stay settled until it is reopened.
    move_action(
        &app,
        &app.manager,
        &id,
        &action,
        json!({"to": "in_progress"}),
    )
    .await
    .expect_problem(409, "plan_closed");
    let reopened = move_plan(&app, &id, json!({"to": "active"}))
        .await
        .expect(200);
    assert_eq!(reopened.body["completed_at"], json!(null));
    move_plan(&app, &id, json!({"to": "archived"}))
        .await
        .expect(200);
    let after = move_plan(&app, &id, json!({"to": "active"}))
        .await
        .expect_problem(409, "illegal_transition");
    assert_eq!(after.body["allowed"], json!([]));
    // Archived plans take no new actions.
    app.post(
        &app.manager,
        &format!("{path}/actions"),
        json!({"description": "x", "owner": {"sub": "a"}}),
    )
    .await
    .expect_problem(409, "plan_closed");
}

#[actix_web::test]
async fn plans_are_validated_and_bad_ones_not_stored() {
    let app = TestApp::new().await;
    let post = |extra: Value| {
        let app = &app;
        async move {
            let mut body = json!({"title": "t", "objective": "o", "owner": {"sub": "m"}, "priority": "low",
                                  "review_cadence": "quarterly", "location_id": app.location});
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            app.post(&app.manager, "/v1/improvement-plans", body).await
        }
    };
    post(json!({"sources": [{"kind": "concern", "id": nothing_id()}]}))
        .await
        .expect_problem(422, "validation_failed");
    post(json!({"quality_statements": ["nope"]}))
        .await
        .expect_problem(422, "validation_failed");
    post(json!({"owner": {"sub": " "}}))
        .await
        .expect_problem(422, "validation_failed");
    post(json!({"objective": ""}))
        .await
        .expect_problem(422, "validation_failed");
    post(json!({"review_cadence": "weekly"}))
        .await
        .expect_problem(422, "validation_failed");
    post(json!({"priority": "whenever"}))
        .await
        .expect_problem(422, "validation_failed");
    post(json!({"status": "active"}))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(app.count("improvement_plans"), 0);
    post(json!({"external_ref": {"system": "qms", "id": "P-1"}}))
        .await
        .expect(201);
    post(json!({"external_ref": {"system": "qms", "id": "P-1"}}))
        .await
        .expect_problem(409, "duplicate_external_ref");
}

#[actix_web::test]
async fn reviews_move_the_cycle_and_refresh_priorities() {
    let app = TestApp::new().await;
    let id = new_plan(&app, json!({})).await;
    let reviews = format!("/v1/improvement-plans/{id}/reviews");
    app.post(
        &app.manager,
        &reviews,
        json!({"reviewed_on": today().to_string(), "progress": "green"}),
    )
    .await
    .expect_problem(409, "plan_not_reviewable");
    move_plan(&app, &id, json!({"to": "active"}))
        .await
        .expect(200);
    // Reviewed on 31 January: the next monthly review is due at the end of February.
    let review = app
        .post(&app.manager, &reviews,
              json!({"reviewed_on": "2026-01-31", "progress": "amber", "notes": "Rota changed", "priority_to": "high"}))
        .await
        .expect(201);
    assert_eq!(review.body["priority_from"], "medium");
    assert_eq!(review.body["priority_to"], "high");
    let plan = app
        .get(&app.viewer, &format!("/v1/improvement-plans/{id}"))
        .await
        .expect(200);
    assert_eq!(plan.body["last_reviewed_on"], "2026-01-31");
    assert_eq!(plan.body["next_review_due_on"], "2026-02-28");
    assert_eq!(plan.body["review_overdue"], true);
    assert_eq!(plan.body["priority"], "high");
    assert_eq!(plan.body["latest_review"]["progress"], "amber");
    // Quarterly from the last review (31 January) is the end of April.
    app.patch(
        &app.manager,
        &format!("/v1/improvement-plans/{id}"),
        json!({"review_cadence": "quarterly"}),
    )
    .await
    .expect(200);
    app.post(
        &app.manager,
        &reviews,
        json!({"reviewed_on": "2025-11-30", "progress": "red"}),
    )
    .await
    .expect(201);
    let plan = app
        .get(&app.viewer, &format!("/v1/improvement-plans/{id}"))
        .await
        .expect(200);
    // A back-dated review does not move the cycle back.
    assert_eq!(plan.body["last_reviewed_on"], "2026-01-31");
    assert_eq!(plan.body["next_review_due_on"], "2026-04-30");
    assert_eq!(plan.body["latest_review"]["progress"], "amber");
    let listed = app.get(&app.viewer, &reviews).await.expect(200);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 2);

    app.post(
        &app.manager,
        &reviews,
        json!({"reviewed_on": "2999-01-01", "progress": "green"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &app.manager,
        &reviews,
        json!({"reviewed_on": "2026-01-01", "progress": "blue"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &app.staff,
        &reviews,
        json!({"reviewed_on": "2026-01-01", "progress": "green"}),
    )
    .await
    .expect_problem(403, "forbidden");
}

#[actix_web::test]
async fn the_governance_meeting_sees_what_is_due() {
    let app = TestApp::new().await;
    let overdue = new_plan(&app, json!({"title": "Overdue"})).await;
    let soon = new_plan(&app, json!({"title": "Soon"})).await;
    let later = new_plan(
        &app,
        json!({"title": "Later", "review_cadence": "quarterly"}),
    )
    .await;
    let draft = new_plan(&app, json!({"title": "Draft"})).await;
    for id in [&overdue, &soon, &later] {
        move_plan(&app, id, json!({"to": "active"}))
            .await
            .expect(200);
    }
    let reviewed = |days: i64| json!({"reviewed_on": (today() - Duration::days(days)).to_string(), "progress": "green"});
    app.post(
        &app.manager,
        &format!("/v1/improvement-plans/{overdue}/reviews"),
        reviewed(45),
    )
    .await
    .expect(201);
    app.post(
        &app.manager,
        &format!("/v1/improvement-plans/{soon}/reviews"),
        reviewed(25),
    )
    .await
    .expect(201);

    let due = app.get(&app.viewer, "/v1/reviews/due").await.expect(200);
    let titles: Vec<_> = due.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].clone())
        .collect();
    assert_eq!(titles, vec![json!("Overdue"), json!("Soon")]);
    assert_eq!(due.body["items"][0]["review_overdue"], true);
    assert_eq!(due.body["items"][1]["review_overdue"], false);
    let wide = app
        .get(&app.viewer, "/v1/reviews/due?within_days=120")
        .await
        .expect(200);
    assert_eq!(wide.body["items"].as_array().unwrap().len(), 3);
    let elsewhere = app
        .get(
            &app.viewer,
            &format!(
                "/v1/reviews/due?within_days=120&location_id={}",
                app.second_location
            ),
        )
        .await
        .expect(200);
    assert_eq!(elsewhere.body["items"], json!([]));
    app.get(&app.viewer, "/v1/reviews/due?within_days=400")
        .await
        .expect_problem(422, "validation_failed");

    let listed = app
        .get(
            &app.viewer,
            &format!("/v1/improvement-plans?review_due_to={}", today()),
        )
        .await
        .expect(200);
    let ids: Vec<_> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(overdue)]);
    let drafts = app
        .get(&app.viewer, "/v1/improvement-plans?status=draft")
        .await
        .expect(200);
    assert_eq!(drafts.body["items"][0]["id"], json!(draft));
    let statement = app
        .get(&app.viewer, "/v1/improvement-plans?quality_statement_id=safe.safe_and_effective_staffing&owner=user-manager")
        .await
        .expect(200);
    assert_eq!(statement.body["items"].as_array().unwrap().len(), 4);
}

#[actix_web::test]
async fn staff_move_their_own_actions_only() {
    let app = TestApp::new().await;
    let plan = new_plan(&app, json!({})).await;
    move_plan(&app, &plan, json!({"to": "active"}))
        .await
        .expect(200);
    let mine = new_action(&app, &plan, "user-staff").await;
    let theirs = new_action(&app, &plan, "someone-else").await;
    move_action(
        &app,
        &app.staff,
        &plan,
        &theirs,
        json!({"to": "in_progress"}),
    )
    .await
    .expect_problem(403, "forbidden");
    move_action(&app, &app.staff, &plan, &mine, json!({"to": "in_progress"}))
        .await
        .expect(200);
    move_action(
        &app,
        &app.manager,
        &plan,
        &theirs,
        json!({"to": "cancelled"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let cancelled = move_action(
        &app,
        &app.manager,
        &plan,
        &theirs,
        json!({"to": "cancelled", "cancel_reason": "Covered by the rota change"}),
    )
    .await
    .expect(200);
    assert_eq!(
        cancelled.body["cancel_reason"],
        "Covered by the rota change"
    );
    move_action(
        &app,
        &app.manager,
        &plan,
        &theirs,
        json!({"to": "in_progress"}),
    )
    .await
    .expect_problem(409, "illegal_transition");
    move_action(
        &app,
        &app.viewer,
        &plan,
        &mine,
        json!({"to": "done", "completion_note": "x"}),
    )
    .await
    .expect_problem(403, "forbidden");

    // A staff member's phone: their open actions, due soon.
    let other = new_action(&app, &plan, "user-staff").await;
    let due_to = (today() + Duration::days(10)).to_string();
    let phone = app
        .get(
            &app.staff,
            &format!("/v1/actions?owner=me&status=open&due_to={due_to}"),
        )
        .await
        .expect(200);
    let ids: Vec<_> = phone.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(other)]);
    let none_due = app
        .get(
            &app.staff,
            &format!(
                "/v1/actions?owner=me&due_to={}",
                today() - Duration::days(1)
            ),
        )
        .await
        .expect(200);
    assert_eq!(none_due.body["items"], json!([]));
    let colleague = sign(&claims(&app.org, &[Role::Staff], "another-carer"));
    let theirs_list = app
        .get(&colleague, "/v1/actions?owner=me")
        .await
        .expect(200);
    assert_eq!(theirs_list.body["items"], json!([]));
}

#[actix_web::test]
async fn an_ineffective_change_reopens_the_question() {
    let app = TestApp::new().await;
    let plan = new_plan(&app, json!({})).await;
    move_plan(&app, &plan, json!({"to": "active"}))
        .await
        .expect(200);
    let action = new_action(&app, &plan, "user-manager").await;
    let path = format!("/v1/improvement-plans/{plan}/actions/{action}");
    let not_done = app
        .patch(
            &app.manager,
            &path,
            json!({"effectiveness": "effective", "checked_on": today().to_string()}),
        )
        .await
        .expect_problem(409, "conflicts_with_record");
    assert_eq!(not_done.body["errors"][0]["field"], "effectiveness");
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
    app.patch(&app.manager, &path, json!({"effectiveness": "effective"}))
        .await
        .expect_problem(409, "conflicts_with_record");
    app.patch(
        &app.manager,
        &path,
        json!({"effectiveness": "effective", "checked_on": today().to_string(),
                                          "check_evidence": [{"kind": "evidence", "id": nothing_id()}]}),
    )
    .await
    .expect_problem(422, "validation_failed");
    move_plan(&app, &plan, json!({"to": "completed"}))
        .await
        .expect(200);

    let evidence = app
        .post(&app.manager, "/v1/evidence",
              json!({"source": "audit", "evidence_category": "processes", "quality_statements": ["safe.learning_culture"],
                     "title": "Call-bell audit", "observed_at": Utc::now().to_rfc3339(), "location_id": app.location,
                     "metric": {"name": "call_bell_minutes", "value": 9.0, "target": 5.0, "direction": "at_most"}}))
        .await
        .expect(201)
        .id();
    let checked = app
        .patch(
            &app.manager,
            &path,
            json!({"effectiveness": "not_effective", "checked_on": today().to_string(),
                                           "check_evidence": [{"kind": "evidence", "id": evidence}]}),
        )
        .await
        .expect(200);
    assert_eq!(checked.body["effectiveness"], "not_effective");
    assert_eq!(
        checked.body["check_evidence"],
        json!([{"kind": "evidence", "id": evidence}])
    );
    let audit = app
        .get(
            &app.admin,
            &format!("/v1/audit-events?resource_type=action&resource_id={action}"),
        )
        .await
        .expect(200);
    let last = audit.body["items"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last["changed_fields"],
        json!(["effectiveness", "checked_on", "check_evidence"])
    );
    assert_eq!(last["detail"], json!({"reopened_plan": plan}));
    let reopened = app
        .get(&app.manager, &format!("/v1/improvement-plans/{plan}"))
        .await
        .expect(200);
    assert_eq!(reopened.body["status"], "active");
    assert_eq!(reopened.body["ineffective_action_ids"], json!([action]));
    assert!(reopened.body["next_review_due_on"].is_string());
    // Reopening the action makes the old check stale.
    let again = move_action(
        &app,
        &app.manager,
        &plan,
        &action,
        json!({"to": "in_progress"}),
    )
    .await
    .expect(200);
    assert_eq!(again.body["effectiveness"], "not_checked");
    assert_eq!(again.body["checked_on"], json!(null));
    assert_eq!(again.body["completed_at"], json!(null));
    // The celebration when it was done stays on record.
    let milestones = app
        .get(&app.viewer, "/v1/recognitions?kind=improvement_milestone")
        .await
        .expect(200);
    assert_eq!(
        milestones.body["items"][0]["linked_records"],
        json!([{"kind": "action", "id": action}])
    );
}

/// A completed plan is a manager's sign-off: an integration's check that an action did not
/// work shows on the plan, and a manager decides whether to reopen it.
#[actix_web::test]
async fn an_integrations_ineffective_check_leaves_a_completed_plan_to_a_manager() {
    let app = TestApp::new().await;
    let plan = new_plan(&app, json!({})).await;
    move_plan(&app, &plan, json!({"to": "active"}))
        .await
        .expect(200);
    let action = new_action(&app, &plan, "user-manager").await;
    for step in [
        json!({"to": "in_progress"}),
        json!({"to": "done", "completion_note": "Rota changed"}),
    ] {
        move_action(&app, &app.manager, &plan, &action, step)
            .await
            .expect(200);
    }
    move_plan(&app, &plan, json!({"to": "completed"}))
        .await
        .expect(200);
    app.patch(
        &app.integration,
        &format!("/v1/improvement-plans/{plan}/actions/{action}"),
        json!({"effectiveness": "not_effective", "checked_on": today().to_string()}),
    )
    .await
    .expect(200);
    let read = app
        .get(&app.manager, &format!("/v1/improvement-plans/{plan}"))
        .await
        .expect(200);
    assert_eq!(read.body["status"], "completed");
    assert_eq!(read.body["ineffective_action_ids"], json!([action]));
    let audit = app
        .get(
            &app.admin,
            &format!("/v1/audit-events?resource_type=action&resource_id={action}"),
        )
        .await
        .expect(200);
    let last = audit.body["items"].as_array().unwrap().last().unwrap();
    assert_eq!(last["detail"], json!(null));
    // The manager reads it and reopens the plan.
    let reopened = move_plan(&app, &plan, json!({"to": "active"}))
        .await
        .expect(200);
    assert_eq!(reopened.body["ineffective_action_ids"], json!([action]));
}

#[actix_web::test]
async fn a_failed_completion_celebrates_nothing() {
    let app = TestApp::new().await;
    let plan = new_plan(&app, json!({})).await;
    move_plan(&app, &plan, json!({"to": "active"}))
        .await
        .expect(200);
    let action = new_action(&app, &plan, "user-manager").await;
    move_plan(&app, &plan, json!({"to": "completed", "celebrate": true}))
        .await
        .expect(409);
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
        json!({"to": "done", "celebrate": true}),
    )
    .await
    .expect(422);
    assert_eq!(app.count("recognitions"), 0);
    // And a retried completion celebrates once.
    move_action(
        &app,
        &app.manager,
        &plan,
        &action,
        json!({"to": "done", "completion_note": "n"}),
    )
    .await
    .expect(200);
    let transitions = format!("/v1/improvement-plans/{plan}/transitions");
    let complete = || {
        app.post_keyed(
            &app.manager,
            &transitions,
            "complete-once",
            json!({"to": "completed", "celebrate": true}),
        )
    };
    complete().await.expect(200);
    let replay = complete().await.expect(200);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(app.count("recognitions"), 1);
}

#[actix_web::test]
async fn overdue_actions_are_flagged() {
    let app = TestApp::new().await;
    let plan = new_plan(&app, json!({})).await;
    let action = new_action(&app, &plan, "user-staff").await;
    app.with_conn(|conn| {
        conn.batch_execute(&format!(
            "UPDATE plan_actions SET due_on = '2020-01-01' WHERE id = '{action}'"
        ))
        .unwrap()
    });
    let read = app
        .get(
            &app.staff,
            &format!("/v1/improvement-plans/{plan}/actions/{action}"),
        )
        .await
        .expect(200);
    assert_eq!(read.body["overdue"], true);
    let listed = app
        .get(&app.staff, &format!("/v1/improvement-plans/{plan}/actions"))
        .await
        .expect(200);
    assert_eq!(listed.body["items"][0]["overdue"], true);
}
