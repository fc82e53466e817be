//! The change log's numbering: a reader racing many writers (and the background's round) sees
//! every version once, writes
//! racing on one record number in order, the background's round numbers what waits, and a log
//! that cannot be numbered numbers nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use serde_json::json;

use crate::changes::{changes_of, read_all};
use crate::helpers::TestApp;

#[actix_web::test]
async fn a_reader_racing_many_writers_sees_every_version_exactly_once() {
    let app = TestApp::new().await;
    let head = app.get(&app.admin, "/v1/changes/cursor").await.expect(200);
    let head = head.body["cursor"].as_str().unwrap().to_owned();
    const WRITERS: usize = 12;
    let writer = |n: usize| {
        let app = &app;
        async move {
            let id = app
                .raise(&app.manager, json!({"title": format!("Race {n}")}))
                .await;
            for to in ["acknowledged", "investigating"] {
                app.move_to(&id, json!({"to": to})).await;
            }
            app.patch(
                &app.manager,
                &format!("/v1/concerns/{id}"),
                json!({"risk": "high"}),
            )
            .await
            .expect(200);
            id
        }
    };
    let finished = std::cell::Cell::new(false);
    let writers = async {
        let ids = futures_util::future::join_all((0..WRITERS).map(writer)).await;
        finished.set(true);
        ids
    };
    // The reader pages the feed by `next_cursor` while the writers commit (the ids alone, so
    // each page is cheap), until a page read after the last commit finds nothing new.
    let reader = async {
        let mut cursor = head.clone();
        let mut seen: Vec<(String, i64)> = Vec::new();
        loop {
            let after_the_writers = finished.get();
            let page = app
                .get(
                    &app.admin,
                    &format!("/v1/changes?types=concern&include=ids&limit=5&cursor={cursor}"),
                )
                .await
                .expect(200);
            let items = page.body["items"].as_array().unwrap();
            for item in items {
                seen.push((
                    item["id"].as_str().unwrap().to_owned(),
                    item["version"].as_i64().unwrap(),
                ));
            }
            cursor = page.body["next_cursor"].as_str().unwrap().to_owned();
            if items.is_empty() && after_the_writers {
                return seen;
            }
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
    };
    // The background's round numbers beside the reader, as another node's would.
    let rounds = async {
        let mut failing = careloop::db::change_log::Failing::default();
        while !finished.get() {
            careloop::background::number_round(&app.db, &mut failing)
                .await
                .expect("a round");
            actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let (ids, seen, ()) = futures_util::join!(writers, reader, rounds);
    let mut by_record: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (id, version) in &seen {
        by_record.entry(id.clone()).or_default().push(*version);
    }
    for id in &ids {
        assert_eq!(
            by_record.get(id),
            Some(&vec![1, 2, 3, 4]),
            "{id}: {by_record:?}"
        );
    }
    assert_eq!(seen.len(), WRITERS * 4, "nothing repeated, nothing else");
    // The organisation's numbers run from 1 to its head with no gap and no repeat.
    let (numbers, head) = app.with_conn(|conn| {
        use careloop::db::schema::{change_heads, changes};
        use diesel::prelude::*;
        let numbers: Vec<Option<i64>> = changes::table
            .filter(changes::organisation_id.eq(&app.org))
            .select(changes::seq)
            .order(changes::seq)
            .load(conn)
            .unwrap();
        let head: i64 = change_heads::table
            .find(&app.org)
            .select(change_heads::last_seq)
            .first(conn)
            .unwrap();
        (numbers, head)
    });
    let expected: Vec<Option<i64>> = (1..=head).map(Some).collect();
    assert_eq!(numbers, expected);
}

#[actix_web::test]
async fn writes_racing_on_one_concern_all_land_and_number_in_order() {
    let app = TestApp::new().await;
    let head = app.get(&app.admin, "/v1/changes/cursor").await.expect(200);
    let head = head.body["cursor"].as_str().unwrap().to_owned();
    let concern = app.raise(&app.manager, json!({})).await;
    // A note and an edit of one concern at once, again and again: each locks the concern (and
    // on SQLite its group numbers the log), never in an order that could deadlock (PostgreSQL
    // would abort one as a 500); a reader numbers them in version order.
    let (notes, record) = (
        format!("/v1/concerns/{concern}/updates"),
        format!("/v1/concerns/{concern}"),
    );
    for round in 0..8 {
        let note = app.post(
            &app.manager,
            &notes,
            json!({"body": format!("Note {round}")}),
        );
        let edit = app.patch(
            &app.manager,
            &record,
            json!({"risk": if round % 2 == 0 { "high" } else { "low" }}),
        );
        let (note, edit) = futures_util::join!(note, edit);
        note.expect(201);
        assert!([200, 409].contains(&edit.status.as_u16()), "{}", edit.body);
    }
    let (items, _) = read_all(&app, &app.admin, "limit=200", Some(head)).await;
    let versions: Vec<i64> = changes_of(&items, &concern)
        .iter()
        .map(|c| c["version"].as_i64().unwrap())
        .collect();
    let mut sorted = versions.clone();
    sorted.sort();
    assert_eq!(versions, sorted, "a record's versions in order");
}

/// `(numbered, waiting)`: how many of the organisation's changes the log has numbered, and how
/// many wait for their numbers.
fn numbered_and_waiting(app: &TestApp) -> (i64, i64) {
    app.with_conn(|conn| {
        use careloop::db::schema::changes;
        use diesel::prelude::*;
        let of_the_organisation = || changes::table.filter(changes::organisation_id.eq(&app.org));
        let numbered = of_the_organisation()
            .filter(changes::seq.is_not_null())
            .count()
            .get_result(conn)
            .unwrap();
        let waiting = of_the_organisation()
            .filter(changes::seq.is_null())
            .count()
            .get_result(conn)
            .unwrap();
        (numbered, waiting)
    })
}

/// On PostgreSQL a write numbers nothing (it takes no lock of the log, so an organisation's
/// writers never queue there); SQLite's writer numbers its group's changes as it commits them.
/// On both, the background's round numbers every change waiting that may be shown (here an
/// anonymous raiser's, its hour over), with no reader asking, and then has nothing to number.
#[actix_web::test]
async fn the_background_round_numbers_what_waits_with_no_reader_asking() {
    use careloop::background::number_round;
    use careloop::db::change_log::Failing;
    use careloop::db::DbConnection;

    let app = TestApp::new().await;
    let on_postgres = app.with_conn(|conn| matches!(conn, DbConnection::Pg(_)));
    let head = app.get(&app.admin, "/v1/changes/cursor").await.expect(200);
    let head = head.body["cursor"].as_str().unwrap().to_owned();
    let (numbered, waiting) = numbered_and_waiting(&app);
    assert_eq!(waiting, 0, "a read numbers what waits");
    let mut named = Vec::new();
    for n in 0..3 {
        named.push(
            app.raise(&app.manager, json!({"title": format!("Waits {n}")}))
                .await,
        );
    }
    let expected = if on_postgres {
        (numbered, 3)
    } else {
        (numbered + 3, 0)
    };
    assert_eq!(numbered_and_waiting(&app), expected);
    let anonymous = app.raise(&app.staff, json!({"anonymous": true})).await;
    app.with_conn(|conn| {
        conn.batch_execute("UPDATE changes SET publish_after = occurred_at WHERE seq IS NULL")
            .unwrap()
    });
    // Every organisation's: the test database holds another besides.
    let all_waiting = || {
        app.with_conn(|conn| {
            use careloop::db::schema::changes;
            use diesel::prelude::*;
            changes::table
                .filter(changes::seq.is_null())
                .count()
                .get_result::<i64>(conn)
                .unwrap()
        })
    };
    let waiting = all_waiting();
    let mut failing = Failing::default();
    let round = number_round(&app.db, &mut failing).await.unwrap();
    assert_eq!(i64::try_from(round).unwrap(), waiting);
    assert_eq!(numbered_and_waiting(&app), (numbered + 4, 0));
    assert_eq!(all_waiting(), 0);
    // With nothing waiting, a round writes nothing, so a long poll is not woken for nothing.
    let writes = app.db.watch_writes();
    assert_eq!(number_round(&app.db, &mut failing).await.unwrap(), 0);
    assert!(!writes.has_changed().unwrap(), "the round wrote");
    let (items, _) = read_all(&app, &app.admin, "types=concern&include=ids", Some(head)).await;
    let in_the_feed: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    let named_in_the_feed: Vec<&str> = in_the_feed
        .iter()
        .copied()
        .filter(|id| *id != anonymous)
        .collect();
    assert_eq!(
        named_in_the_feed,
        named.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(in_the_feed.len(), 4, "each once: {in_the_feed:?}");
}

/// A log that cannot be numbered (its head gone: a broken database) fails its reader with a 500
/// and numbers nothing; the write is kept, its change waiting (on SQLite, whose writer's group
/// numbers as it commits, that organisation's numbering alone is rolled back). Another
/// organisation's changes are numbered all the same, by the group and by the background's round.
#[actix_web::test]
async fn a_log_that_cannot_be_numbered_fails_its_reader_and_numbers_nothing() {
    use careloop::background::number_round;
    use careloop::db::change_log::Failing;

    let app = TestApp::new().await;
    app.get(&app.admin, "/v1/changes/cursor").await.expect(200);
    let (numbered, _) = numbered_and_waiting(&app);
    app.with_conn(|conn| {
        conn.batch_execute(&format!(
            "DELETE FROM change_heads WHERE organisation_id = '{}'",
            app.org
        ))
        .unwrap()
    });
    app.raise(&app.manager, json!({"title": "Unnumbered"}))
        .await;
    let other = app
        .raise(
            &app.other_admin,
            json!({"location_id": app.other_org_location}),
        )
        .await;
    number_round(&app.db, &mut Failing::default())
        .await
        .expect("the round goes on past the broken log");
    let refused = app.get(&app.admin, "/v1/changes").await.expect(500);
    assert_eq!(refused.body["code"], "internal_error");
    assert_eq!(numbered_and_waiting(&app), (numbered, 1));
    let (items, _) = read_all(&app, &app.other_admin, "types=concern", None).await;
    assert_eq!(
        changes_of(&items, &other).len(),
        1,
        "the other's is numbered"
    );
}
