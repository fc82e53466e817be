//! The change feed: every committed change once, its number visible only with its commit, with
//! the record as the caller reads it; filters, long polling, retention and anonymous raisers. Racing writers
//! and the numbering are in `change_numbering.rs`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use careloop::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{claims, sign, TestApp};
use crate::privacy::scene;

/// Every change the caller may see after `cursor` (from the start without one), paging by
/// `limit`, and the cursor to resume from.
pub async fn read_all(
    app: &TestApp,
    token: &str,
    query: &str,
    cursor: Option<String>,
) -> (Vec<Value>, String) {
    let mut cursor = cursor;
    let mut items = Vec::new();
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/v1/changes?{query}&cursor={cursor}"),
            None => format!("/v1/changes?{query}"),
        };
        let page = app.get(token, &path).await.expect(200);
        let next = page.body["next_cursor"].as_str().unwrap().to_owned();
        let got = page.body["items"].as_array().unwrap().clone();
        if got.is_empty() && cursor.as_deref() == Some(next.as_str()) {
            return (items, next);
        }
        items.extend(got);
        cursor = Some(next);
    }
}

pub fn changes_of<'a>(items: &'a [Value], id: &str) -> Vec<&'a Value> {
    items.iter().filter(|item| item["id"] == id).collect()
}

#[actix_web::test]
async fn the_feed_shows_every_change_once_with_the_record_as_get_answers_it() {
    let app = TestApp::new().await;
    let scene = scene(&app).await;
    app.patch(
        &app.admin,
        "/v1/organisation",
        json!({"name": "Meadowbank Care"}),
    )
    .await
    .expect(200);
    let (items, _) = read_all(&app, &app.admin, "limit=200", None).await;

    // Numbered in order, each once.
    let cursors: Vec<&str> = items
        .iter()
        .map(|i| i["cursor"].as_str().unwrap())
        .collect();
    let mut sorted = cursors.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(cursors, sorted, "in order, never repeated");

    // Every kind of record, with what happened to it.
    let concern = changes_of(&items, &scene.concern);
    let seen: Vec<(&str, &str, i64)> = concern
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap(),
                c["action"].as_str().unwrap(),
                c["version"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [("concern", "created", 1), ("concern", "transitioned", 2)]
    );
    for (id, kind, action) in [
        (&scene.update, "concern_update", "created"),
        (&scene.learning, "learning_event", "created"),
        (&scene.evidence, "evidence", "created"),
        (&scene.review, "review", "created"),
        (&scene.action, "action", "created"),
        (&scene.recognition, "recognition", "created"),
        (&scene.score, "self_assessment", "created"),
        (&app.org, "organisation", "updated"),
    ] {
        let found = changes_of(&items, id);
        assert!(
            found
                .iter()
                .any(|c| c["type"] == kind && c["action"] == action),
            "{kind} {action}: {found:?}"
        );
    }
    let plan: Vec<&str> = changes_of(&items, &scene.plan)
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        plan,
        ["created", "transitioned", "updated"],
        "the review moved its cycle"
    );

    // The record is the one GET answers now.
    for (id, path) in [
        (&scene.concern, format!("/v1/concerns/{}", scene.concern)),
        (&scene.action, format!("/v1/actions/{}", scene.action)),
        (&app.org, "/v1/organisation".to_owned()),
        (
            &scene.review,
            format!(
                "/v1/improvement-plans/{}/reviews/{}",
                scene.plan, scene.review
            ),
        ),
        (
            &scene.update,
            format!("/v1/concerns/{}/updates/{}", scene.concern, scene.update),
        ),
    ] {
        let now = app.get(&app.admin, &path).await.expect(200).body;
        for change in changes_of(&items, id) {
            assert_eq!(change["record"], now, "{path}");
        }
    }

    // Paged one at a time, the same changes.
    let (one_by_one, _) = read_all(&app, &app.admin, "limit=1", None).await;
    assert_eq!(one_by_one, items);

    // Filters: kinds of record (comma-separated), a location, and ids alone.
    let (filtered, _) = read_all(&app, &app.admin, "types=concern,evidence", None).await;
    assert!(!filtered.is_empty());
    assert!(filtered
        .iter()
        .all(|c| c["type"] == "concern" || c["type"] == "evidence"));
    assert_eq!(
        filtered.len(),
        items
            .iter()
            .filter(|c| c["type"] == "concern" || c["type"] == "evidence")
            .count()
    );
    let (elsewhere, _) = read_all(
        &app,
        &app.admin,
        &format!("location_id={}", app.second_location),
        None,
    )
    .await;
    assert!(elsewhere.iter().all(|c| c["id"] != scene.concern));
    let (here, _) = read_all(
        &app,
        &app.admin,
        &format!("location_id={}", app.location),
        None,
    )
    .await;
    // The concern's every change is where it is, its creation's too.
    let actions: Vec<_> = here
        .iter()
        .filter(|c| c["id"] == scene.concern)
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "transitioned"]);
    let (ids, _) = read_all(&app, &app.admin, "include=ids", None).await;
    assert_eq!(ids.len(), items.len());
    assert!(ids.iter().all(|c| c["record"].is_null()));

    // Bad input is named.
    for (query, field) in [
        ("types=concern,nothing", "types"),
        ("cursor=zz", "cursor"),
        ("wait=31", "wait"),
        ("include=everything", "include"),
        ("cursor=0000000000", "cursor"),
        ("cursor=7fffffffffffffff", "cursor"),
    ] {
        let problem = app
            .get(&app.admin, &format!("/v1/changes?{query}"))
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(problem.body["errors"][0]["field"], field, "{query}");
    }

    // Another organisation's feed holds none of it.
    let (theirs, _) = read_all(&app, &app.other_admin, "limit=200", None).await;
    assert!(theirs
        .iter()
        .all(|c| changes_of(&items, c["id"].as_str().unwrap()).is_empty()));
}

#[actix_web::test]
async fn each_caller_sees_only_changes_to_records_they_may_read() {
    let app = TestApp::new().await;
    let scene = scene(&app).await;
    let own = app.raise(&app.staff, json!({})).await;
    let someone_elses = app.raise(&app.manager, json!({})).await;
    let ids = |items: &[Value]| -> HashSet<String> {
        items
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (staff, _) = read_all(&app, &app.staff, "types=concern", None).await;
    assert_eq!(ids(&staff), HashSet::from([own.clone()]));
    let (viewer, _) = read_all(&app, &app.viewer, "types=concern", None).await;
    assert_eq!(ids(&viewer), HashSet::from([own, someone_elses]));
    // Confidential: neither the id nor anything else of it.
    for token in [&app.viewer, &app.integration, &app.staff] {
        let body = app
            .get(token, "/v1/changes?limit=200")
            .await
            .expect(200)
            .body
            .to_string();
        assert!(!body.contains(&scene.concern));
        assert!(!body.contains(&scene.update));
    }
    // A token limited to the other location sees none of this location's records.
    let mut limited = claims(&app.org, &[Role::Admin], "user-admin");
    limited.locations = Some(vec![app.second_location.clone()]);
    let (there, _) = read_all(&app, &sign(&limited), "limit=200", None).await;
    for id in [
        &scene.learning,
        &scene.evidence,
        &scene.plan,
        &scene.action,
        &scene.score,
    ] {
        assert!(changes_of(&there, id).is_empty(), "{id}");
    }
}

#[actix_web::test]
async fn an_anonymous_concern_joins_the_feed_only_once_its_hour_is_over() {
    let app = TestApp::new().await;
    let head = app
        .get(&app.admin, "/v1/changes/cursor")
        .await
        .expect(200)
        .body["cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let anonymous = app.raise(&app.staff, json!({"anonymous": true})).await;
    let named = app.raise(&app.staff, json!({})).await;
    let (items, _) = read_all(&app, &app.admin, "limit=200", Some(head.clone())).await;
    assert!(
        changes_of(&items, &anonymous).is_empty(),
        "withheld in its hour"
    );
    assert_eq!(changes_of(&items, &named).len(), 1);

    // Once its hour is over (moved back here), the next read numbers it after what came before.
    app.with_conn(|conn| {
        use diesel::RunQueryDsl;
        diesel::sql_query("UPDATE changes SET publish_after = occurred_at WHERE seq IS NULL")
            .execute(conn)
            .unwrap();
    });
    let (items, _) = read_all(&app, &app.admin, "limit=200", Some(head.clone())).await;
    let created = changes_of(&items, &anonymous);
    assert_eq!(created.len(), 1);
    let at: chrono::DateTime<chrono::Utc> =
        created[0]["occurred_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(at.timestamp() % 3600, 0, "dated to the hour: {at}");
    let position = |id: &str| items.iter().position(|c| c["id"] == id).unwrap();
    assert!(position(&named) < position(&anonymous));

    // A change by a named person to a withheld record brings it out first, in version order.
    let second = app.raise(&app.staff, json!({"anonymous": true})).await;
    app.move_to(&second, json!({"to": "acknowledged"})).await;
    let (items, _) = read_all(&app, &app.admin, "limit=200", Some(head)).await;
    let versions: Vec<i64> = changes_of(&items, &second)
        .iter()
        .map(|c| c["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2], "its versions come in order");
    let actions: Vec<&str> = changes_of(&items, &second)
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "transitioned"]);
}

#[actix_web::test]
async fn a_cursor_past_retention_is_gone_and_the_head_resumes() {
    let app = TestApp::new().await;
    let start = app.get(&app.admin, "/v1/changes").await.expect(200);
    let old = start.body["next_cursor"].as_str().unwrap().to_owned();
    let first = app.raise(&app.manager, json!({})).await;
    // A reader numbers it (the background's round would, within a quarter second); a change
    // waiting for its number was never published, and retention keeps it.
    app.get(&app.admin, "/v1/changes/cursor").await.expect(200);
    // Retention passes for everything so far.
    let dropped = app.with_conn(|conn| {
        careloop::store::changes::prune(
            conn,
            chrono::Duration::days(30),
            chrono::Utc::now() + chrono::Duration::days(31),
        )
        .unwrap()
    });
    assert!(dropped > 0);
    let gone = app
        .get(&app.admin, &format!("/v1/changes?cursor={old}"))
        .await
        .expect_problem(410, "cursor_expired");
    assert!(gone.body["detail"]
        .as_str()
        .unwrap()
        .contains("/v1/changes/cursor"));
    // Resynchronise: the lists by `updated_since`, then the feed from its head.
    let head = app.get(&app.admin, "/v1/changes/cursor").await.expect(200);
    let head = head.body["cursor"].as_str().unwrap().to_owned();
    let second = app.raise(&app.manager, json!({})).await;
    let (items, _) = read_all(&app, &app.admin, "limit=200", Some(head)).await;
    let ids: Vec<&str> = items.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [second.as_str()]);
    // Without a cursor the feed starts at its oldest kept change.
    let (kept, _) = read_all(&app, &app.admin, "limit=200", None).await;
    assert!(changes_of(&kept, &first).is_empty());
    assert_eq!(changes_of(&kept, &second).len(), 1);
}

/// Retention drops only published changes: one still waiting for its number (on PostgreSQL,
/// until a reader or the background's round numbers it; SQLite's writer numbers it as it
/// commits) stays, and is numbered after what was dropped.
#[actix_web::test]
async fn retention_keeps_a_change_waiting_for_its_number() {
    use careloop::db::DbConnection;

    let app = TestApp::new().await;
    let on_postgres = app.with_conn(|conn| matches!(conn, DbConnection::Pg(_)));
    app.get(&app.admin, "/v1/changes/cursor").await.expect(200);
    let waiting = app.raise(&app.manager, json!({})).await;
    app.with_conn(|conn| {
        careloop::store::changes::prune(
            conn,
            chrono::Duration::days(30),
            chrono::Utc::now() + chrono::Duration::days(31),
        )
        .unwrap()
    });
    let (kept, _) = read_all(&app, &app.admin, "limit=200", None).await;
    let expected = if on_postgres { 1 } else { 0 };
    assert_eq!(changes_of(&kept, &waiting).len(), expected, "{kept:?}");
}

#[actix_web::test]
async fn a_long_poll_answers_when_a_change_arrives() {
    let app = TestApp::new().await;
    let head = app.get(&app.admin, "/v1/changes/cursor").await.expect(200);
    let head = head.body["cursor"].as_str().unwrap().to_owned();
    // Nothing happens: the wait runs out, and the cursor stays.
    let started = Instant::now();
    let empty = app
        .get(&app.admin, &format!("/v1/changes?wait=1&cursor={head}"))
        .await
        .expect(200);
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(empty.body["items"], json!([]));
    assert_eq!(empty.body["next_cursor"], head);
    // A change arrives while the reader waits: it answers at once.
    let started = Instant::now();
    let waiting = format!("/v1/changes?wait=20&cursor={head}");
    let poll = app.get(&app.admin, &waiting);
    let write = async {
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        app.raise(&app.manager, json!({})).await
    };
    let (poll, raised) = futures_util::join!(poll, write);
    let poll = poll.expect(200);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(poll.body["items"][0]["id"], raised);
}
