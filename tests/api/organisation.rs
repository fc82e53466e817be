//! The caller's organisation and its concern settings.

use serde_json::json;

use crate::helpers::TestApp;

#[actix_web::test]
async fn reads_the_callers_organisation_with_an_etag() {
    let app = TestApp::new().await;
    let response = app.get(&app.viewer, "/v1/organisation").await.expect(200);
    assert_eq!(response.body["id"], app.org);
    assert_eq!(response.body["name"], "Meadowbank Care Ltd");
    assert_eq!(response.body["acknowledge_within_hours"], 72);
    assert_eq!(response.body["feedback_within_days"], 90);
    assert_eq!(response.header("etag"), Some("\"1\""));
    let other = app
        .get(&app.other_admin, "/v1/organisation")
        .await
        .expect(200);
    assert_eq!(other.body["id"], app.other_org);
}

#[actix_web::test]
async fn admin_updates_identifiers_and_settings() {
    let app = TestApp::new().await;
    let response = app
        .patch(
            &app.admin,
            "/v1/organisation",
            json!({"name": "Meadowbank Care Group", "cqc_provider_id": "1-101234567",
                   "ods_code": "VNH12", "acknowledge_within_hours": 48, "feedback_within_days": 28}),
        )
        .await
        .expect(200);
    assert_eq!(response.body["name"], "Meadowbank Care Group");
    assert_eq!(response.body["cqc_provider_id"], "1-101234567");
    assert_eq!(response.body["acknowledge_within_hours"], 48);
    assert_eq!(response.body["version"], 2);
    assert_eq!(response.header("etag"), Some("\"2\""));
    // null clears an optional field; leaving it out keeps it.
    let cleared = app
        .patch(&app.admin, "/v1/organisation", json!({"ods_code": null}))
        .await
        .expect(200);
    assert_eq!(cleared.body["ods_code"], json!(null));
    assert_eq!(cleared.body["cqc_provider_id"], "1-101234567");
}

#[actix_web::test]
async fn invalid_settings_are_422_and_change_nothing() {
    let app = TestApp::new().await;
    let response = app
        .patch(
            &app.admin,
            "/v1/organisation",
            json!({"name": "", "cqc_provider_id": "12345", "acknowledge_within_hours": 0,
                   "feedback_within_days": 1000}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let fields = response.error_fields();
    assert_eq!(
        fields,
        [
            "acknowledge_within_hours",
            "cqc_provider_id",
            "feedback_within_days",
            "name"
        ]
    );
    let after = app.get(&app.admin, "/v1/organisation").await.expect(200);
    assert_eq!(after.body["version"], 1);
    assert_eq!(after.body["name"], "Meadowbank Care Ltd");
    app.patch(&app.admin, "/v1/organisation", json!({"status": "closed"}))
        .await
        .expect_problem(422, "validation_failed");
}

#[actix_web::test]
async fn a_stale_if_match_is_412() {
    let app = TestApp::new().await;
    let patch = |etag: &'static str| {
        app.patch_if_match(
            &app.admin,
            "/v1/organisation",
            etag,
            json!({"name": "First"}),
        )
    };
    patch("\"1\"").await.expect(200);
    patch("\"1\"")
        .await
        .expect_problem(412, "precondition_failed");
    patch("\"garbage\"")
        .await
        .expect_problem(412, "precondition_failed");
    patch("\"2\"").await.expect(200);
    patch("*").await.expect(200);
}
