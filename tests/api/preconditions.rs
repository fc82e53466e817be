//! `If-Match` by strong comparison (RFC 9110), and what racing writers get: one create per
//! `external_ref`, one piece of work per `Idempotency-Key`.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::helpers::{Response, TestApp};

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
        rename(&app, &id, garbage, "Garbage")
            .await
            .expect_problem(400, "invalid_if_match");
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
