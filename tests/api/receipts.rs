//! Anonymous concerns and their receipts: no identity anywhere, a code that works once shown.

use std::net::SocketAddr;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use careloop::auth::Role;
use chrono::{DateTime, Timelike, Utc};
use serde_json::json;

use crate::helpers::{
    claims, dump_everything, log_capture, sign, texts, TestApp, RECEIPT_ATTEMPTS,
};

/// Raises an anonymous concern as a staff member with a unique sub, name and request id;
/// answers the creation's response and those three identifying strings.
async fn raise_anonymously(app: &TestApp) -> (crate::helpers::Response, [String; 3]) {
    let unique = uuid::Uuid::now_v7().simple().to_string();
    let sub = format!("raiser-{unique}");
    let name = format!("Jo Whistle {unique}");
    let request_id = format!("req-{unique}");
    let mut raiser = claims(&app.org, &[Role::Staff], &sub);
    raiser.name = Some(name.clone());
    let response = app
        .send(
            TestRequest::post()
                .uri("/v1/concerns")
                .peer_addr(SocketAddr::from(([10, 1, 2, 3], 5555)))
                .insert_header(("Authorization", format!("Bearer {}", sign(&raiser))))
                .insert_header(("x-request-id", request_id.clone()))
                .insert_header(("Idempotency-Key", format!("idem-{unique}")))
                .set_json(json!({
                    "title": "Residents shouted at on nights",
                    "description": "Two night staff shout at residents who call for help.",
                    "category": "whistleblowing",
                    "risk": "high",
                    "location_id": app.location,
                    "anonymous": true
                })),
        )
        .await
        .expect(201);
    assert_eq!(response.header("x-request-id"), Some(request_id.as_str()));
    (response, [sub, name, request_id])
}

/// A request carrying a receipt code as its credential.
fn by_receipt(method: Method, path: &str, code: &str) -> TestRequest {
    TestRequest::default()
        .method(method)
        .uri(path)
        .insert_header(("Authorization", format!("Receipt {code}")))
}

#[actix_web::test]
async fn an_anonymous_concern_leaves_no_identity_anywhere() {
    let app = TestApp::new().await;
    let (created, identifying) = raise_anonymously(&app).await;
    let code = created.body["receipt_code"]
        .as_str()
        .expect("a receipt code")
        .to_owned();
    assert_eq!(created.body["anonymous"], true);
    assert_eq!(
        created.body["raised_by"],
        json!({"kind": "anonymous", "sub": null, "name": null})
    );
    assert_eq!(created.body["confidential"], true);
    // At least 128 bits: 32 hex digits.
    assert_eq!(code.replace('-', "").len(), 32);

    // The team works the concern and the raiser writes back, so every table has rows for it.
    let id = created.id();
    app.move_to(
        &id,
        json!({"to": "acknowledged", "note": "Thank you", "visibility": "raiser"}),
    )
    .await;
    app.send(
        by_receipt(Method::POST, "/v1/receipt/messages", &code)
            .set_json(json!({"body": "Still happening"})),
    )
    .await
    .expect(201);

    let everything = app.with_conn(dump_everything);
    assert!(
        everything.contains(&id),
        "the dump must include the concern itself"
    );
    // The Idempotency-Key is kept only hashed (with the sender), so it cannot be matched either.
    let key = identifying[2].replace("req-", "idem-");
    for needle in
        identifying
            .iter()
            .map(String::as_str)
            .chain(["10.1.2.3", code.as_str(), key.as_str()])
    {
        assert!(
            !everything.contains(needle),
            "{needle:?} is stored somewhere"
        );
    }
    assert!(!everything.contains(&code.replace('-', "")));
    for needle in identifying.iter().chain([&code]) {
        assert!(!log_capture::contains(needle), "{needle:?} reached the log");
    }
    // The audit trail records the creation, by nobody in particular.
    let audit = app
        .get(
            &app.admin,
            &format!("/v1/audit-events?resource_type=concern&resource_id={id}"),
        )
        .await
        .expect(200);
    assert_eq!(audit.body["items"][0]["action"], "create");
    assert_eq!(
        audit.body["items"][0]["actor"],
        json!({"kind": "anonymous", "sub": null, "name": null})
    );

    // Of when the raiser acted careloop keeps only the hour: the concern's time, its id, the
    // audit events and the timeline entries of the raiser.
    let on_the_hour = |time: &serde_json::Value| {
        let time: DateTime<Utc> = time.as_str().expect("a time").parse().expect("RFC 3339");
        (time.minute(), time.second(), time.nanosecond()) == (0, 0, 0)
    };
    let id_on_the_hour = |id: &str| {
        let (seconds, nanos) = uuid::Uuid::parse_str(id)
            .expect("a UUID")
            .get_timestamp()
            .expect("a v7 id")
            .to_unix();
        seconds % 3600 == 0 && nanos == 0
    };
    let concern = app
        .get(&app.manager, &format!("/v1/concerns/{id}"))
        .await
        .expect(200);
    assert!(on_the_hour(&concern.body["created_at"]), "{}", concern.body);
    assert!(id_on_the_hour(&id));
    let events = app
        .get(&app.admin, "/v1/audit-events?limit=200")
        .await
        .expect(200);
    let anonymous: Vec<_> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"]["kind"] == "anonymous")
        .collect();
    assert_eq!(
        anonymous.len(),
        2,
        "the raise and the message: {}",
        events.body
    );
    for event in anonymous {
        assert!(on_the_hour(&event["created_at"]), "{event}");
        assert!(id_on_the_hour(event["id"].as_str().unwrap()), "{event}");
    }
    let timeline = app
        .get(&app.manager, &format!("/v1/concerns/{id}/updates"))
        .await
        .expect(200);
    let from_raiser: Vec<_> = timeline.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["by_raiser"] == true)
        .collect();
    assert_eq!(from_raiser.len(), 1);
    assert!(on_the_hour(&from_raiser[0]["created_at"]));

    // And in the tables: every time stored of what the raiser did is on the hour.
    let stored = app.with_conn(|conn| {
        let mut times = Vec::new();
        for sql in [
            format!("SELECT CAST(created_at AS TEXT) AS text FROM concerns WHERE id = '{id}'"),
            "SELECT CAST(created_at AS TEXT) AS text FROM audit_events WHERE actor_kind = 'anonymous'"
                .to_owned(),
            "SELECT CAST(created_at AS TEXT) AS text FROM concern_updates WHERE by_raiser"
                .to_owned(),
            "SELECT CAST(created_at AS TEXT) AS text FROM idempotency_keys \
             WHERE scope IN ('anonymous', 'receipt')"
                .to_owned(),
        ] {
            times.extend(texts(conn, &sql));
        }
        times
    });
    assert_eq!(stored.len(), 5, "{stored:?}");
    for time in stored {
        assert!(time.ends_with(":00:00"), "{time} is finer than the hour");
    }

    // Nobody can see it as theirs: not even the raiser's own token.
    let raiser = sign(&claims(&app.org, &[Role::Staff], &identifying[0]));
    app.get(&raiser, &format!("/v1/concerns/{id}"))
        .await
        .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn the_receipt_is_shown_once_and_never_replayed() {
    let app = TestApp::new().await;
    let body = json!({"title": "t", "description": "d", "category": "culture", "risk": "low",
                      "location_id": app.location, "anonymous": true});
    let request = || app.post_keyed(&app.staff, "/v1/concerns", "retry-me", body.clone());
    let first = request().await.expect(201);
    assert!(first.body["receipt_code"].is_string());
    let replay = request().await.expect(201);
    assert_eq!(replay.id(), first.id());
    assert!(replay.body["receipt_code"].is_null());
    assert_eq!(app.count("concerns"), 1);
    let read = app
        .get(&app.manager, &format!("/v1/concerns/{}", first.id()))
        .await
        .expect(200);
    assert!(read.body["receipt_code"].is_null());
}

#[actix_web::test]
async fn the_raiser_follows_the_concern_and_writes_back_with_the_code() {
    let app = TestApp::new().await;
    let (created, _) = raise_anonymously(&app).await;
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let id = created.id();
    let code = created.body["receipt_code"].as_str().unwrap().to_owned();

    let fresh = app
        .send(by_receipt(Method::GET, "/v1/receipt", &code))
        .await
        .expect(200);
    assert_eq!(fresh.header("cache-control"), Some("no-store"));
    assert_eq!(fresh.body["status"], "raised");
    assert_eq!(fresh.body["title"], "Residents shouted at on nights");
    let thread = app
        .send(by_receipt(Method::GET, "/v1/receipt/messages", &code))
        .await
        .expect(200);
    assert_eq!(thread.body["items"], json!([]));

    app.post(
        &app.manager,
        &format!("/v1/concerns/{id}/updates"),
        json!({"body": "Names of staff on shift"}),
    )
    .await
    .expect(201);
    app.move_to(
        &id,
        json!({"to": "acknowledged", "note": "We are looking into this", "visibility": "raiser"}),
    )
    .await;
    let message = app
        .send(
            by_receipt(Method::POST, "/v1/receipt/messages", &code)
                .set_json(json!({"body": "It happened again"})),
        )
        .await
        .expect(201);
    assert_eq!(message.header("cache-control"), Some("no-store"));
    assert_eq!(message.body["by_raiser"], true);
    assert!(message.header("location").is_none());
    app.move_to(&id, json!({"to": "investigating"})).await;
    app.move_to(
        &id,
        json!({"to": "resolved", "outcome": "Both staff retrained; night spot checks started"}),
    )
    .await;

    // Codes are forgiving about case, spaces and dashes.
    let loose = code.to_uppercase().replace('-', "");
    let receipt = app
        .send(by_receipt(Method::GET, "/v1/receipt", &loose))
        .await
        .expect(200);
    assert_eq!(receipt.body["status"], "resolved");
    assert_eq!(
        receipt.body["outcome"],
        "Both staff retrained; night spot checks started"
    );
    // The thread, a page at a time: the internal note and the transitions not shared with the
    // raiser stay hidden, and authors are never shown.
    let first = app
        .send(by_receipt(
            Method::GET,
            "/v1/receipt/messages?limit=1",
            &code,
        ))
        .await
        .expect(200);
    assert_eq!(first.header("cache-control"), Some("no-store"));
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let second = app
        .send(by_receipt(
            Method::GET,
            &format!("/v1/receipt/messages?limit=1&cursor={cursor}"),
            &code,
        ))
        .await
        .expect(200);
    assert_eq!(second.body["next_cursor"], json!(null));
    let updates: Vec<_> = [
        first.body["items"][0].clone(),
        second.body["items"][0].clone(),
    ]
    .to_vec();
    let bodies: Vec<_> = updates.iter().map(|u| u["body"].clone()).collect();
    assert_eq!(
        bodies,
        vec![
            json!("We are looking into this"),
            json!("It happened again")
        ]
    );
    assert!(updates.iter().all(|u| u.get("author").is_none()));

    // The team sees the raiser's message, with no author.
    let timeline = app
        .get(&app.manager, &format!("/v1/concerns/{id}/updates"))
        .await
        .expect(200);
    let from_raiser = timeline.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["kind"] == "message")
        .expect("the raiser's message")
        .clone();
    assert_eq!(
        from_raiser["author"],
        json!({"kind": "anonymous", "sub": null, "name": null})
    );
    assert_eq!(from_raiser["by_raiser"], true);

    for bad in [json!({"body": " "}), json!({"text": "x"})] {
        app.send(by_receipt(Method::POST, "/v1/receipt/messages", &code).set_json(bad))
            .await
            .expect_problem(422, "validation_failed");
    }
}

#[actix_web::test]
async fn the_code_is_a_credential_in_a_header() {
    let app = TestApp::new().await;
    let (created, _) = raise_anonymously(&app).await;
    let code = created.body["receipt_code"].as_str().unwrap().to_owned();
    for path in ["/v1/receipt", "/v1/receipt/messages"] {
        let missing = app
            .call(Method::GET, path, None, None)
            .await
            .expect_problem(401, "unauthorized");
        assert_eq!(
            missing.header("www-authenticate"),
            Some("Receipt realm=\"careloop\"")
        );
        // A bearer token is not a receipt.
        app.get(&app.manager, path)
            .await
            .expect_problem(401, "unauthorized");
    }
    // The old address, with the code in the path, is gone.
    app.call(Method::GET, &format!("/v1/receipts/{code}"), None, None)
        .await
        .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn wrong_codes_are_404_then_429_but_a_right_code_always_opens() {
    let app = TestApp::new().await;
    let (created, _) = raise_anonymously(&app).await;
    let code = created.body["receipt_code"].as_str().unwrap().to_owned();
    let from = |ip: [u8; 4], code: &str| {
        by_receipt(Method::GET, "/v1/receipt", code).peer_addr(SocketAddr::from((ip, 1234)))
    };

    let guesser = [192, 0, 2, 1];
    for attempt in 0..RECEIPT_ATTEMPTS {
        let guess = if attempt % 2 == 0 {
            uuid::Uuid::now_v7().simple().to_string()
        } else {
            "not-even-a-code".to_owned()
        };
        app.send(from(guesser, &guess))
            .await
            .expect_problem(404, "not_found");
    }
    let limited = app
        .send(from(guesser, "0000-0000-0000-0000-0000-0000-0000-0000"))
        .await
        .expect_problem(429, "too_many_requests");
    // The rest of the minute that began with the first guess, moments ago.
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((50..=60).contains(&retry_after), "{retry_after}");
    // A right code is never refused, even from the guesser's address (a shared proxy, say).
    app.send(from(guesser, &code)).await.expect(200);
    app.send(
        by_receipt(Method::POST, "/v1/receipt/messages", &code)
            .peer_addr(SocketAddr::from((guesser, 1234)))
            .set_json(json!({"body": "hello"})),
    )
    .await
    .expect(201);
    app.send(from([192, 0, 2, 2], &code)).await.expect(200);
}

#[actix_web::test]
async fn a_receipt_holder_sends_a_bounded_number_of_messages_a_day() {
    let app = TestApp::new().await;
    let (created, _) = raise_anonymously(&app).await;
    let code = created.body["receipt_code"].as_str().unwrap().to_owned();
    let send = |n: usize| {
        app.send(
            by_receipt(Method::POST, "/v1/receipt/messages", &code)
                .set_json(json!({"body": format!("Message {n}")})),
        )
    };
    for n in 0..careloop::domain::receipt::MESSAGES_PER_DAY as usize {
        send(n).await.expect(201);
    }
    let refused = send(99).await.expect_problem(429, "too_many_requests");
    assert!(refused.header("retry-after").is_some());
    assert_eq!(
        app.count("concern_updates"),
        careloop::domain::receipt::MESSAGES_PER_DAY
    );
}

#[actix_web::test]
async fn two_anonymous_raisers_never_share_an_idempotency_key() {
    let app = TestApp::new().await;
    let body = json!({"title": "t", "description": "d", "category": "culture", "risk": "low",
                      "location_id": app.location, "anonymous": true});
    let other = sign(&claims(&app.org, &[Role::Staff], "another-carer"));
    let first = app
        .post_keyed(&app.staff, "/v1/concerns", "same-key", body.clone())
        .await
        .expect(201);
    let second = app
        .post_keyed(&other, "/v1/concerns", "same-key", body.clone())
        .await
        .expect(201);
    assert_ne!(first.id(), second.id());
    assert_eq!(second.header("idempotent-replayed"), None);
    assert!(second.body["receipt_code"].is_string());
    assert_eq!(app.count("concerns"), 2);
}

#[actix_web::test]
async fn idempotency_keys_are_forgotten_after_a_day() {
    let app = TestApp::new().await;
    let body = json!({"title": "t", "description": "d", "category": "culture", "risk": "low",
                      "location_id": app.location});
    app.post_keyed(&app.staff, "/v1/concerns", "old-key", body.clone())
        .await
        .expect(201);
    assert_eq!(app.count("idempotency_keys"), 1);
    app.with_conn(|conn| {
        use diesel::connection::SimpleConnection;
        conn.batch_execute("UPDATE idempotency_keys SET created_at = '2020-01-01 00:00:00'")
            .unwrap()
    });
    // Any keyed request purges what is older than a day; the old key then works afresh.
    let again = app
        .post_keyed(&app.staff, "/v1/concerns", "old-key", body)
        .await
        .expect(201);
    assert_eq!(again.header("idempotent-replayed"), None);
    assert_eq!(app.count("idempotency_keys"), 1);
    assert_eq!(app.count("concerns"), 2);
}

#[actix_web::test]
async fn a_sync_by_updated_since_never_misses_an_anonymous_concern() {
    let app = TestApp::new().await;
    let before = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let (created, _) = raise_anonymously(&app).await;
    // Dated to the hour it was raised in, and changed as of the end of that hour.
    let id = created.id();
    let since = app
        .get(
            &app.manager,
            &format!("/v1/concerns?updated_since={}", before.replace('+', "%2B")),
        )
        .await
        .expect(200);
    let ids: Vec<_> = since.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.contains(&id), "{ids:?}");
    let raised: DateTime<Utc> = created.body["created_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let changed: DateTime<Utc> = created.body["updated_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(changed - raised, chrono::Duration::hours(1));
}
