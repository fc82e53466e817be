//! Speaking up safely: every read path of the document, walked as every role that may not see a
//! confidential concern (and as tokens limited to another location), never shows it, who raised
//! it, or what links to it.

use actix_web::http::Method;
use careloop::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{claims, operations, sign, takes_a_token, TestApp};

/// What the walk makes: a confidential concern and the records around it, all at `location`.
pub struct Scene {
    /// Strings that must never reach a caller who may not see the concern.
    secrets: Vec<String>,
    /// The ids of the other records at the concern's location, which a caller limited to
    /// another location must not see either.
    at_location: Vec<String>,
    pub concern: String,
    pub update: String,
    pub learning: String,
    pub evidence: String,
    pub plan: String,
    pub action: String,
    pub recognition: String,
    /// A self-assessment score citing the evidence.
    pub score: String,
    /// A review of the plan.
    pub review: String,
    /// A machine client, a webhook endpoint and its test delivery (admins' records).
    pub client: String,
    pub webhook: String,
    pub delivery: String,
    /// An import by the concern's raiser whose report names the concern.
    pub import: String,
    /// An intake point at the concern's location, and its slug.
    pub intake_point: String,
    pub slug: String,
    /// A compliment through it, awaiting approval (managers' and admins' alone until then).
    pub compliment: String,
}

impl Scene {
    /// Strings that must never reach a caller who may not see the concern.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }
}

pub async fn scene(app: &TestApp) -> Scene {
    let unique = uuid::Uuid::now_v7().simple().to_string();
    let sub = format!("raiser-{unique}");
    let name = format!("Raiser Name {unique}");
    let title = format!("SECRET {unique}");
    let external = format!("ext-{unique}");
    let mut raiser = claims(&app.org, &[Role::Manager], &sub);
    raiser.name = Some(name.clone());
    let raiser = sign(&raiser);
    let location = &app.location;
    let concern = app
        .post(
            &raiser,
            "/v1/concerns",
            json!({"title": title, "description": "Bruising seen on a resident's arms",
                   "category": "safeguarding", "risk": "high", "location_id": location,
                   "quality_statements": ["safe.safeguarding"],
                   "external_ref": {"system": "vendor", "id": external}}),
        )
        .await
        .expect(201);
    assert_eq!(concern.body["confidential"], true);
    let concern = concern.id();
    let update = app
        .post(
            &app.manager,
            &format!("/v1/concerns/{concern}/updates"),
            json!({"body": "Spoke to the night team"}),
        )
        .await
        .expect(201)
        .id();
    app.move_to(&concern, json!({"to": "acknowledged"})).await;
    let learning = app
        .post(
            &app.manager,
            "/v1/learning-events",
            json!({"kind": "supervision", "occurred_at": "2026-11-01T10:00:00Z", "title": "Supervision",
                   "location_id": location, "linked_records": [{"kind": "concern", "id": concern}],
                   "quality_statements": ["safe.safeguarding"], "lessons": ["Check arms at bathing"]}),
        )
        .await
        .expect(201)
        .id();
    let evidence = app
        .post(
            &app.manager,
            "/v1/evidence",
            json!({"source": "audit", "evidence_category": "processes",
                   "quality_statements": ["safe.safeguarding"], "title": "Body map audit",
                   "observed_at": "2026-11-01T10:00:00Z", "location_id": location,
                   "linked_records": [{"kind": "concern", "id": concern}], "metric": {"name": "falls", "value": 3.0}}),
        )
        .await
        .expect(201)
        .id();
    let plan = app
        .post(
            &app.manager,
            "/v1/improvement-plans",
            json!({"title": "Safeguarding plan", "objective": "o", "owner": {"sub": "user-manager"},
                   "priority": "high", "review_cadence": "monthly", "location_id": location,
                   "sources": [{"kind": "concern", "id": concern}]}),
        )
        .await
        .expect(201)
        .id();
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
            json!({"reviewed_on": "2026-11-20", "progress": "amber", "notes": "Body maps at handover"}),
        )
        .await
        .expect(201)
        .id();
    let action = app
        .post(
            &app.manager,
            &format!("/v1/improvement-plans/{plan}/actions"),
            json!({"description": "Body maps on admission", "owner": {"sub": "user-staff"}}),
        )
        .await
        .expect(201)
        .id();
    let recognition = app
        .post(
            &app.manager,
            "/v1/recognitions",
            json!({"kind": "thanks", "title": "Thank you", "recipients": ["Night team"], "from": "manager",
                   "occurred_on": "2026-11-02", "location_id": location,
                   "linked_records": [{"kind": "concern", "id": concern}]}),
        )
        .await
        .expect(201)
        .id();
    let score = app
        .post(
            &app.manager,
            &format!(
                "/v1/locations/{location}/self-assessments/cqc-saf-2024/quality-statements/safe.safeguarding/scores"
            ),
            json!({"score": 2, "rationale": "Body maps missing", "evidence": [{"kind": "evidence", "id": evidence}]}),
        )
        .await
        .expect(201)
        .id();
    let client = app.new_client().await;
    let (webhook, delivery) = app.new_webhook().await;
    // The raiser gives another concern of theirs the first one's reference by an import: the
    // report names the concern that holds it, as the single-record endpoint would tell them.
    let other = json!({"title": "Another", "description": "Another", "category": "safeguarding",
                       "risk": "high"});
    let other_id = app
        .post(&raiser, "/v1/concerns", other.clone())
        .await
        .expect(201)
        .id();
    let mut again = other;
    again["id"] = json!(other_id);
    again["external_ref"] = json!({"system": "vendor", "id": external});
    let import = app
        .send_raw(
            actix_web::http::Method::POST,
            "/v1/imports?kind=concerns",
            &raiser,
            &[("Content-Type", "application/json")],
            &json!([again]).to_string(),
        )
        .await
        .expect(201);
    assert!(
        import.body.to_string().contains(&concern),
        "{:#}",
        import.body
    );
    let import = import.id();
    // Through a public door: a compliment awaiting approval, and feedback and a concern with
    // contact details; only managers and admins see those, and the compliment until approved.
    let door = app
        .intake_point(&["feedback", "compliment", "concern"])
        .await;
    let (intake_point, slug) = (door.id(), door.body["slug"].as_str().unwrap().to_owned());
    let giver = format!("Giver {unique}");
    let contact = format!("07700 {unique}");
    app.submit(
        &slug,
        json!({"kind": "compliment", "for_whom": "Night team",
                             "message": "Kind to Dad", "name": giver}),
    )
    .await
    .expect(202);
    for submission in [
        json!({"kind": "feedback", "respondent": "relative_or_friend", "experience": "poor",
               "contact_details": contact, "consent_to_contact": true}),
        json!({"kind": "concern", "title": "Cold at night", "description": "The lounge is cold",
               "category": "environment", "contact_details": contact, "consent_to_contact": true}),
    ] {
        app.submit(&slug, submission).await.expect(202);
    }
    let compliment = app.awaiting_approval().await;
    Scene {
        secrets: vec![
            concern.clone(),
            update.clone(),
            title,
            sub,
            name,
            external,
            compliment.clone(),
            giver,
            contact,
        ],
        at_location: vec![
            intake_point.clone(),
            learning.clone(),
            evidence.clone(),
            plan.clone(),
            action.clone(),
            recognition.clone(),
            score.clone(),
        ],
        concern,
        update,
        learning,
        evidence,
        plan,
        action,
        recognition,
        score,
        review,
        client,
        webhook,
        delivery,
        import,
        intake_point,
        slug,
        compliment,
    }
}

/// Every file of a zip, as text.
pub fn unzipped(bytes: &[u8]) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut text = String::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).expect("a file of the zip");
        std::io::Read::read_to_string(&mut file, &mut text).expect("text");
    }
    text
}

/// A documented path with its parameters filled from the scene.
pub fn fill(path: &str, scene: &Scene, app: &TestApp) -> String {
    path.replace("{concern_id}", &scene.concern)
        .replace("{learning_event_id}", &scene.learning)
        .replace("{evidence_id}", &scene.evidence)
        .replace("{plan_id}", &scene.plan)
        .replace("{recognition_id}", &scene.recognition)
        .replace("{update_id}", &scene.update)
        .replace("{action_id}", &scene.action)
        .replace("{framework_id}", "cqc-saf-2024")
        .replace("{quality_statement_id}", "safe.safeguarding")
        .replace("{score_id}", &scene.score)
        .replace("{review_id}", &scene.review)
        .replace("{client_id}", &scene.client)
        .replace("{webhook_id}", &scene.webhook)
        .replace("{delivery_id}", &scene.delivery)
        .replace("{import_id}", &scene.import)
        .replace("{intake_point_id}", &scene.intake_point)
        .replace("{slug}", &scene.slug)
        .replace("{location_id}", &app.location)
        .replace("{metric_name}", "falls")
        .replace("{month}", &chrono::Utc::now().format("%Y-%m").to_string())
}

#[actix_web::test]
async fn no_read_path_shows_a_confidential_concern_to_a_caller_who_may_not_see_it() {
    let app = TestApp::new().await;
    let scene = scene(&app).await;
    let limited = |roles: &[Role], sub: &str| {
        let mut claims = claims(&app.org, roles, sub);
        claims.locations = Some(vec![app.second_location.clone()]);
        sign(&claims)
    };
    // Who may not see the concern: by role, or by location.
    let callers: Vec<(&str, String, bool)> = vec![
        ("viewer", app.viewer.clone(), false),
        ("integration", app.integration.clone(), false),
        ("staff", app.staff.clone(), false),
        (
            "manager of the other location",
            limited(&[Role::Manager], "user-manager"),
            true,
        ),
        (
            "admin of the other location",
            limited(&[Role::Admin], "user-admin"),
            true,
        ),
        (
            "viewer of the other location",
            limited(&[Role::Viewer], "user-viewer"),
            true,
        ),
    ];

    let document = careloop::api::docs::document();
    // Each read with its query parameters and the media types it answers in (JSON, and for a
    // list CSV, for the inspection pack a zip).
    let reads: Vec<(String, Vec<String>, Vec<String>)> = operations(document)
        .filter(|(method, _, operation)| method == "GET" && takes_a_token(document, operation))
        .map(|(_, path, operation)| {
            let queries: Vec<String> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect();
            let media = operation["responses"]["200"]["content"]
                .as_object()
                .map(|content| content.keys().cloned().collect())
                .unwrap_or_default();
            (path.to_owned(), queries, media)
        })
        .collect();
    assert!(reads.len() >= 30, "{} reads", reads.len());

    for (who, token, location_limited) in &callers {
        let mut forbidden = scene.secrets.clone();
        if *location_limited {
            forbidden.extend(scene.at_location.iter().cloned());
        }
        for (template, queries, media) in &reads {
            let path = fill(template, &scene, &app);
            // Lists as they come, and (where a list takes one) at the caller's own location;
            // the audit trail and the lists at their longest page.
            let mut asks = vec![path.clone()];
            if queries.iter().any(|q| q == "location_id") {
                let place = if *location_limited {
                    &app.second_location
                } else {
                    &app.location
                };
                asks.push(format!("{path}?location_id={place}"));
            }
            if queries.iter().any(|q| q == "limit") {
                asks.push(format!("{path}?limit=200"));
            }
            for ask in asks {
                for accept in media {
                    let request = TestApp::request(Method::GET, &ask, Some(token))
                        .insert_header(("Accept", accept.as_str()));
                    let (status, _, bytes) = app.exchange(request).await;
                    assert!(
                        status.as_u16() < 500,
                        "{who}: GET {ask} ({accept}) is {status}"
                    );
                    let body = if accept == "application/zip" && status == 200 {
                        unzipped(&bytes)
                    } else {
                        String::from_utf8_lossy(&bytes).into_owned()
                    };
                    for secret in &forbidden {
                        assert!(
                            !body.contains(secret.as_str()),
                            "{who}: GET {ask} ({accept}) shows {secret:?}: {body}"
                        );
                    }
                }
            }
        }
    }

    // The walk would have caught it: an admin of every location sees the concern everywhere
    // the others did not.
    let concern = &scene.concern;
    for (path, shown) in [
        (format!("/v1/concerns/{concern}"), &scene.secrets[2]),
        ("/v1/audit-events?limit=200".to_owned(), concern),
        ("/v1/changes?limit=200".to_owned(), concern),
        ("/v1/imports?limit=200".to_owned(), concern),
        (format!("/v1/imports/{}", scene.import), concern),
        (format!("/v1/learning-events/{}", scene.learning), concern),
        (format!("/v1/evidence/{}", scene.evidence), concern),
        (format!("/v1/improvement-plans/{}", scene.plan), concern),
        (format!("/v1/recognitions/{}", scene.recognition), concern),
        (
            format!("/v1/learning-events/{}/trail", scene.learning),
            concern,
        ),
    ] {
        let body = app
            .get(&app.admin, &path)
            .await
            .expect(200)
            .body
            .to_string();
        assert!(body.contains(shown.as_str()), "GET {path}: {body}");
    }
    let title = &scene.secrets[2];
    let pack = TestApp::request(Method::GET, "/v1/exports/inspection-pack", Some(&app.admin));
    let (_, _, pack) = app.exchange(pack).await;
    assert!(unzipped(&pack).contains(title.as_str()));
    let csv = TestApp::request(Method::GET, "/v1/concerns", Some(&app.admin))
        .insert_header(("Accept", "text/csv"));
    let (_, _, csv) = app.exchange(csv).await;
    assert!(String::from_utf8_lossy(&csv).contains(title.as_str()));
}

#[actix_web::test]
async fn counts_leave_out_what_the_caller_may_not_see_and_date_no_finer_than_the_day() {
    let app = TestApp::new().await;
    let scene = scene(&app).await;
    let statement = |body: &Value| -> Value {
        body["statements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["quality_statement_id"] == "safe.safeguarding")
            .cloned()
            .unwrap()
    };
    let coverage = "/v1/frameworks/cqc-saf-2024/coverage";
    let admin = statement(&app.get(&app.admin, coverage).await.expect(200).body);
    assert_eq!(admin["concern_count"], 1);
    let newest: chrono::DateTime<chrono::Utc> = admin["newest_concern_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(newest.time(), chrono::NaiveTime::MIN, "dated to the day");
    let viewer = statement(&app.get(&app.viewer, coverage).await.expect(200).body);
    assert_eq!(viewer["concern_count"], 0);
    assert_eq!(viewer["newest_concern_at"], json!(null));
    // What the viewer may see still counts.
    assert_eq!(viewer["learning_event_count"], 1);
    assert_eq!(viewer["evidence_count"], 1);
    drop(scene);
}

#[actix_web::test]
async fn linking_a_concern_the_caller_may_not_see_answers_as_if_it_did_not_exist() {
    let app = TestApp::new().await;
    let scene = scene(&app).await;
    let link = |concern: String| {
        app.post(
            &app.integration,
            "/v1/learning-events",
            json!({"kind": "supervision", "occurred_at": "2026-11-01T10:00:00Z", "title": "S",
                   "location_id": app.location, "linked_records": [{"kind": "concern", "id": concern}]}),
        )
    };
    let hidden = link(scene.concern.clone())
        .await
        .expect_problem(422, "validation_failed");
    let missing = link(uuid::Uuid::now_v7().to_string())
        .await
        .expect_problem(422, "validation_failed");
    let message = |body: &Value| body["errors"][0]["message"].as_str().unwrap().to_owned();
    assert_eq!(
        message(&hidden.body).replace(&scene.concern, "ID"),
        message(&missing.body).replace(
            missing.body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .rsplit(' ')
                .next()
                .unwrap(),
            "ID"
        )
    );
    // A duplicate external_ref is refused, without naming a holder the caller may not see.
    let external = scene.secrets[5].clone();
    let duplicate = app
        .post(
            &app.integration,
            "/v1/concerns",
            json!({"title": "t", "description": "d", "category": "care_practice", "risk": "low",
                   "location_id": app.location, "external_ref": {"system": "vendor", "id": external}}),
        )
        .await
        .expect_problem(409, "duplicate_external_ref");
    assert_eq!(duplicate.body.get("existing_id"), None);
    assert!(!duplicate.body.to_string().contains(&scene.concern));
}

#[actix_web::test]
async fn a_score_cites_only_the_evidence_its_reader_may_see() {
    let app = TestApp::new().await;
    let evidence_at = |location: String| {
        let app = &app;
        async move {
            app.post(
                &app.manager,
                "/v1/evidence",
                json!({"source": "observation", "evidence_category": "observation",
                       "quality_statements": ["safe.safeguarding"], "title": "Seen",
                       "observed_at": "2026-11-01T10:00:00Z", "location_id": location}),
            )
            .await
            .expect(201)
            .id()
        }
    };
    let here = evidence_at(app.location.clone()).await;
    let there = evidence_at(app.second_location.clone()).await;
    let path = format!(
        "/v1/locations/{}/self-assessments/cqc-saf-2024/quality-statements/safe.safeguarding",
        app.location
    );
    app.put(
        &app.manager,
        &path,
        json!({"score": 3, "rationale": "Body maps seen", "evidence": [{"kind": "evidence", "id": here}, {"kind": "evidence", "id": there}]}),
    )
    .await
    .expect(201);
    let mut limited = claims(&app.org, &[Role::Viewer], "user-viewer");
    limited.locations = Some(vec![app.location.clone()]);
    let summary = app
        .get(
            &sign(&limited),
            &format!(
                "/v1/locations/{}/self-assessments/cqc-saf-2024",
                app.location
            ),
        )
        .await
        .expect(200)
        .body
        .to_string();
    assert!(summary.contains(&here), "{summary}");
    assert!(!summary.contains(&there), "{summary}");
}

#[actix_web::test]
async fn a_locations_claim_shows_what_is_at_each_location_it_names_and_nothing_else() {
    let app = TestApp::new().await;
    let mut raised = Vec::new();
    for location in [&app.location, &app.second_location] {
        let body = json!({"title": "At one home", "description": "d", "category": "other",
                          "risk": "low", "location_id": location});
        let answer = app.post(&app.manager, "/v1/concerns", body).await;
        raised.push(answer.expect(201).body["id"].clone());
    }
    // One location (matched by `=`) and both (matched as a list).
    let cases = [
        (vec![app.location.clone()], vec![raised[0].clone()]),
        (vec![app.second_location.clone()], vec![raised[1].clone()]),
        (
            vec![app.location.clone(), app.second_location.clone()],
            raised.clone(),
        ),
    ];
    for (locations, expected) in cases {
        let mut limited = claims(&app.org, &[Role::Manager], "user-manager");
        limited.locations = Some(locations.clone());
        let token = sign(&limited);
        let page = app.get(&token, "/v1/concerns?limit=200").await.expect(200);
        let seen: Vec<Value> = page.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].clone())
            .filter(|id| raised.contains(id))
            .collect();
        assert_eq!(seen, expected, "limited to {locations:?}");
        for item in page.body["items"].as_array().unwrap() {
            assert!(
                locations.iter().any(|l| item["location_id"] == *l),
                "{item}"
            );
        }
    }
}
