//! Webhooks: signed deliveries of what the endpoint's scope may read, retries, two nodes, the
//! failing endpoint disabled, rotation, the test ping, and where careloop refuses to deliver.
//! Every delivery goes to a receiver this test starts on 127.0.0.1.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use careloop::api::webhooks::sender::Sender;
use careloop::background::{deliver_webhooks, webhook_round};
use serde_json::{json, Value};

use crate::helpers::{test_signer, test_verifier, TestApp, RATE_LIMIT, SECRET};

/// A message the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: actix_web::http::header::HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// Verified as the Standard Webhooks library verifies it (not careloop's code).
    fn verifies_with(&self, secret: &str) -> bool {
        let mut headers = http::HeaderMap::new();
        for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            headers.insert(name, self.header(name).parse().unwrap());
        }
        standardwebhooks::Webhook::new(secret)
            .unwrap()
            .verify(&self.body, &headers)
            .is_ok()
    }
}

/// A receiver on 127.0.0.1: it records what it gets at `/hook` and answers each message with
/// the next status queued (200 once they run out; `HANG` never answers).
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
    redirected: Arc<Mutex<usize>>,
}

impl Receiver {
    async fn start() -> Self {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let answers: Arc<Mutex<VecDeque<u16>>> = Arc::default();
        let redirected: Arc<Mutex<usize>> = Arc::default();
        let (g, a, r) = (got.clone(), answers.clone(), redirected.clone());
        let server = HttpServer::new(move || {
            let (g, a, r) = (g.clone(), a.clone(), r.clone());
            App::new()
                .route(
                    "/hook",
                    web::post().to(move |req: HttpRequest, body: web::Bytes| {
                        let (g, a) = (g.clone(), a.clone());
                        async move {
                            g.lock().unwrap().push(Received {
                                headers: req.headers().clone(),
                                body: body.to_vec(),
                            });
                            let status = a.lock().unwrap().pop_front().unwrap_or(200);
                            if status == HANG {
                                actix_web::rt::time::sleep(std::time::Duration::from_secs(600))
                                    .await;
                            }
                            let mut answer = HttpResponse::build(
                                actix_web::http::StatusCode::from_u16(status).unwrap(),
                            );
                            if status == 307 {
                                answer.insert_header(("location", "/elsewhere"));
                            }
                            // A long answer, of which careloop reads only the start.
                            answer.body(vec![b'x'; 256 * 1024])
                        }
                    }),
                )
                .route(
                    "/elsewhere",
                    web::post().to(move || {
                        let r = r.clone();
                        async move {
                            *r.lock().unwrap() += 1;
                            HttpResponse::Ok().finish()
                        }
                    }),
                )
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        actix_web::rt::spawn(server.run());
        Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            got,
            answers,
            redirected,
        }
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn answer_next(&self, statuses: &[u16]) {
        self.answers.lock().unwrap().extend(statuses);
    }
}

/// The receiver's answer that never comes.
const HANG: u16 = 0;

const HOURS_72: i64 = 72;

/// One round of the webhook worker, as the node `node`.
async fn round(app: &TestApp, node: &str) -> usize {
    webhook_round(
        &app.db,
        &Sender::new(true).unwrap(),
        node,
        chrono::Duration::hours(HOURS_72),
    )
    .await
    .unwrap()
    .sent
}

/// Subscribes the receiver: the endpoint's id and secret.
async fn subscribe(app: &TestApp, receiver: &Receiver, extra: Value) -> (String, String) {
    let mut body = json!({"url": receiver.url, "event_types": ["*"], "scope": ["integration"]});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let made = app.post(&app.admin, "/v1/webhooks", body).await.expect(201);
    assert_eq!(made.header("cache-control"), Some("no-store"));
    let secret = made.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    (made.id(), secret)
}

async fn deliveries(app: &TestApp, webhook: &str) -> Vec<Value> {
    app.get(
        &app.admin,
        &format!("/v1/webhooks/{webhook}/deliveries?limit=200"),
    )
    .await
    .expect(200)
    .body["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[actix_web::test]
async fn an_endpoint_gets_signed_changes_its_scope_may_read() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    let (webhook, secret) = subscribe(
        &app,
        &receiver,
        json!({"event_types": ["concern.created", "action.completed"]}),
    )
    .await;
    let confidential = app
        .raise(&app.manager, json!({"category": "whistleblowing"}))
        .await;
    let plain = app.raise(&app.staff, json!({})).await;
    // A move the workflow refuses changes nothing, so nothing is sent of it.
    app.post(
        &app.manager,
        &format!("/v1/concerns/{plain}/transitions"),
        json!({"to": "closed"}),
    )
    .await
    .expect_problem(409, "illegal_transition");
    assert_eq!(round(&app, "node-a").await, 1);

    let got = receiver.got();
    assert_eq!(
        got.len(),
        1,
        "the confidential concern is not the scope's to read"
    );
    let message = &got[0];
    assert!(message.verifies_with(&secret));
    assert!(!message.verifies_with("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    let event = message.json();
    assert_eq!(event["type"], "concern.created");
    assert_eq!(event["data"]["id"], plain.as_str());
    assert_eq!(event["data"]["record"]["id"], plain.as_str());
    assert!(!String::from_utf8_lossy(&message.body).contains(&confidential));
    let listed = deliveries(&app, &webhook).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], message.header("webhook-id").as_str());
    assert_eq!(listed[0]["status"], "succeeded");
    assert_eq!(listed[0]["attempt"], 1);
    assert_eq!(listed[0]["response_status"], 200);
    assert_eq!(listed[0]["next_attempt_at"], Value::Null);

    // An action completed is `action.completed`; its other moves are not subscribed to.
    let plan = crate::improvement::new_plan(&app, json!({})).await;
    crate::improvement::move_plan(&app, &plan, json!({"to": "active"}))
        .await
        .expect(200);
    let action = crate::improvement::new_action(&app, &plan, "user-staff").await;
    crate::improvement::move_action(
        &app,
        &app.manager,
        &plan,
        &action,
        json!({"to": "in_progress"}),
    )
    .await
    .expect(200);
    crate::improvement::move_action(
        &app,
        &app.manager,
        &plan,
        &action,
        json!({"to": "done", "completion_note": "Second carer on the rota"}),
    )
    .await
    .expect(200);
    assert_eq!(round(&app, "node-a").await, 1);
    let event = receiver.got()[1].json();
    assert_eq!(event["type"], "action.completed");
    assert_eq!(event["data"]["record"]["status"], "done");
}

/// An endpoint receives what changes after it is made: a change made before it and still
/// waiting for its number (on PostgreSQL, until a reader or the background's round numbers it)
/// is numbered below the endpoint's starting point, and never sent to it.
#[actix_web::test]
async fn an_endpoint_gets_only_what_changes_after_it_is_made() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    app.raise(&app.staff, json!({"title": "Before the endpoint"}))
        .await;
    subscribe(&app, &receiver, json!({"event_types": ["concern.created"]})).await;
    let after = app.raise(&app.staff, json!({})).await;
    assert_eq!(round(&app, "node-a").await, 1);
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["data"]["id"], after.as_str());
}

#[actix_web::test]
async fn a_failed_attempt_is_tried_again_later_or_now_on_request() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    let (webhook, _) = subscribe(&app, &receiver, json!({})).await;
    receiver.answer_next(&[503, 307]);
    app.raise(&app.manager, json!({})).await;
    round(&app, "node-a").await;
    let first = deliveries(&app, &webhook).await.remove(0);
    assert_eq!(first["status"], "pending");
    assert_eq!(first["response_status"], 503);
    let next: chrono::DateTime<chrono::Utc> =
        first["next_attempt_at"].as_str().unwrap().parse().unwrap();
    let wait = next - chrono::Utc::now();
    assert!(
        wait > chrono::Duration::seconds(2) && wait <= chrono::Duration::seconds(6),
        "{wait}"
    );
    // Not due yet: nothing is sent.
    assert_eq!(round(&app, "node-a").await, 0);

    // Retried now: a redirect is an answer careloop does not follow.
    let id = first["id"].as_str().unwrap();
    let retried = app
        .post(
            &app.admin,
            &format!("/v1/webhooks/{webhook}/deliveries/{id}/retry"),
            json!({}),
        )
        .await
        .expect(202);
    assert_eq!(retried.body["status"], "pending");
    assert_eq!(round(&app, "node-a").await, 1);
    assert_eq!(
        *receiver.redirected.lock().unwrap(),
        0,
        "no redirect followed"
    );
    let second = deliveries(&app, &webhook).await.remove(0);
    assert_eq!(second["response_status"], 307);
    assert_eq!(second["status"], "pending");
    app.post(
        &app.admin,
        &format!("/v1/webhooks/{webhook}/deliveries/{id}/retry"),
        json!({}),
    )
    .await
    .expect(202);
    round(&app, "node-a").await;
    let third = deliveries(&app, &webhook).await.remove(0);
    assert_eq!(third["status"], "succeeded");
    // Every attempt was the same message.
    let ids: HashSet<String> = receiver
        .got()
        .iter()
        .map(|m| m.header("webhook-id"))
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(receiver.got().len(), 3);
    app.post(
        &app.admin,
        &format!(
            "/v1/webhooks/{webhook}/deliveries/{}/retry",
            crate::helpers::nothing_id()
        ),
        json!({}),
    )
    .await
    .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn two_nodes_never_send_the_same_attempt() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    subscribe(&app, &receiver, json!({"event_types": ["concern.created"]})).await;
    for _ in 0..20 {
        app.raise(&app.manager, json!({})).await;
    }
    let (a, b) = futures_util::join!(round(&app, "node-a"), round(&app, "node-b"));
    assert_eq!(a + b, 20, "{a} + {b}");
    let got = receiver.got();
    let ids: HashSet<String> = got.iter().map(|m| m.header("webhook-id")).collect();
    assert_eq!((got.len(), ids.len()), (20, 20), "each message once");
    let records: HashSet<String> = got
        .iter()
        .map(|m| m.json()["data"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(records.len(), 20);
    assert!(got
        .iter()
        .all(|m| m.header("user-agent").starts_with("careloop-webhooks/")));
    // One node at a time sends an endpoint's messages: in the feed's order.
    assert!(a == 0 || b == 0, "{a} and {b}");
    let cursors: Vec<String> = got
        .iter()
        .map(|m| m.json()["data"]["cursor"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = cursors.clone();
    sorted.sort();
    assert_eq!(cursors, sorted);
}

#[actix_web::test]
async fn a_node_stopping_hands_its_deliveries_back_at_once() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    let (webhook, _) =
        subscribe(&app, &receiver, json!({"event_types": ["concern.created"]})).await;
    receiver.answer_next(&[HANG]);
    for _ in 0..3 {
        app.raise(&app.manager, json!({})).await;
    }
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let worker = actix_web::rt::spawn(deliver_webhooks(
        app.db.clone(),
        Sender::new(true).unwrap(),
        72,
        stopping,
    ));
    // The worker has claimed the three and waits on the first.
    let waited = std::time::Instant::now();
    while receiver.got().is_empty() {
        assert!(waited.elapsed().as_secs() < 10, "nothing was sent");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(round(&app, "node-b").await, 0, "leased to the first node");
    stop.send_replace(true);
    actix_web::rt::time::timeout(std::time::Duration::from_secs(5), worker)
        .await
        .expect("the worker stops at once, mid-send")
        .unwrap();
    // Another node takes all three up now, not when the leases run out; the one cut off
    // mid-send goes again with its `webhook-id`, as receivers expect.
    assert_eq!(round(&app, "node-b").await, 3);
    let got = receiver.got();
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    let statuses: Vec<String> = deliveries(&app, &webhook)
        .await
        .iter()
        .map(|d| d["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["succeeded", "succeeded", "succeeded"]);
}

#[actix_web::test]
async fn after_a_failed_message_the_rest_wait_for_the_next_round() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    let (webhook, _) =
        subscribe(&app, &receiver, json!({"event_types": ["concern.created"]})).await;
    receiver.answer_next(&[200, 503]);
    for _ in 0..3 {
        app.raise(&app.manager, json!({})).await;
    }
    assert_eq!(round(&app, "node-a").await, 3, "claimed");
    assert_eq!(receiver.got().len(), 2, "the third waited");
    round(&app, "node-b").await;
    assert_eq!(receiver.got().len(), 3, "another node takes it up");
    let statuses: Vec<String> = deliveries(&app, &webhook)
        .await
        .iter()
        .map(|d| d["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["succeeded", "pending", "succeeded"]);
}

#[actix_web::test]
async fn an_endpoint_failing_for_days_is_disabled_and_audited() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    let (webhook, _) = subscribe(&app, &receiver, json!({})).await;
    receiver.answer_next(&[500; 10]);
    app.raise(&app.manager, json!({})).await;
    round(&app, "node-a").await;
    assert_eq!(
        app.get(&app.admin, &format!("/v1/webhooks/{webhook}"))
            .await
            .expect(200)
            .body["enabled"],
        true
    );
    // It has been failing since 73 hours ago.
    app.with_conn(|conn| {
        use diesel::RunQueryDsl;
        diesel::sql_query(format!(
            "UPDATE webhooks SET failing_since = '{}'",
            (chrono::Utc::now() - chrono::Duration::hours(HOURS_72 + 1))
                .format("%Y-%m-%d %H:%M:%S")
        ))
        .execute(conn)
        .unwrap();
    });
    round(&app, "node-a").await;
    let disabled = app
        .get(&app.admin, &format!("/v1/webhooks/{webhook}"))
        .await
        .expect(200);
    assert_eq!(disabled.body["enabled"], false);
    assert_eq!(disabled.body["disabled_reason"], "failing");
    let audit = app
        .get(
            &app.admin,
            &format!("/v1/audit-events?resource_id={webhook}"),
        )
        .await
        .expect(200);
    let last = audit.body["items"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["actor"]["kind"], "system");
    assert_eq!(
        last["changed_fields"],
        json!(["enabled", "disabled_reason"])
    );
    // Nothing is sent to a disabled endpoint; enabling it again resumes where it stopped.
    app.raise(&app.manager, json!({})).await;
    let sent = receiver.got().len();
    assert_eq!(round(&app, "node-a").await, 0);
    assert_eq!(receiver.got().len(), sent);
    let enabled = app
        .patch(
            &app.admin,
            &format!("/v1/webhooks/{webhook}"),
            json!({"enabled": true}),
        )
        .await
        .expect(200);
    assert_eq!(enabled.body["disabled_reason"], Value::Null);
    receiver.answers.lock().unwrap().clear();
    round(&app, "node-a").await;
    round(&app, "node-a").await;
    let types: Vec<String> = receiver.got()[sent..]
        .iter()
        .map(|m| m.json()["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types, ["concern.created"]);
}

#[actix_web::test]
async fn a_rotated_secret_signs_beside_the_new_one_and_a_ping_tests_the_endpoint() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    let (webhook, old) = subscribe(&app, &receiver, json!({})).await;
    let rotated = app
        .post(
            &app.admin,
            &format!("/v1/webhooks/{webhook}/rotate-secret"),
            json!({}),
        )
        .await
        .expect(200);
    let new = rotated.body["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    let read = app
        .get(&app.admin, &format!("/v1/webhooks/{webhook}"))
        .await
        .expect(200);
    assert_eq!(read.body["secret"], Value::Null);
    let queued = app
        .post(
            &app.admin,
            &format!("/v1/webhooks/{webhook}/test"),
            json!({}),
        )
        .await
        .expect(202);
    assert_eq!(queued.body["event_type"], "ping");
    round(&app, "node-a").await;
    let ping = &receiver.got()[0];
    assert_eq!(ping.json()["type"], "ping");
    assert_eq!(ping.json()["data"]["webhook_id"], webhook.as_str());
    assert_eq!(ping.header("webhook-signature").split(' ').count(), 2);
    assert!(ping.verifies_with(&new));
    assert!(ping.verifies_with(&old));
    // Deleted: nothing more is sent, and its deliveries are gone.
    app.call(
        actix_web::http::Method::DELETE,
        &format!("/v1/webhooks/{webhook}"),
        Some(&app.admin),
        None,
    )
    .await
    .expect(204);
    app.get(&app.admin, &format!("/v1/webhooks/{webhook}/deliveries"))
        .await
        .expect_problem(404, "not_found");
    assert_eq!(app.count("webhook_deliveries"), 0);
}

#[actix_web::test]
async fn careloop_refuses_to_deliver_inside_its_network_unless_allowed() {
    let app = TestApp::build(
        test_verifier().with_secret(SECRET),
        test_signer(),
        RATE_LIMIT,
        false,
    )
    .await;
    for (url, why) in [
        ("http://vendor.example/hook", "https://"),
        ("https://127.0.0.1/hook", "inside"),
        ("https://169.254.169.254/latest/meta-data", "inside"),
        ("https://[::1]/hook", "inside"),
        ("https://localhost:8443/hook", "inside"),
        ("https://user:secret@vendor.example/hook", "credentials"),
    ] {
        let refused = app
            .post(
                &app.admin,
                "/v1/webhooks",
                json!({"url": url, "event_types": ["*"], "scope": ["viewer"]}),
            )
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(refused.body["errors"][0]["field"], "url", "{url}");
        assert!(
            refused.body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(why),
            "{url}: {}",
            refused.body
        );
    }
    let refused = app
        .post(
            &app.admin,
            "/v1/webhooks",
            json!({"url": "https://vendor.example/hook", "event_types": ["concern.completed", "*"],
                   "scope": ["viewer"]}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(refused.body["errors"][0]["field"], "event_types[0]");
    assert_eq!(app.count("webhooks"), 0);
    app.post(
        &app.admin,
        "/v1/webhooks",
        json!({"url": "https://vendor.example/hook", "event_types": ["*"], "scope": ["viewer"]}),
    )
    .await
    .expect(201);

    // A name that resolves only inside the network is refused when sending, too.
    let receiver = Receiver::start().await;
    let sender = Sender::new(false).unwrap();
    let port = receiver
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let outcome = sender
        .send(
            &format!("https://localhost.:{port}/hook"),
            "msg",
            1,
            "v1,x",
            "{}".into(),
        )
        .await;
    assert_eq!(outcome.response_status, None);
    assert!(outcome.error.is_some());
    assert!(receiver.got().is_empty());
}

#[actix_web::test]
async fn each_attempt_carries_the_record_as_the_scope_reads_it_then() {
    let app = TestApp::new().await;
    let receiver = Receiver::start().await;
    let (webhook, _) = subscribe(&app, &receiver, json!({"event_types": ["concern.*"]})).await;
    receiver.answer_next(&[503]);
    let concern = app.raise(&app.manager, json!({})).await;
    round(&app, "node-a").await;
    assert_eq!(receiver.got().len(), 1);
    // Flagged confidential before the retry: the integration scope may no longer read it, so
    // neither the retry nor the change that flagged it is sent.
    app.patch(
        &app.manager,
        &format!("/v1/concerns/{concern}"),
        json!({"confidential": true}),
    )
    .await
    .expect(200);
    let first = deliveries(&app, &webhook).await.pop().unwrap();
    let id = first["id"].as_str().unwrap();
    app.post(
        &app.admin,
        &format!("/v1/webhooks/{webhook}/deliveries/{id}/retry"),
        json!({}),
    )
    .await
    .expect(202);
    round(&app, "node-a").await;
    assert_eq!(receiver.got().len(), 1, "nothing more was sent");
    let listed = deliveries(&app, &webhook).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "withdrawn");
    assert_eq!(listed[0]["next_attempt_at"], Value::Null);
    // Deliveries done with are dropped with the feed's retention.
    let dropped = app.with_conn(|conn| {
        careloop::api::webhooks::outbox::prune(
            conn,
            chrono::Duration::days(30),
            chrono::Utc::now() + chrono::Duration::days(31),
        )
        .unwrap()
    });
    assert_eq!(dropped, 1);
    assert_eq!(app.count("webhook_deliveries"), 0);
}
