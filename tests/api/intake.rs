//! The public front door: intake points, what comes in through them without a token, the
//! abuse limits, "you said, we did", and joint reviews.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::helpers::{claims, sign, IntakeLimits, TestApp, INTAKE_LIMITS};
use crate::privacy::scene;
use careloop::auth::Role;

/// Posts an HTML form (form-encoded) to a door, without a token: the status and the page.
async fn post_form(app: &TestApp, slug: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let body = serde_urlencoded::to_string(fields).unwrap();
    let request = TestApp::request(Method::POST, &format!("/i/{slug}"), None)
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload(body);
    let (status, _, bytes) = app.exchange(request).await;
    (
        status.as_u16(),
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// A page of a door, without a token: the status, the headers and the page.
async fn page(app: &TestApp, path: &str) -> (u16, actix_web::http::header::HeaderMap, String) {
    let (status, headers, bytes) = app
        .exchange(TestApp::request(Method::GET, path, None))
        .await;
    (
        status.as_u16(),
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// How many records of a list the manager sees.
async fn count(app: &TestApp, path: &str) -> usize {
    let separator = if path.contains('?') { '&' } else { '?' };
    app.get(&app.manager, &format!("{path}{separator}limit=200"))
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .unwrap()
        .len()
}

fn slug_of(door: &Value) -> String {
    door["slug"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn an_intake_point_is_opened_closed_reopened_and_rotated() {
    let app = TestApp::new().await;
    let door = app.intake_point(&["concern", "feedback"]).await;
    let id = door.id();
    assert_eq!(
        door.header("location"),
        Some(format!("/v1/intake-points/{id}").as_str())
    );
    let slug = slug_of(&door.body);
    assert_eq!(slug.len(), 22, "{slug}");
    assert_eq!(door.body["kinds"], json!(["feedback", "concern"]));
    assert!(door.body["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/i/{slug}")));
    assert_eq!(door.body["enabled"], true);

    let (status, headers, html) = page(&app, &format!("/i/{slug}")).await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    assert!(headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("form-action 'self'"));
    assert!(html.contains("Meadowbank Care Ltd"), "{html}");
    assert!(html.contains("Tell us how we are doing"));
    assert!(html.contains(r#"<html lang="en-GB">"#));
    assert!(html.contains("Overall, how was your experience of our service?"));
    assert!(
        !html.contains("Pay a compliment"),
        "not a kind this door takes"
    );

    // Closed: the page and the app's form are gone, as if they never were.
    let path = format!("/v1/intake-points/{id}");
    app.patch(&app.manager, &path, json!({"enabled": false}))
        .await
        .expect(200);
    assert_eq!(page(&app, &format!("/i/{slug}")).await.0, 404);
    let request = TestApp::request(Method::GET, &format!("/i/{slug}"), None)
        .insert_header(("Accept", "application/json"));
    app.send(request).await.expect_problem(404, "not_found");
    app.patch(&app.manager, &path, json!({"enabled": true}))
        .await
        .expect(200);
    assert_eq!(page(&app, &format!("/i/{slug}")).await.0, 200);

    // A new slug closes the old address at once.
    let rotated = app
        .post(&app.manager, &format!("{path}/slug"), json!({}))
        .await
        .expect(200);
    let fresh = slug_of(&rotated.body);
    assert_ne!(fresh, slug);
    assert_eq!(page(&app, &format!("/i/{slug}")).await.0, 404);
    assert_eq!(page(&app, &format!("/i/{fresh}")).await.0, 200);
    assert_eq!(page(&app, "/i/not-a-slug").await.0, 404);

    // A manager of the other location neither sees nor changes it.
    let mut other = claims(&app.org, &[Role::Manager], "other-manager");
    other.locations = Some(vec![app.second_location.clone()]);
    let other = sign(&other);
    app.get(&other, &path)
        .await
        .expect_problem(404, "not_found");
    assert_eq!(count(&app, "/v1/intake-points").await, 1);
    let theirs = app.get(&other, "/v1/intake-points").await.expect(200);
    assert_eq!(theirs.body["items"], json!([]));

    // Each change is in the audit trail.
    let trail = app
        .get(
            &app.admin,
            &format!("/v1/audit-events?resource_type=intake_point&resource_id={id}"),
        )
        .await
        .expect(200);
    let actions: Vec<&str> = trail.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "update", "update", "update"]);

    // Bad input: a clear 422, nothing made.
    let refused = app
        .post(
            &app.manager,
            "/v1/intake-points",
            json!({"location_id": app.other_org_location, "kinds": [], "title": " ", "welcome": "w"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let fields = refused.error_fields();
    assert_eq!(fields, ["kinds", "title"]);
    let elsewhere = app
        .post(
            &app.manager,
            "/v1/intake-points",
            json!({"location_id": app.other_org_location, "kinds": ["feedback"], "title": "t", "welcome": "w"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(elsewhere.body["errors"][0]["field"], "location_id");
    assert_eq!(count(&app, "/v1/intake-points").await, 1);
}

#[actix_web::test]
async fn feedback_becomes_unverified_evidence_with_its_score() {
    let app = TestApp::new().await;
    let slug = slug_of(&app.intake_point(&["feedback"]).await.body);
    let received = app
        .submit(
            &slug,
            json!({"kind": "feedback", "respondent": "relative_or_friend", "experience": "good",
                   "what_was_good": "Staff always make time to talk to Mum.",
                   "what_could_be_better": "The lounge is cold in the evenings.",
                   "contact_name": "Sam", "contact_details": "07700 900123",
                   "consent_to_contact": true}),
        )
        .await
        .expect(202);
    assert_eq!(received.header("cache-control"), Some("no-store"));
    assert_eq!(received.body["kind"], "feedback");
    assert_eq!(received.body["receipt_code"], Value::Null);
    app.submit(
        &slug,
        json!({"kind": "feedback", "respondent": "prefer_not_to_say", "experience": "dont_know"}),
    )
    .await
    .expect(202);

    let unverified = app
        .get(&app.manager, "/v1/evidence?verification=unverified")
        .await
        .expect(200)
        .body;
    let items = unverified["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let good = &items[0];
    assert_eq!(good["source"], "feedback");
    assert_eq!(good["respondent"], "relative");
    assert_eq!(good["evidence_category"], "peoples_experience");
    assert_eq!(good["location_id"], json!(app.location));
    assert_eq!(good["metric"]["name"], "ffr_score");
    assert_eq!(good["metric"]["value"], 4.0);
    assert_eq!(good["recorded_by"]["kind"], "intake_point");
    assert_eq!(
        good["contact"],
        json!({"name": "Sam", "details": "07700 900123"})
    );
    assert!(good["summary"]
        .as_str()
        .unwrap()
        .contains("The lounge is cold"));
    // "Don't know" is no score; who preferred not to say is not said.
    assert_eq!(items[1]["metric"], Value::Null);
    assert_eq!(items[1]["respondent"], "not_said");

    // Only managers and admins see how to reach the person.
    let id = good["id"].as_str().unwrap();
    let seen = app
        .get(&app.viewer, &format!("/v1/evidence/{id}"))
        .await
        .expect(200);
    assert_eq!(seen.body["contact"], Value::Null);
    assert_eq!(seen.body["verification"], "unverified");

    // The score reaches the insights' metrics.
    let insights = app
        .get(&app.manager, "/v1/insights/evidence")
        .await
        .expect(200)
        .body;
    assert!(insights["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["metric"] == "ffr_score"));

    // A manager looks at it.
    let path = format!("/v1/evidence/{id}/verification");
    app.post(&app.staff, &path, json!({}))
        .await
        .expect_problem(403, "forbidden");
    let verified = app.post(&app.manager, &path, json!({})).await.expect(200);
    assert_eq!(verified.body["verification"], "verified");
    assert_eq!(verified.body["version"], 2);
    let again = app.post(&app.manager, &path, json!({})).await.expect(200);
    assert_eq!(again.body["version"], 2, "verifying twice changes nothing");
    assert_eq!(count(&app, "/v1/evidence?verification=unverified").await, 1);
}

#[actix_web::test]
async fn a_compliment_waits_for_a_managers_approval() {
    let app = TestApp::new().await;
    let slug = slug_of(&app.intake_point(&["compliment"]).await.body);
    app.submit(
        &slug,
        json!({"kind": "compliment", "for_whom": "The night team",
               "message": "They made Dad feel safe.", "name": "Jo"}),
    )
    .await
    .expect(202);
    let waiting = app
        .get(&app.manager, "/v1/recognitions?approval=awaiting_approval")
        .await
        .expect(200)
        .body;
    let compliment = &waiting["items"][0];
    let id = compliment["id"].as_str().unwrap().to_owned();
    assert_eq!(compliment["kind"], "compliment");
    assert_eq!(compliment["recipients"], json!(["The night team"]));
    assert_eq!(compliment["from"], "not_said");
    assert_eq!(compliment["from_name"], "Jo");
    assert_eq!(compliment["recorded_by"]["kind"], "intake_point");

    // Until approved, nobody else sees it: not in a list, a read, or the highlights.
    for role in [Role::Staff, Role::Viewer, Role::Integration] {
        let token = app.token(role);
        app.get(token, &format!("/v1/recognitions/{id}"))
            .await
            .expect_problem(404, "not_found");
        let listed = app.get(token, "/v1/recognitions").await.expect(200).body;
        assert!(!listed.to_string().contains(&id), "{role}");
    }
    let highlights = app.get(&app.manager, "/v1/highlights").await.expect(200);
    assert!(!highlights.body.to_string().contains(&id));

    let path = format!("/v1/recognitions/{id}/approval");
    app.post(&app.viewer, &path, json!({"decision": "approved"}))
        .await
        .expect_problem(403, "forbidden");
    app.post(&app.manager, &path, json!({"decision": "maybe"}))
        .await
        .expect_problem(422, "validation_failed");
    let approved = app
        .post(&app.manager, &path, json!({"decision": "approved"}))
        .await
        .expect(200);
    assert_eq!(approved.body["approval"], "approved");
    app.get(&app.viewer, &format!("/v1/recognitions/{id}"))
        .await
        .expect(200);
    let highlights = app.get(&app.viewer, "/v1/highlights").await.expect(200);
    assert!(highlights.body.to_string().contains(&id));
    // Declined: back to managers and admins only.
    app.post(&app.manager, &path, json!({"decision": "declined"}))
        .await
        .expect(200);
    app.get(&app.viewer, &format!("/v1/recognitions/{id}"))
        .await
        .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn a_concern_through_the_door_is_anonymous_and_has_a_receipt() {
    let app = TestApp::new().await;
    let slug = slug_of(&app.intake_point(&["concern"]).await.body);
    let received = app
        .submit(
            &slug,
            json!({"kind": "concern", "title": "Shouting at night",
                   "description": "A carer shouted at a resident on Tuesday night.",
                   "category": "safeguarding"}),
        )
        .await
        .expect(202);
    assert_eq!(received.header("cache-control"), Some("no-store"));
    let code = received.body["receipt_code"].as_str().unwrap().to_owned();

    // The raiser follows it with the code alone.
    let request = TestApp::request(Method::GET, "/v1/receipt", None)
        .insert_header(("Authorization", format!("Receipt {code}")));
    let receipt = app.send(request).await.expect(200);
    assert_eq!(receipt.body["title"], "Shouting at night");

    let concerns = app.get(&app.manager, "/v1/concerns").await.expect(200).body;
    let concern = &concerns["items"][0];
    assert_eq!(concern["anonymous"], true);
    assert_eq!(concern["confidential"], true, "safeguarding");
    assert_eq!(concern["raised_by"]["kind"], "anonymous");
    assert_eq!(concern["location_id"], json!(app.location));
    assert_eq!(concern["contact"], Value::Null);
    let created = concern["created_at"].as_str().unwrap();
    assert!(created.ends_with(":00:00Z"), "kept to the hour: {created}");
    let id = concern["id"].as_str().unwrap();
    let trail = app
        .get(&app.admin, &format!("/v1/audit-events?resource_id={id}"))
        .await
        .expect(200);
    assert_eq!(trail.body["items"][0]["actor"]["kind"], "anonymous");
    // Staff, who see the concerns they raised, cannot tie this one to anyone.
    let staff = app.get(&app.staff, "/v1/concerns").await.expect(200);
    assert!(!staff.body.to_string().contains(id));

    // Contact details, with consent, for managers and admins.
    app.submit(
        &slug,
        json!({"kind": "concern", "title": "Cold rooms", "description": "The heating is off.",
               "category": "environment", "contact_name": "Sam",
               "contact_details": "sam@example.org", "consent_to_contact": true}),
    )
    .await
    .expect(202);
    // Anonymous concerns' ids say only the hour, so two of one hour list in either order.
    let cold = |list: &Value| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["title"] == "Cold rooms")
            .cloned()
            .unwrap()
    };
    let concerns = app.get(&app.manager, "/v1/concerns").await.expect(200).body;
    assert_eq!(
        cold(&concerns)["contact"],
        json!({"name": "Sam", "details": "sam@example.org"})
    );
    let seen = app.get(&app.viewer, "/v1/concerns").await.expect(200).body;
    assert_eq!(cold(&seen)["contact"], Value::Null);
}

#[actix_web::test]
async fn refused_submissions_store_nothing_and_say_why_by_field() {
    let app = TestApp::new().await;
    let slug = slug_of(
        &app.intake_point(&["feedback", "compliment", "concern"])
            .await
            .body,
    );
    let token = app.form_token(&slug).await;
    let before = (
        count(&app, "/v1/concerns").await,
        count(&app, "/v1/evidence").await,
        count(&app, "/v1/recognitions").await,
    );

    // A form missing what it needs comes back with each error by its field, and what was
    // typed kept.
    let (status, html) = post_form(
        &app,
        &slug,
        &[
            ("kind", "concern"),
            ("form_token", &token),
            ("website", ""),
            ("title", ""),
            ("description", "Somebody <b>shouted</b>"),
            ("category", ""),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("There is a problem"), "{html}");
    for field in ["title", "category"] {
        assert!(
            html.contains(&format!(r##"href="#concern-{field}""##)),
            "{field}"
        );
        assert!(
            html.contains(&format!(r#"id="concern-{field}-error""#)),
            "{field}"
        );
    }
    assert!(!html.contains(r##"href="#concern-description""##));
    assert!(
        html.contains("Somebody &#60;b&#62;shouted&#60;/b&#62;")
            || html.contains("Somebody &lt;b&gt;shouted&lt;/b&gt;"),
        "kept, escaped"
    );
    assert!(html.contains(r#"aria-invalid="true""#));

    // JSON: a 422 problem naming every field.
    let problem = app
        .submit(
            &slug,
            json!({"kind": "feedback", "experience": "brilliant", "title": "Not mine",
                   "contact_details": "07700 900123"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let fields = problem.error_fields();
    for field in ["experience", "title", "respondent", "consent_to_contact"] {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }

    // The trap field, a token of another door or none, a made-up one.
    let honeypot = app
        .submit(
            &slug,
            json!({"kind": "compliment", "for_whom": "x", "message": "y", "website": "http://spam"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(honeypot.body["errors"][0]["field"], "website");
    let other = slug_of(&app.intake_point(&["compliment"]).await.body);
    let mut stolen = json!({"kind": "compliment", "for_whom": "x", "message": "y"});
    stolen["form_token"] = json!(app.form_token(&other).await);
    let refused = app
        .call(Method::POST, &format!("/i/{slug}"), None, Some(stolen))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(refused.body["errors"][0]["field"], "form_token");
    let forged = format!("{}x", token);
    let (status, html) = post_form(
        &app,
        &slug,
        &[
            ("kind", "compliment"),
            ("form_token", &forged),
            ("for_whom", "x"),
            ("message", "y"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("reload the page"), "{html}");
    // A kind the door does not take, and nonsense bodies.
    let only = slug_of(&app.intake_point(&["feedback"]).await.body);
    let refused = app
        .submit(
            &only,
            json!({"kind": "concern", "title": "t", "description": "d", "category": "other"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(refused.body["errors"][0]["field"], "kind");
    let request = TestApp::request(Method::POST, &format!("/i/{slug}"), None)
        .insert_header(("Content-Type", "text/plain"))
        .set_payload("hello");
    app.send(request)
        .await
        .expect_problem(415, "unsupported_media_type");

    assert_eq!(
        (
            count(&app, "/v1/concerns").await,
            count(&app, "/v1/evidence").await,
            count(&app, "/v1/recognitions").await,
        ),
        before,
        "nothing was stored"
    );

    // The same form, right, is taken: the thanks, and the receipt code shown once.
    let (status, html) = post_form(
        &app,
        &slug,
        &[
            ("kind", "concern"),
            ("form_token", &token),
            ("website", ""),
            ("title", "Shouting"),
            ("description", "Somebody shouted"),
            ("category", "culture"),
            ("consent_to_contact", ""),
        ],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("It will not be shown again"), "{html}");
    assert!(html.contains(r#"id="receipt-code""#));
    assert_eq!(count(&app, "/v1/concerns").await, before.0 + 1);
}

#[actix_web::test]
async fn a_form_sent_too_soon_or_too_often_is_refused() {
    let limits = IntakeLimits {
        min_seconds: 1,
        per_address: 2,
        ..INTAKE_LIMITS
    };
    let app = TestApp::with_intake_limits(limits).await;
    let slug = slug_of(&app.intake_point(&["compliment"]).await.body);
    let compliment = json!({"kind": "compliment", "for_whom": "x", "message": "y"});
    let soon = app
        .submit(&slug, compliment.clone())
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(soon.body["errors"][0]["field"], "form_token");
    let mut later = compliment.clone();
    later["form_token"] = json!(app.form_token(&slug).await);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    app.call(
        Method::POST,
        &format!("/i/{slug}"),
        None,
        Some(later.clone()),
    )
    .await
    .expect(202);
    // The address has had its two this minute.
    let refused = app
        .call(Method::POST, &format!("/i/{slug}"), None, Some(later))
        .await
        .expect_problem(429, "too_many_requests");
    assert!(refused.header("retry-after").is_some());
    let (status, html) = post_form(&app, &slug, &[("kind", "compliment")]).await;
    assert_eq!(status, 429);
    assert!(html.contains("Please wait a minute"));
    assert_eq!(count(&app, "/v1/recognitions").await, 1);

    // Each door takes so many a minute, whoever sends them.
    let door_limited = TestApp::with_intake_limits(IntakeLimits {
        per_point: 1,
        ..INTAKE_LIMITS
    })
    .await;
    let slug = slug_of(&door_limited.intake_point(&["compliment"]).await.body);
    door_limited
        .submit(&slug, compliment.clone())
        .await
        .expect(202);
    door_limited
        .submit(&slug, compliment)
        .await
        .expect_problem(429, "too_many_requests");
}

/// An open action of a new plan at `location`, as the manager: the plan's id and the action's.
async fn open_action(app: &TestApp, location: &str, description: &str) -> (String, String) {
    let plan = app
        .post(
            &app.manager,
            "/v1/improvement-plans",
            json!({"title": "Warmth", "objective": "Warm rooms", "owner": {"sub": "user-manager"},
                   "priority": "medium", "review_cadence": "monthly", "location_id": location}),
        )
        .await
        .expect(201)
        .id();
    let action = app
        .post(
            &app.manager,
            &format!("/v1/improvement-plans/{plan}/actions"),
            json!({"description": description, "owner": {"sub": "user-manager"}}),
        )
        .await
        .expect(201)
        .id();
    (plan, action)
}

/// Moves an action on to done, as the manager (`celebrate` records a milestone).
async fn finish(app: &TestApp, (plan, action): (&str, &str), celebrate: bool) {
    for step in [
        json!({"to": "in_progress"}),
        json!({"to": "done", "completion_note": "Done", "celebrate": celebrate}),
    ] {
        app.post(
            &app.manager,
            &format!("/v1/improvement-plans/{plan}/actions/{action}/transitions"),
            step,
        )
        .await
        .expect(200);
    }
}

/// A done action of a new plan at `location`: the plan's id and the action's.
async fn done_action(app: &TestApp, location: &str, description: &str) -> (String, String) {
    let (plan, action) = open_action(app, location, description).await;
    finish(app, (&plan, &action), false).await;
    (plan, action)
}

#[actix_web::test]
async fn you_said_we_did_shows_only_what_a_manager_published() {
    let app = TestApp::new().await;
    let slug = slug_of(&app.intake_point(&["feedback", "compliment"]).await.body);
    app.submit(
        &slug,
        json!({"kind": "feedback", "respondent": "person_using_service", "experience": "poor",
               "what_could_be_better": "My room is cold at night"}),
    )
    .await
    .expect(202);
    let feedback = app.get(&app.manager, "/v1/evidence").await.expect(200).body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (plan, published) = done_action(&app, &app.location, "INTERNAL radiator work order").await;
    let (_, quiet) = done_action(&app, &app.location, "INTERNAL unpublished change").await;
    let (other_plan, elsewhere) =
        done_action(&app, &app.second_location, "INTERNAL other home").await;
    let publication = |plan: &str, action: &str| {
        format!("/v1/improvement-plans/{plan}/actions/{action}/publication")
    };
    // It came from the feedback; a record that is not there is refused.
    let action_path = format!("/v1/improvement-plans/{plan}/actions/{published}");
    let linked = app
        .patch(
            &app.manager,
            &action_path,
            json!({"came_from": [{"kind": "evidence", "id": feedback}]}),
        )
        .await
        .expect(200);
    assert_eq!(
        linked.body["came_from"],
        json!([{"kind": "evidence", "id": feedback}])
    );
    app.patch(
        &app.manager,
        &action_path,
        json!({"came_from": [{"kind": "concern", "id": crate::helpers::nothing_id()}]}),
    )
    .await
    .expect_problem(422, "validation_failed");
    let words = json!({"you_said": "Rooms are cold at night.",
                       "we_did": "We fitted new radiators on the first floor."});
    let done = app
        .put(&app.manager, &publication(&plan, &published), words.clone())
        .await
        .expect(200);
    assert_eq!(
        done.body["publication"]["you_said"],
        "Rooms are cold at night."
    );
    app.put(&app.staff, &publication(&plan, &quiet), words.clone())
        .await
        .expect_problem(403, "forbidden");
    app.put(
        &app.manager,
        &publication(&other_plan, &elsewhere),
        words.clone(),
    )
    .await
    .expect(200);
    // Only what was done.
    let open = app
        .post(
            &app.manager,
            &format!("/v1/improvement-plans/{plan}/actions"),
            json!({"description": "d", "owner": {"sub": "user-manager"}}),
        )
        .await
        .expect(201)
        .id();
    app.put(&app.manager, &publication(&plan, &open), words)
        .await
        .expect_problem(409, "not_done");

    let public = app
        .call(
            Method::GET,
            &format!("/v1/public/you-said-we-did?slug={slug}"),
            None,
            None,
        )
        .await
        .expect(200)
        .body;
    assert_eq!(public["location_name"], json!("House 0"));
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    assert_eq!(
        public["items"],
        json!([{"you_said": "Rooms are cold at night.",
                "we_did": "We fitted new radiators on the first floor.", "month": month}])
    );
    let (status, _, html) = page(&app, &format!("/i/{slug}/you-said-we-did")).await;
    assert_eq!(status, 200);
    assert!(html.contains("We fitted new radiators on the first floor."));
    assert!(!html.contains("INTERNAL"), "{html}");
    assert!(!html.contains("My room is cold"), "never what anyone wrote");

    // Reopened, it leaves the page; taken off, it stays off.
    app.post(
        &app.manager,
        &format!("/v1/improvement-plans/{plan}/actions/{published}/transitions"),
        json!({"to": "in_progress"}),
    )
    .await
    .expect(200);
    let ask = format!("/v1/public/you-said-we-did?slug={slug}");
    let public = app.call(Method::GET, &ask, None, None).await.expect(200);
    assert_eq!(public.body["items"], json!([]));
    app.delete(&app.manager, &publication(&plan, &published))
        .await
        .expect(200);
    let action = app.get(&app.manager, &action_path).await.expect(200);
    assert_eq!(action.body["publication"], Value::Null);
    app.call(
        Method::GET,
        "/v1/public/you-said-we-did?slug=AAAAAAAAAAAAAAAAAAAAAA",
        None,
        None,
    )
    .await
    .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn joint_reviews_and_co_produced_plans_are_counted_per_quarter() {
    let app = TestApp::new().await;
    let plan = app
        .post(
            &app.manager,
            "/v1/improvement-plans",
            json!({"title": "Mealtimes", "objective": "Choice at tea", "owner": {"sub": "user-manager"},
                   "priority": "medium", "review_cadence": "monthly", "location_id": app.location,
                   "co_produced": true, "involved": [{"role": "person_using_service"}]}),
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
    let today = chrono::Utc::now().date_naive().to_string();
    // Named only with their agreement.
    let reviews = format!("/v1/improvement-plans/{plan}/reviews");
    let unnamed = app
        .post(
            &app.manager,
            &reviews,
            json!({"reviewed_on": today, "progress": "green",
                   "participants": [{"role": "manager"}, {"role": "relative", "name": "Jo"}]}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(unnamed.body["errors"][0]["field"], "participants[1].name");
    let review = app
        .post(
            &app.manager,
            &reviews,
            json!({"reviewed_on": today, "progress": "green",
                   "participants": [{"role": "relative", "name": "Jo", "agreed_to_be_named": true}]}),
        )
        .await
        .expect(201);
    assert_eq!(
        review.body["participants"],
        json!([{"role": "relative", "name": "Jo", "agreed_to_be_named": true}])
    );
    let event = |kind: &str, participants: Value| {
        json!({"kind": kind, "occurred_at": chrono::Utc::now().to_rfc3339(), "title": "Talk",
               "location_id": app.location, "participants": participants})
    };
    for body in [
        event(
            "reflective_discussion",
            json!([{"role": "person_using_service"}]),
        ),
        event("joint_review_with_people", json!([])),
        event("supervision", json!([{"role": "staff", "name": "Kim"}])),
    ] {
        app.post(&app.manager, "/v1/learning-events", body)
            .await
            .expect(201);
    }
    app.post(
        &app.manager,
        "/v1/learning-events",
        event(
            "supervision",
            json!([{"role": "person_using_service", "name": "Mr P"}]),
        ),
    )
    .await
    .expect_problem(422, "validation_failed");

    let insights = app
        .get(&app.viewer, "/v1/insights/learning")
        .await
        .expect(200)
        .body;
    let quarters = insights["co_production"].as_array().unwrap();
    let this = quarters.last().unwrap();
    assert_eq!(this["co_produced_plans"], 1);
    assert_eq!(this["joint_reviews"], 3, "{this}");
    // At the other location there was none.
    let elsewhere = app
        .get(
            &app.viewer,
            &format!("/v1/insights/learning?location_id={}", app.second_location),
        )
        .await
        .expect(200)
        .body;
    let this = elsewhere["co_production"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(this["joint_reviews"], 0);
    assert_eq!(this["co_produced_plans"], 0);
}

/// The public pages show nothing anyone has not published: none of the privacy walk's secrets,
/// no record id, no pending compliment, no contact details.
#[actix_web::test]
async fn the_public_pages_show_nothing_that_was_not_published() {
    let app = TestApp::new().await;
    let scene = scene(&app).await;
    let slug = &scene.slug;
    let mut never = vec![
        scene.concern.clone(),
        scene.evidence.clone(),
        scene.action.clone(),
        scene.plan.clone(),
        scene.recognition.clone(),
        scene.compliment.clone(),
        scene.intake_point.clone(),
        "Body maps on admission".to_owned(),
    ];
    never.extend(scene.secrets().iter().cloned());
    for path in [
        format!("/i/{slug}"),
        format!("/i/{slug}/you-said-we-did"),
        format!("/v1/public/you-said-we-did?slug={slug}"),
    ] {
        let (status, _, body) = page(&app, &path).await;
        assert_eq!(status, 200, "{path}");
        for secret in &never {
            assert!(!body.contains(secret.as_str()), "{path} shows {secret}");
        }
    }
}

/// What came in through a door and is not for everyone stays out of the inspection pack and the
/// governance pack: contact details, and compliments not approved.
#[actix_web::test]
async fn contact_details_and_unapproved_compliments_stay_out_of_the_packs() {
    let app = TestApp::new().await;
    let slug = slug_of(
        &app.intake_point(&["feedback", "compliment", "concern"])
            .await
            .body,
    );
    let contact = "07700 900999";
    for body in [
        json!({"kind": "feedback", "respondent": "relative_or_friend", "experience": "good",
               "contact_details": contact, "consent_to_contact": true}),
        json!({"kind": "concern", "title": "Cold", "description": "Cold rooms", "category": "environment",
               "contact_details": contact, "consent_to_contact": true}),
        json!({"kind": "compliment", "for_whom": "PENDING team", "message": "Thanks"}),
    ] {
        app.submit(&slug, body).await.expect(202);
    }
    let request = TestApp::request(
        Method::GET,
        "/v1/exports/inspection-pack",
        Some(&app.manager),
    )
    .insert_header(("Accept", "application/zip"));
    let (status, _, bytes) = app.exchange(request).await;
    assert_eq!(status, 200);
    let pack = crate::privacy::unzipped(&bytes);
    assert!(pack.contains("Cold rooms"), "the concern is in the pack");
    assert!(!pack.contains(contact), "no contact details in the pack");
    assert!(!pack.contains("contact.details"), "nor their columns");
    assert!(
        !pack.contains("PENDING team"),
        "no compliment awaiting approval"
    );
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let governance = app
        .get(&app.manager, &format!("/v1/governance-packs/{month}"))
        .await
        .expect(200);
    assert!(!governance.body.to_string().contains("PENDING team"));
}

#[actix_web::test]
async fn a_form_is_taken_once_and_null_is_no_answer() {
    let app = TestApp::new().await;
    let slug = slug_of(&app.intake_point(&["compliment", "concern"]).await.body);
    let token = app.form_token(&slug).await;
    let compliment = json!({"kind": "compliment", "for_whom": "Night team", "message": "Thank you",
                            "form_token": token});
    let path = format!("/i/{slug}");
    app.call(Method::POST, &path, None, Some(compliment.clone()))
        .await
        .expect(202);
    let again = app
        .call(Method::POST, &path, None, Some(compliment))
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(again.body["errors"][0]["field"], "form_token");
    // `null` answers nothing: a required field sent as null is missing.
    let blank = app
        .submit(
            &slug,
            json!({"kind": "concern", "title": null, "description": null, "category": "other"}),
        )
        .await
        .expect_problem(422, "validation_failed");
    let fields = blank.error_fields();
    assert_eq!(fields, ["title", "description"]);
    assert_eq!(count(&app, "/v1/concerns").await, 0);
    assert_eq!(count(&app, "/v1/recognitions").await, 1);
}

/// An action's `came_from` are the records linked as its origins, and nothing else that links to
/// it: a milestone celebrating it is not where it came from.
#[actix_web::test]
async fn an_actions_origins_are_only_those_linked_as_such() {
    let app = TestApp::new().await;
    let slug = slug_of(&app.intake_point(&["compliment"]).await.body);
    app.submit(
        &slug,
        json!({"kind": "compliment", "for_whom": "Cook", "message": "Lovely food"}),
    )
    .await
    .expect(202);
    let compliment = app.awaiting_approval().await;
    let (plan, action) = open_action(&app, &app.location, "Seasonal menu").await;
    let path = format!("/v1/improvement-plans/{plan}/actions/{action}");
    app.patch(
        &app.manager,
        &path,
        json!({"came_from": [{"kind": "recognition", "id": compliment}]}),
    )
    .await
    .expect(200);
    finish(&app, (&plan, &action), true).await;
    let read = app.get(&app.manager, &path).await.expect(200);
    assert_eq!(
        read.body["came_from"],
        json!([{"kind": "recognition", "id": compliment}])
    );
    // The pending compliment is not shown to those who may not see it, even as an origin.
    let seen = app.get(&app.viewer, &path).await.expect(200);
    assert_eq!(seen.body["came_from"], json!([]));
    // Replacing the origins leaves the milestone's own link to the action alone.
    app.patch(&app.manager, &path, json!({"came_from": []}))
        .await
        .expect(200);
    let milestones = app
        .get(&app.manager, "/v1/recognitions?kind=improvement_milestone")
        .await
        .expect(200)
        .body;
    assert_eq!(
        milestones["items"][0]["linked_records"],
        json!([{"kind": "action", "id": action}])
    );
}
