//! Finding records as an integrator does: by the id their own system gave a record
//! (`external_ref`, set once on every kind that can come from elsewhere), many at once by id, and
//! each at its own URL.

use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::improvement::new_plan;

/// One kind of record: its list, and how to create one (with `extra` merged into the body).
struct Kind {
    list: String,
    body: Value,
    /// Whether a PATCH exists for it (recognitions are recorded, not edited).
    patchable: bool,
}

async fn kinds(app: &TestApp) -> Vec<Kind> {
    let location = &app.location;
    let plan = new_plan(app, json!({})).await;
    vec![
        Kind {
            list: "/v1/concerns".into(),
            body: json!({"title": "Call bells", "description": "Slow at night", "category": "other",
                         "risk": "low", "location_id": location}),
            patchable: true,
        },
        Kind {
            list: "/v1/learning-events".into(),
            body: json!({"kind": "supervision", "occurred_at": "2026-11-01T10:00:00Z",
                         "title": "Supervision", "location_id": location}),
            patchable: true,
        },
        Kind {
            list: "/v1/evidence".into(),
            body: json!({"source": "audit", "evidence_category": "processes",
                         "quality_statements": ["safe.safeguarding"], "title": "Audit",
                         "observed_at": "2026-11-01T10:00:00Z", "location_id": location}),
            patchable: true,
        },
        Kind {
            list: "/v1/improvement-plans".into(),
            body: json!({"title": "Plan", "objective": "o", "owner": {"sub": "user-manager"},
                         "priority": "high", "review_cadence": "monthly", "location_id": location}),
            patchable: true,
        },
        Kind {
            list: format!("/v1/improvement-plans/{plan}/actions"),
            body: json!({"description": "Body maps on admission", "owner": {"sub": "user-staff"}}),
            patchable: true,
        },
        Kind {
            list: "/v1/locations".into(),
            body: json!({"name": "Rose House", "kind": "care_home"}),
            patchable: true,
        },
        Kind {
            list: "/v1/recognitions".into(),
            body: json!({"kind": "thanks", "title": "Thank you", "recipients": ["Night team"],
                         "from": "manager", "occurred_on": "2026-11-02", "location_id": location}),
            patchable: false,
        },
    ]
}

fn with(body: &Value, extra: Value) -> Value {
    let mut body = body.clone();
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    body
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn every_kind_is_found_by_its_external_ref_and_read_many_at_once() {
    let app = TestApp::new().await;
    for kind in kinds(&app).await {
        let list = &kind.list;
        let external = json!({"system": "vendor", "id": format!("X-{list}")});
        let held = app
            .post(
                &app.admin,
                list,
                with(&kind.body, json!({"external_ref": external})),
            )
            .await
            .expect(201);
        assert_eq!(held.body["external_ref"], external, "{list}");
        let held = held.id();
        let others: Vec<String> = {
            let mut made = Vec::new();
            for _ in 0..2 {
                made.push(
                    app.post(&app.admin, list, kind.body.clone())
                        .await
                        .expect(201)
                        .id(),
                );
            }
            made
        };
        // A second record with the same reference is refused, naming the holder.
        let taken = app
            .post(
                &app.admin,
                list,
                with(&kind.body, json!({"external_ref": external})),
            )
            .await
            .expect_problem(409, "duplicate_external_ref");
        assert_eq!(taken.body["existing_id"], held.as_str(), "{list}");

        let found = app
            .get(
                &app.admin,
                &format!("{list}?external_ref.system=vendor&external_ref.id=X-{list}"),
            )
            .await
            .expect(200);
        assert_eq!(ids(&found.body), [held.as_str()], "{list}");
        let none = app
            .get(
                &app.admin,
                &format!("{list}?external_ref.system=vendor&external_ref.id=nope"),
            )
            .await
            .expect(200);
        assert!(ids(&none.body).is_empty(), "{list}");
        // Each half narrows alone: every record from a system, or known by an id.
        let from_vendor = app
            .get(&app.admin, &format!("{list}?external_ref.system=vendor"))
            .await
            .expect(200);
        assert_eq!(ids(&from_vendor.body), [held.as_str()], "{list}");
        let by_id = app
            .get(&app.admin, &format!("{list}?external_ref.id=X-{list}"))
            .await
            .expect(200);
        assert_eq!(ids(&by_id.body), [held.as_str()], "{list}");

        let batch = app
            .get(
                &app.admin,
                &format!(
                    "{list}?id={}&id={}&id={}",
                    others[1],
                    held,
                    uuid::Uuid::now_v7()
                ),
            )
            .await
            .expect(200);
        assert_eq!(
            ids(&batch.body),
            [held.clone(), others[1].clone()],
            "{list}"
        );
        let too_many: String = (0..101)
            .map(|_| format!("id={}&", uuid::Uuid::now_v7()))
            .collect();
        let refused = app
            .get(&app.admin, &format!("{list}?{too_many}"))
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(refused.body["errors"][0]["field"], "id", "{list}");
    }
}

#[actix_web::test]
async fn an_external_ref_is_set_once_by_patch() {
    let app = TestApp::new().await;
    for kind in kinds(&app).await.into_iter().filter(|k| k.patchable) {
        let list = &kind.list;
        let first = app
            .post(&app.admin, list, kind.body.clone())
            .await
            .expect(201)
            .id();
        let second = app
            .post(&app.admin, list, kind.body.clone())
            .await
            .expect(201)
            .id();
        let url = |id: &str| format!("{list}/{id}");
        let external = json!({"system": "vendor", "id": format!("P-{list}")});
        let set = app
            .patch(&app.admin, &url(&first), json!({"external_ref": external}))
            .await
            .expect(200);
        assert_eq!(set.body["external_ref"], external, "{list}");
        // Sending the one it has changes nothing; another is refused, and so is clearing it.
        let again = app
            .patch(&app.admin, &url(&first), json!({"external_ref": external}))
            .await
            .expect(200);
        assert_eq!(again.body["external_ref"], external, "{list}");
        let changed = app
            .patch(
                &app.admin,
                &url(&first),
                json!({"external_ref": {"system": "vendor", "id": "other"}}),
            )
            .await
            .expect_problem(409, "conflicts_with_record");
        assert_eq!(changed.body["errors"][0]["field"], "external_ref", "{list}");
        app.patch(&app.admin, &url(&first), json!({"external_ref": null}))
            .await
            .expect_problem(422, "validation_failed");
        let taken = app
            .patch(&app.admin, &url(&second), json!({"external_ref": external}))
            .await
            .expect_problem(409, "duplicate_external_ref");
        assert_eq!(taken.body["existing_id"], first.as_str(), "{list}");
        let read = app.get(&app.admin, &url(&second)).await.expect(200);
        assert_eq!(read.body["external_ref"], Value::Null, "{list}");
    }
}

#[actix_web::test]
async fn actions_and_reviews_are_read_at_their_own_urls() {
    let app = TestApp::new().await;
    let plan = new_plan(&app, json!({})).await;
    let action = app
        .post(
            &app.manager,
            &format!("/v1/improvement-plans/{plan}/actions"),
            json!({"description": "Body maps on admission", "owner": {"sub": "user-staff"}}),
        )
        .await
        .expect(201);
    let id = action.id();
    let read = app
        .get(&app.staff, &format!("/v1/actions/{id}"))
        .await
        .expect(200);
    assert_eq!(read.body, action.body);
    assert_eq!(read.header("etag"), Some("\"1\""));
    app.get(&app.staff, &format!("/v1/actions/{}", uuid::Uuid::now_v7()))
        .await
        .expect_problem(404, "not_found");

    app.post(
        &app.manager,
        &format!("/v1/improvement-plans/{plan}/transitions"),
        json!({"to": "active"}),
    )
    .await
    .expect(200);
    let review = app
        .post(
            &app.manager,
            &format!("/v1/improvement-plans/{plan}/reviews"),
            json!({"reviewed_on": "2026-11-20", "progress": "green"}),
        )
        .await
        .expect(201);
    let location = review.header("location").unwrap().to_owned();
    assert_eq!(
        location,
        format!("/v1/improvement-plans/{plan}/reviews/{}", review.id())
    );
    let read = app.get(&app.viewer, &location).await.expect(200);
    assert_eq!(read.body, review.body);
    let other_plan = new_plan(&app, json!({"title": "Other"})).await;
    app.get(
        &app.viewer,
        &format!("/v1/improvement-plans/{other_plan}/reviews/{}", review.id()),
    )
    .await
    .expect_problem(404, "not_found");
}
