//! The audit trail: every change recorded, readable by admins and viewers, filterable.

use serde_json::json;

use crate::helpers::TestApp;

#[actix_web::test]
async fn every_change_is_recorded_with_its_actor_and_fields() {
    let app = TestApp::new().await;
    let id = app.raise(&app.staff, json!({})).await;
    app.patch(
        &app.manager,
        &format!("/v1/concerns/{id}"),
        json!({"risk": "high", "title": "Call bells unanswered at night"}),
    )
    .await
    .expect(200);
    app.move_to(&id, json!({"to": "acknowledged"})).await;
    app.post(
        &app.manager,
        &format!("/v1/concerns/{id}/updates"),
        json!({"body": "note"}),
    )
    .await
    .expect(201);

    let events = app
        .get(
            &app.admin,
            &format!("/v1/audit-events?resource_type=concern&resource_id={id}"),
        )
        .await
        .expect(200);
    let items = events.body["items"].as_array().unwrap();
    let summary: Vec<_> = items
        .iter()
        .map(|e| {
            (
                e["actor"]["sub"].clone(),
                e["action"].clone(),
                e["changed_fields"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                json!("user-staff"),
                json!("create"),
                json!([
                    "title",
                    "description",
                    "category",
                    "risk",
                    "location_id",
                    "confidential",
                    "anonymous",
                    "external_ref"
                ])
            ),
            // The unchanged title is not listed.
            (json!("user-manager"), json!("update"), json!(["risk"])),
            (
                json!("user-manager"),
                json!("transition"),
                json!(["status"])
            ),
        ]
    );
    assert_eq!(
        items[2]["detail"],
        json!({"from": "raised", "to": "acknowledged"})
    );
    // Filters repeat for any of their values.
    let moves = app
        .get(
            &app.admin,
            &format!("/v1/audit-events?resource_id={id}&action=transition&action=update"),
        )
        .await
        .expect(200);
    let actions: Vec<_> = moves.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].clone())
        .collect();
    assert_eq!(actions, [json!("update"), json!("transition")]);
    let notes = app
        .get(&app.viewer, "/v1/audit-events?resource_type=concern_update")
        .await
        .expect(200);
    // The transition's timeline entry and the note.
    assert_eq!(notes.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(notes.body["items"][1]["detail"]["concern_id"], json!(id));
}

#[actix_web::test]
async fn the_trail_is_filtered_by_time_paged_and_kept_to_the_organisation() {
    let app = TestApp::new().await;
    let all = app.get(&app.admin, "/v1/audit-events").await.expect(200);
    // The seeded organisation and its two locations.
    assert_eq!(all.body["items"].as_array().unwrap().len(), 3);
    let first_page = app
        .get(&app.admin, "/v1/audit-events?limit=2")
        .await
        .expect(200);
    assert_eq!(first_page.body["items"].as_array().unwrap().len(), 2);
    let cursor = first_page.body["next_cursor"].as_str().unwrap().to_owned();
    let second_page = app
        .get(
            &app.admin,
            &format!("/v1/audit-events?limit=2&cursor={cursor}"),
        )
        .await
        .expect(200);
    assert_eq!(second_page.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(second_page.body["next_cursor"], json!(null));

    let future = app
        .get(&app.admin, "/v1/audit-events?from=2999-01-01T00:00:00Z")
        .await
        .expect(200);
    assert_eq!(future.body["items"], json!([]));
    let past = app
        .get(&app.admin, "/v1/audit-events?to=2000-01-01T00:00:00Z")
        .await
        .expect(200);
    assert_eq!(past.body["items"], json!([]));
    app.get(
        &app.admin,
        "/v1/audit-events?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    )
    .await
    .expect_problem(422, "validation_failed");
    app.get(&app.admin, "/v1/audit-events?from=yesterday")
        .await
        .expect_problem(422, "validation_failed");

    let other = app
        .get(&app.other_admin, "/v1/audit-events")
        .await
        .expect(200);
    assert_eq!(other.body["items"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn a_reader_who_may_see_little_pages_through_the_trail_at_a_bounded_cost() {
    let app = TestApp::new().await;
    let hidden: Vec<String> = {
        let mut ids = Vec::new();
        for _ in 0..25 {
            ids.push(
                app.raise(&app.manager, json!({"category": "safeguarding"}))
                    .await,
            );
        }
        ids
    };
    let open = app.raise(&app.manager, json!({})).await;
    let mut cursor: Option<String> = None;
    let mut seen = Vec::new();
    let mut cut_short = 0;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/v1/audit-events?limit=1&cursor={cursor}"),
            None => "/v1/audit-events?limit=1".to_owned(),
        };
        let page = app.get(&app.viewer, &path).await.expect(200);
        let items = page.body["items"].as_array().unwrap().clone();
        cursor = page.body["next_cursor"].as_str().map(str::to_owned);
        // A page the read cut short resumes after the last row it read, not its last item.
        let last_item = items
            .last()
            .map(|e| e["id"].as_str().unwrap().replace('-', ""));
        if cursor.is_some() && cursor != last_item {
            cut_short += 1;
        }
        seen.extend(
            items
                .iter()
                .map(|e| e["resource_id"].as_str().unwrap().to_owned()),
        );
        if cursor.is_none() {
            break;
        }
    }
    // Every event the viewer may see, once, and none about the confidential concerns; a page
    // stopped at the read's bound and resumed where it stopped.
    assert_eq!(seen.iter().filter(|id| **id == open).count(), 1);
    assert!(hidden.iter().all(|id| !seen.contains(id)));
    assert!(cut_short > 0);
}
