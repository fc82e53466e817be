//! `/metrics`: what the requests and the pool record, labelled by route pattern and never by
//! a person, a record or a token subject.

use std::sync::OnceLock;

use careloop::db::Db;
use careloop::prometheus;
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;

use crate::helpers::{hold_connections, TestApp, TEST_POOL_SIZE};

/// The process's recorder (one per process: every test's requests record into it from then).
fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| prometheus::install().expect("the recorder installs"))
}

/// The recorder's exposition with `db`'s gauges. The gauges are the process's, as the recorder
/// is: one render at a time, so another test's render cannot set them to its own pool's between
/// this one's setting and rendering them.
async fn render(db: &Db) -> String {
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    prometheus::render(recorder(), db).await
}

#[actix_web::test]
async fn requests_and_the_pool_are_measured_by_route_pattern_and_nothing_names_a_record() {
    recorder();
    let app = TestApp::new().await;
    let concern = app.raise(&app.manager, json!({})).await;
    app.get(&app.manager, &format!("/v1/concerns/{concern}"))
        .await
        .expect(200);
    app.get(&app.manager, "/v1/concerns/not-a-uuid")
        .await
        .expect(422);
    let exposition = render(&app.db).await;
    for line in [
        r#"careloop_http_requests_total{method="POST",route="/v1/concerns",status="201"}"#,
        r#"careloop_http_requests_total{method="GET",route="/v1/concerns/{concern_id}",status="200"}"#,
        r#"careloop_http_requests_total{method="GET",route="/v1/concerns/{concern_id}",status="422"}"#,
        r#"careloop_http_request_duration_seconds_bucket{method="GET",route="/v1/concerns/{concern_id}",le="0.005"}"#,
        r#"careloop_db_pool_connections{state="in_use"}"#,
        r#"careloop_db_pool_connections{state="idle"}"#,
        "careloop_db_pool_waiting 0",
        "careloop_database_reachable 1",
        "careloop_change_feed_head",
        "careloop_webhook_queue_depth",
        "# TYPE careloop_http_request_duration_seconds histogram",
    ] {
        assert!(exposition.contains(line), "{line} is not in:\n{exposition}");
    }
    for secret in [
        concern.as_str(),
        "not-a-uuid",
        &app.org,
        &app.location,
        "user-manager",
        "Call bells",
    ] {
        assert!(!exposition.contains(secret), "{secret} is in the metrics");
    }
}

#[actix_web::test]
async fn a_client_cannot_grow_the_metrics_with_made_up_methods_or_paths() {
    recorder();
    let app = TestApp::new().await;
    for path in ["/made-up/one", "/made-up/two"] {
        let request = actix_web::test::TestRequest::default()
            .method(actix_web::http::Method::from_bytes(b"BREW").unwrap())
            .uri(path);
        app.send(request).await;
    }
    let exposition = render(&app.db).await;
    assert!(!exposition.contains("made-up"), "{exposition}");
    assert!(!exposition.contains("BREW"), "{exposition}");
    assert!(
        exposition.contains(r#"method="other",route="(no route)""#),
        "{exposition}"
    );
}

/// A request finding every pooled connection busy waits for one, counted in
/// `careloop_db_pool_waiting`, and answers once one is free.
#[actix_web::test]
async fn a_request_waits_its_turn_for_a_connection_and_is_counted_while_it_waits() {
    use actix_web::rt::time::timeout;
    use std::time::Duration;

    recorder();
    let app = TestApp::new().await;
    let concern = app.raise(&app.manager, json!({})).await;
    // Every connection of the test pool, held until released.
    let (releases, held) = hold_connections(TEST_POOL_SIZE, |work| {
        let db = app.db.clone();
        async move { db.run(work).await }
    })
    .await;
    let path = format!("/v1/concerns/{concern}");
    let mut read = Box::pin(app.get(&app.manager, &path));
    assert!(
        timeout(Duration::from_millis(200), &mut read)
            .await
            .is_err(),
        "the read waits"
    );
    // Counted once it has waited a moment (the pool is asked again every quarter second), which
    // on a machine busy with the rest of the suite has taken over 3 s.
    for _ in 0..100 {
        if app.db.waiting() == 1 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.db.waiting(), 1);
    let exposition = render(&app.db).await;
    assert!(
        exposition.contains("careloop_db_pool_waiting 1"),
        "{exposition}"
    );
    for release in releases {
        release.send(()).expect("the work is waiting");
    }
    for work in held {
        work.await.expect("ran").expect("the work's answer");
    }
    assert_eq!(read.await.expect(200).body["id"], concern.as_str());
    assert_eq!(app.db.waiting(), 0);
}
