//! `If-Match` by strong comparison (RFC 9110), and what two racing writers get.

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
