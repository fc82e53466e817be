//! Locations: the registered services of the organisation.

use serde_json::json;

use crate::helpers::TestApp;

#[actix_web::test]
async fn admin_creates_reads_and_updates_a_location() {
    let app = TestApp::new().await;
    let created = app
        .post(
            &app.admin,
            "/v1/locations",
            json!({"name": "Riverside Home Care", "kind": "home_care", "cqc_location_id": "1-2345678901"}),
        )
        .await
        .expect(201);
    let id = created.id();
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/locations/{id}").as_str())
    );
    assert_eq!(created.body["kind"], "home_care");
    assert_eq!(created.body["version"], 1);

    let read = app
        .get(&app.staff, &format!("/v1/locations/{id}"))
        .await
        .expect(200);
    assert_eq!(read.body, created.body);
    assert_eq!(read.header("etag"), Some("\"1\""));

    let path = format!("/v1/locations/{id}");
    let updated = app
        .patch_if_match(
            &app.admin,
            &path,
            "\"1\"",
            json!({"kind": "supported_living", "cqc_location_id": null}),
        )
        .await
        .expect(200);
    assert_eq!(updated.body["kind"], "supported_living");
    assert_eq!(updated.body["cqc_location_id"], json!(null));
    assert_eq!(updated.body["name"], "Riverside Home Care");
    assert_eq!(updated.body["version"], 2);
    app.patch_if_match(&app.admin, &path, "\"1\"", json!({"name": "Stale"}))
        .await
        .expect_problem(412, "precondition_failed");
}

#[actix_web::test]
async fn invalid_locations_are_rejected_and_not_stored() {
    let app = TestApp::new().await;
    let before = app.count("locations");
    app.post(
        &app.admin,
        "/v1/locations",
        json!({"name": "X", "kind": "castle"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let response = app
        .post(
            &app.admin,
            "/v1/locations",
            json!({"name": " ", "kind": "care_home", "cqc_location_id": "abc"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(response.body["errors"].as_array().unwrap().len(), 2);
    app.post(
        &app.admin,
        "/v1/locations",
        json!({"name": "x".repeat(201), "kind": "care_home"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    assert_eq!(app.count("locations"), before);
}

#[actix_web::test]
async fn lists_page_through_every_location_once() {
    let app = TestApp::new().await;
    for n in 0..5 {
        app.post(
            &app.admin,
            "/v1/locations",
            json!({"name": format!("Branch {n}"), "kind": "home_care"}),
        )
        .await
        .expect(201);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/locations?limit=3&cursor={c}"),
            None => "/v1/locations?limit=3".to_owned(),
        };
        let page = app.get(&app.viewer, &path).await.expect(200);
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["id"].as_str().unwrap().to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique, seen);
}
