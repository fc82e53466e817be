//! The inspection pack (a zip of CSVs), read as one snapshot; and the long reads (exports,
//! packs, insights) on connections and threads of their own, waiting their turn.

use actix_web::http::Method;
use careloop::auth::Role;
use careloop::db::as_one_snapshot;
use serde_json::json;

use crate::exports::csv;
use crate::helpers::{claims, count_rows, hold_connections, sign, TestApp};

/// The files of a zip by name, as text.
fn files_of(bytes: &[u8]) -> std::collections::BTreeMap<String, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut file, &mut text).unwrap();
            (file.name().to_owned(), text)
        })
        .collect()
}

#[actix_web::test]
async fn the_inspection_pack_holds_the_csvs_an_inspector_asks_for() {
    let app = TestApp::new().await;
    let (here, there) = (&app.location, &app.second_location);
    for (location, title, day) in [
        (here, "Here", "2026-10-10"),
        (there, "There", "2026-10-11"),
        (here, "Before", "2026-08-01"),
    ] {
        app.post(&app.manager, "/v1/evidence", json!({"source": "audit", "evidence_category": "processes",
            "quality_statements": ["safe.safeguarding", "safe.medicines_optimisation"], "title": title,
            "observed_at": format!("{day}T09:00:00Z"), "location_id": location}))
            .await
            .expect(201);
        app.post(
            &app.manager,
            "/v1/learning-events",
            json!({"kind": "supervision", "title": title,
            "occurred_at": format!("{day}T09:00:00Z"), "location_id": location}),
        )
        .await
        .expect(201);
        app.post(&app.manager, "/v1/recognitions", json!({"kind": "thanks", "title": title,
            "from": "relative", "recipients": ["Sam"], "occurred_on": day, "location_id": location}))
            .await
            .expect(201);
    }
    let plan = app
        .post(&app.manager, "/v1/improvement-plans", json!({"title": "Medicines", "objective": "Fewer errors",
            "owner": {"sub": "manager-1"}, "priority": "high", "review_cadence": "monthly", "location_id": here}))
        .await
        .expect(201)
        .id();
    app.post(
        &app.manager,
        &format!("/v1/improvement-plans/{plan}/actions"),
        json!({"description": "Retrain", "due_on": "2026-12-31", "owner": {"sub": "manager-1"}}),
    )
    .await
    .expect(201);
    app.raise(&app.staff, json!({"location_id": here})).await;

    let path = format!("/v1/exports/inspection-pack?location_id={here}&from=2026-10-01T00:00:00Z&to=2026-12-31T00:00:00Z");
    let (status, headers, bytes) = app
        .exchange(TestApp::request(Method::GET, &path, Some(&app.manager)))
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("content-type").unwrap(), "application/zip");
    assert!(headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"inspection-pack-"));
    let files = files_of(&bytes);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "README.txt",
            "concerns.csv",
            "evidence_by_quality_statement.csv",
            "improvement_plans.csv",
            "learning_events.csv",
            "plan_actions.csv",
            "plan_reviews.csv",
            "recognitions.csv"
        ]
    );
    for name in &names[1..] {
        assert!(
            files["README.txt"].contains(name),
            "README.txt describes {name}"
        );
    }
    let lines = |name: &str| files[name].lines().count() - 1;
    // One line per quality statement of the one evidence of this location in the period.
    assert_eq!(
        lines("evidence_by_quality_statement.csv"),
        2,
        "{}",
        files["evidence_by_quality_statement.csv"]
    );
    assert!(files["evidence_by_quality_statement.csv"]
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("safe.medicines_optimisation,"));
    for name in ["learning_events.csv", "recognitions.csv"] {
        assert_eq!(lines(name), 1, "{name}: {}", files[name]);
        assert!(
            files[name].contains("Here")
                && !files[name].contains("There")
                && !files[name].contains("Before")
        );
    }
    assert_eq!(lines("improvement_plans.csv"), 1);
    assert_eq!(lines("plan_actions.csv"), 1);
    assert_eq!(lines("concerns.csv"), 1);
    // A location the caller may not see is not found; staff may not take the pack.
    let mut limited = claims(&app.org, &[Role::Manager], "limited");
    limited.locations = Some(vec![there.clone()]);
    let limited = sign(&limited);
    app.get(
        &limited,
        &format!("/v1/exports/inspection-pack?location_id={here}"),
    )
    .await
    .expect_problem(404, "not_found");
    app.get(&app.staff, "/v1/exports/inspection-pack")
        .await
        .expect_problem(403, "forbidden");
    app.get(
        &app.manager,
        "/v1/exports/inspection-pack?from=2026-12-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    )
    .await
    .expect_problem(422, "validation_failed");
}

/// A pack of many pages of records holds every one of them, once and in order: its concerns
/// are the CSV export's (less the contact details), its evidence is sorted by statement across
/// pages, and what it says it holds, it holds.
#[actix_web::test]
async fn a_pack_of_many_pages_holds_every_record_once_in_order() {
    let app = TestApp::new().await;
    let mut concerns = String::from("title,description,category,risk,quality_statements\n");
    let mut evidence =
        String::from("source,evidence_category,quality_statements,title,observed_at\n");
    for i in 0..450 {
        concerns.push_str(&format!(
            "Concern {i},Seen on a night shift,staffing,low,safe.safeguarding\n"
        ));
        evidence.push_str(&format!(
            "audit,processes,safe.safeguarding|safe.medicines_optimisation,Audit {i},2026-10-01T09:00:00Z\n"
        ));
    }
    let mut plans = String::new();
    for i in 0..210 {
        plans.push_str(
            &json!({"title": format!("Plan {i}"), "objective": "Fewer falls",
            "owner": {"sub": "manager-1"}, "priority": "high", "review_cadence": "monthly",
            "actions": [{"description": format!("Action {i}"), "due_on": "2026-12-31",
                         "owner": {"sub": "manager-1"}}]})
            .to_string(),
        );
        plans.push('\n');
    }
    for (kind, content_type, file) in [
        ("concerns", "text/csv", concerns),
        ("evidence", "text/csv", evidence),
        ("improvement_plans", "application/x-ndjson", plans),
    ] {
        app.send_raw(
            Method::POST,
            &format!("/v1/imports?kind={kind}"),
            &app.manager,
            &[("Content-Type", content_type)],
            &file,
        )
        .await
        .expect(201);
    }
    // Archived evidence stays out, under every statement.
    let archived = app
        .post(
            &app.manager,
            "/v1/evidence",
            json!({"source": "audit", "evidence_category": "processes",
            "quality_statements": ["safe.safeguarding"], "title": "Archived",
            "observed_at": "2026-10-01T09:00:00Z"}),
        )
        .await
        .expect(201)
        .id();
    app.call(
        Method::DELETE,
        &format!("/v1/evidence/{archived}"),
        Some(&app.manager),
        None,
    )
    .await
    .expect(200);
    let (status, _, bytes) = app
        .exchange(TestApp::request(
            Method::GET,
            "/v1/exports/inspection-pack",
            Some(&app.manager),
        ))
        .await;
    assert_eq!(status, 200);
    let files = files_of(&bytes);
    let table = |text: &str| -> Vec<Vec<String>> {
        csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    };
    let header = |text: &str| -> Vec<String> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect()
    };

    let (_, _, export) = csv(&app, &app.manager, "/v1/concerns").await;
    let pack_header = header(&files["concerns.csv"]);
    let kept: Vec<usize> = pack_header
        .iter()
        .map(|name| export[0].iter().position(|h| h == name).unwrap())
        .collect();
    let expected: Vec<Vec<String>> = export[1..]
        .iter()
        .map(|row| kept.iter().map(|&at| row[at].clone()).collect())
        .collect();
    assert_eq!(expected.len(), 450);
    assert_eq!(table(&files["concerns.csv"]), expected);
    assert!(!pack_header.iter().any(|h| h.starts_with("contact")));

    let evidence = table(&files["evidence_by_quality_statement.csv"]);
    let evidence_header = header(&files["evidence_by_quality_statement.csv"]);
    let id = evidence_header.iter().position(|h| h == "id").unwrap();
    assert_eq!(evidence_header[0], "quality_statement_id");
    assert_eq!(evidence.len(), 900);
    let keys: Vec<(&str, &str)> = evidence
        .iter()
        .map(|row| (row[0].as_str(), row[id].as_str()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(keys, sorted, "in the statements' order, each line once");
    assert_eq!(keys[0].0, "safe.medicines_optimisation");
    assert_eq!(keys[899].0, "safe.safeguarding");

    assert!(!files["evidence_by_quality_statement.csv"].contains(&archived));

    // Each plan's action, in the plans' order, across the plans' pages.
    let plans = table(&files["improvement_plans.csv"]);
    let actions = table(&files["plan_actions.csv"]);
    let plan_id = header(&files["improvement_plans.csv"])
        .iter()
        .position(|h| h == "id")
        .unwrap();
    let action_plan = header(&files["plan_actions.csv"])
        .iter()
        .position(|h| h == "plan_id")
        .unwrap();
    assert_eq!(plans.len(), 210);
    let of_plans: Vec<&str> = plans.iter().map(|row| row[plan_id].as_str()).collect();
    let of_actions: Vec<&str> = actions
        .iter()
        .map(|row| row[action_plan].as_str())
        .collect();
    assert_eq!(of_actions, of_plans);

    let readme = &files["README.txt"];
    assert!(readme.contains("concerns.csv (450 rows)"), "{readme}");
    assert!(readme.contains("plan_actions.csv (210 rows)"), "{readme}");
    assert!(
        readme.contains("evidence_by_quality_statement.csv (900 rows)"),
        "{readme}"
    );
}

/// A long read run as one snapshot (the pack) sees the database as it stood when it began,
/// whatever is written meanwhile, so that its files agree with each other.
#[actix_web::test]
async fn a_long_read_as_one_snapshot_sees_nothing_written_meanwhile() {
    let app = TestApp::new().await;
    app.raise(&app.staff, json!({})).await;
    let (read_once, first_read) = tokio::sync::oneshot::channel();
    let (go_on, written) = std::sync::mpsc::channel::<()>();
    let db = app.db.clone();
    let read = actix_web::rt::spawn(async move {
        db.run_long(move |conn| {
            as_one_snapshot(conn, |conn| {
                let before = count_rows(conn, "concerns");
                read_once.send(()).ok();
                written.recv().ok();
                Ok((before, count_rows(conn, "concerns")))
            })
        })
        .await
    });
    first_read.await.expect("the first read");
    app.raise(&app.staff, json!({})).await;
    go_on.send(()).expect("the read waits");
    let counts = read.await.expect("the read").expect("its counts");
    assert_eq!(counts, (1, 1), "the concern raised meanwhile is not seen");
    assert_eq!(app.count("concerns"), 2);
}

/// The long reads (packs, CSV exports, insights) have connections and threads of their own.
/// While every one of them is busy, a request's reads and writes still answer at once, and
/// further long reads wait for their turn, counted as waiting, then answer as they would have.
#[actix_web::test]
async fn long_reads_wait_for_their_own_turn_and_hold_up_no_request() {
    use actix_web::rt::time::timeout;
    use std::time::Duration;

    let app = TestApp::new().await;
    let concern = app.raise(&app.staff, json!({})).await;
    // Both of the test pool's long-read connections, held until released.
    let (releases, held) = hold_connections(2, |work| {
        let db = app.db.clone();
        async move { db.run_long(work).await }
    })
    .await;

    let export = TestApp::request(Method::GET, "/v1/concerns", Some(&app.manager))
        .insert_header(("Accept", "text/csv"));
    let mut export = Box::pin(app.exchange(export));
    let pack = TestApp::request(
        Method::GET,
        "/v1/exports/inspection-pack",
        Some(&app.manager),
    );
    let mut pack = Box::pin(app.exchange(pack));
    let mut insights = Box::pin(app.get(&app.manager, "/v1/insights/concerns"));
    let moment = Duration::from_millis(200);
    assert!(
        timeout(moment, &mut export).await.is_err(),
        "the export waits"
    );
    assert!(timeout(moment, &mut pack).await.is_err(), "the pack waits");
    assert!(
        timeout(moment, &mut insights).await.is_err(),
        "the insights wait"
    );
    assert_eq!(app.db.waiting(), 3);

    let at_once = Duration::from_secs(5);
    let one = format!("/v1/concerns/{concern}");
    let read = timeout(at_once, app.get(&app.manager, &one));
    read.await.expect("a read answers at once").expect(200);
    let list = timeout(at_once, app.get(&app.manager, "/v1/concerns?limit=50"));
    let list = list.await.expect("a list answers at once").expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    let write = timeout(at_once, app.raise(&app.staff, json!({})));
    let second = write.await.expect("a write answers at once");

    for release in releases {
        release.send(()).expect("the long read is waiting");
    }
    for long_read in held {
        long_read.await.expect("ran").expect("a long read's answer");
    }
    let (status, _, body) = export.await;
    assert_eq!(status, 200);
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(&body[..])
        .records()
        .map(|row| row.expect("a CSV row"))
        .collect();
    let mut ids: Vec<&str> = rows.iter().map(|row| &row[0]).collect();
    ids.sort_unstable();
    let mut expected = [concern.as_str(), second.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected, "the export read when its turn came");
    let (status, headers, _) = pack.await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("content-type").unwrap(), "application/zip");
    let insights = insights.await.expect(200);
    assert!(insights.body.is_object(), "{}", insights.body);
    assert_eq!(app.db.waiting(), 0);
}
