//! `If-Match` by strong comparison (RFC 9110), and what racing writers get: one create per
//! `external_ref`, one piece of work per `Idempotency-Key`, one score per statement version, and
//! a plan that never completes beside an action added at the same moment.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::helpers::{Response, TestApp};
use crate::improvement::{move_plan, new_plan};

async fn rename(app: &TestApp, id: &str, if_match: &str, name: &str) -> Response {
    app.send(
        TestRequest::patch()
            .uri(&format!("/v1/locations/{id}"))
            .insert_header(("Authorization", format!("Bearer {}", app.admin)))
            .insert_header(("If-Match", if_match))
            .set_json(json!({ "name": name })),
    )
    .await
}

#[actix_web::test]
async fn if_match_compares_strongly_and_refuses_garbage() {
    let app = TestApp::new().await;
    let id = app.location.clone();
    // A weak tag never matches, even of the current version.
    rename(&app, &id, "W/\"1\"", "Weak")
        .await
        .expect_problem(412, "precondition_failed");
    // A list matches if any tag does.
    let renamed = rename(&app, &id, "\"7\", \"1\"", "Listed")
        .await
        .expect(200);
    assert_eq!(renamed.body["version"], 2);
    assert_eq!(renamed.header("etag"), Some("\"2\""));
    rename(&app, &id, "*", "Any").await.expect(200);
    for garbage in ["3", "\"3", "W/3", "\"3\" \"4\""] {
        let refused = rename(&app, &id, garbage, "Garbage")
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(refused.body["errors"][0]["field"], "If-Match");
    }
    let read = app
        .get(&app.admin, &format!("/v1/locations/{id}"))
        .await
        .expect(200);
    assert_eq!(read.body["name"], "Any");
    assert_eq!(read.body["version"], 3);
}

#[actix_web::test]
async fn two_creates_racing_for_one_external_ref_give_one_201_and_one_409() {
    let app = TestApp::new().await;
    for round in 0..5 {
        let body = |title: &str| {
            json!({
                "title": title, "description": "Raised by the vendor's system",
                "category": "other", "risk": "low", "location_id": app.location,
                "external_ref": {"system": "carevendor", "id": format!("INC-{round}")},
            })
        };
        let (first, second) = futures_util::join!(
            app.post(&app.integration, "/v1/concerns", body("First")),
            app.post(&app.integration, "/v1/concerns", body("Second")),
        );
        let mut statuses = [first.status.as_u16(), second.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [201, 409], "{:#} {:#}", first.body, second.body);
        let (winner, loser) = if first.status == 201 {
            (first, second)
        } else {
            (second, first)
        };
        let loser = loser.expect_problem(409, "duplicate_external_ref");
        assert_eq!(loser.body["existing_id"], Value::String(winner.id()));
    }
    assert_eq!(app.count("concerns"), 5);
}

#[actix_web::test]
async fn two_retries_racing_with_one_idempotency_key_do_the_work_once() {
    let app = TestApp::new().await;
    for round in 0..5 {
        let body = json!({
            "title": "Call bells unanswered", "description": "Raised twice by a flaky network",
            "category": "care_practice", "risk": "medium", "location_id": app.location,
        });
        let key = format!("retry-{round}");
        let (first, second) = futures_util::join!(
            app.post_keyed(&app.staff, "/v1/concerns", &key, body.clone()),
            app.post_keyed(&app.staff, "/v1/concerns", &key, body.clone()),
        );
        let first = first.expect(201);
        let second = second.expect(201);
        assert_eq!(first.id(), second.id());
        let replayed: Vec<Option<&str>> = [&first, &second]
            .iter()
            .map(|r| r.header("idempotent-replayed"))
            .collect();
        assert!(
            replayed == [None, Some("true")] || replayed == [Some("true"), None],
            "{replayed:?}"
        );
    }
    assert_eq!(app.count("concerns"), 5);
}

#[actix_web::test]
async fn two_scores_racing_on_one_version_give_one_success_and_one_412() {
    let app = TestApp::new().await;
    let path = format!(
        "/v1/locations/{}/self-assessments/cqc-saf-2024/quality-statements/safe.learning_culture",
        app.location
    );
    // Two first scores without a condition both count, one after the other.
    let (first, second) =
        futures_util::join!(app.put_score(&path, 2, None), app.put_score(&path, 3, None),);
    let mut answers = [
        (first.status.as_u16(), first.body["version"].clone()),
        (second.status.as_u16(), second.body["version"].clone()),
    ];
    answers.sort_by_key(|(status, _)| *status);
    assert_eq!(answers, [(200, json!(2)), (201, json!(1))]);
    for version in 2..7 {
        let etag = format!("\"{version}\"");
        // Each round's scores differ from the current one, so each would write.
        let (app, path, etag) = (&app, &path, &etag);
        let score = |rationale: String| async move {
            let body = json!({"score": 3, "rationale": rationale});
            app.send_with(
                Method::PUT,
                path,
                &app.manager,
                &[("If-Match", etag)],
                Some(body),
            )
            .await
        };
        let (first, second) = futures_util::join!(
            score(format!("round {version}, first")),
            score(format!("round {version}, second")),
        );
        let mut statuses = [first.status.as_u16(), second.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 412], "{:#} {:#}", first.body, second.body);
        let loser = if first.status == 200 { second } else { first };
        loser.expect_problem(412, "precondition_failed");
    }
    assert_eq!(app.count("self_assessments"), 7);
}

#[actix_web::test]
async fn a_plan_completing_while_an_action_is_added_lets_one_win() {
    let app = TestApp::new().await;
    for _ in 0..5 {
        let plan = new_plan(&app, json!({})).await;
        move_plan(&app, &plan, json!({"to": "active"}))
            .await
            .expect(200);
        let actions = format!("/v1/improvement-plans/{plan}/actions");
        let (completed, added) = futures_util::join!(
            move_plan(&app, &plan, json!({"to": "completed"})),
            app.post(
                &app.manager,
                &actions,
                json!({"description": "Add a second carer to the night rota",
                       "owner": {"sub": "user-manager"}}),
            ),
        );
        let read = app
            .get(&app.viewer, &format!("/v1/improvement-plans/{plan}"))
            .await
            .expect(200);
        if completed.status == 200 {
            added.expect_problem(409, "plan_closed");
            assert_eq!(read.body["status"], "completed");
            assert_eq!(read.body["actions"], json!([]));
        } else {
            added.expect(201);
            completed.expect_problem(409, "open_actions");
            assert_eq!(read.body["status"], "active");
            assert_eq!(read.body["actions"].as_array().unwrap().len(), 1);
        }
    }
}
