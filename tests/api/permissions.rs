//! Every role against every authenticated endpoint: 2xx where the permission table allows it,
//! 403 where it does not. The expectations are written out here, independently of the table,
//! and the rows are checked against the operations of the generated OpenAPI document.

use std::collections::BTreeSet;

use actix_web::http::Method;
use careloop::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{claims, operations, sign, takes_a_token, TestApp};

use Role::*;

const EVERYONE: &[Role] = &[Admin, Manager, Staff, Viewer, Integration];

const CQC: &str = "cqc-saf-2024";

/// The operations of the document that take no token, so have no row: health, for load
/// balancers, what an anonymous raiser does with a receipt code (receipts.rs checks those), and
/// a machine client's token request and the keys that verify its tokens (clients.rs).
/// `/openapi.json` and `/docs` serve the document rather than being operations of it; they take
/// no token either, and conventions.rs checks they are served.
const TOKEN_FREE: &[(&str, &str)] = &[
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/dashboard"),
    ("POST", "/dashboard/sign-in"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/i/{slug}"),
    ("POST", "/i/{slug}"),
    ("GET", "/i/{slug}/you-said-we-did"),
    ("POST", "/oauth/token"),
    ("GET", "/v1/public/you-said-we-did"),
    ("GET", "/v1/receipt"),
    ("GET", "/v1/receipt/messages"),
    ("POST", "/v1/receipt/messages"),
];

struct Endpoint {
    method: Method,
    /// The operation's path template in the OpenAPI document.
    template: &'static str,
    /// The template filled in with the records made for this row.
    path: String,
    body: Option<Value>,
    allowed: &'static [Role],
}

/// A row: `method template`, the template's `{parameters}` filled in order with `values` (any
/// query string after it is kept as it is).
fn endpoint(
    method: Method,
    template: &'static str,
    values: &[&str],
    body: Option<Value>,
    allowed: &'static [Role],
) -> Endpoint {
    let (template, query) = match template.split_once('?') {
        Some((template, query)) => (template, format!("?{query}")),
        None => (template, String::new()),
    };
    let mut values = values.iter();
    let path = template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                *values.next().expect("a value for every parameter")
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    assert!(values.next().is_none(), "{template} has fewer parameters");
    Endpoint {
        method,
        template,
        path: path + &query,
        body,
        allowed,
    }
}

/// The endpoints, with fresh records where a call changes state (a transition cannot repeat).
async fn endpoints(app: &TestApp) -> Vec<Endpoint> {
    // A month's review is recorded once: each call reviews a month of its own.
    static REVIEWED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = REVIEWED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let review_month = format!("{}-{:02}", 2020 + n / 12, n % 12 + 1);
    let location = &app.location;
    // Raised by the staff user and not confidential, so every role may see it.
    let concern = app.raise(&app.staff, json!({})).await;
    let client = app.new_client().await;
    let (webhook, delivery) = app.new_webhook().await;
    let fresh = app.raise(&app.staff, json!({})).await;
    let shared = app
        .post(
            &app.manager,
            &format!("/v1/concerns/{concern}/updates"),
            json!({"body": "Thank you", "visibility": "raiser"}),
        )
        .await
        .expect(201)
        .id();
    let learning = app
        .post(&app.manager, "/v1/learning-events",
              json!({"kind": "supervision", "occurred_at": "2026-11-01T10:00:00Z", "title": "Supervision",
                     "location_id": location}))
        .await
        .expect(201)
        .id();
    let audit = json!({"source": "audit", "evidence_category": "processes",
                       "quality_statements": ["safe.medicines_optimisation"], "title": "Audit",
                       "observed_at": "2026-11-01T10:00:00Z", "location_id": location,
                       "metric": {"name": "score", "value": 90.0}});
    let evidence = app
        .post(&app.manager, "/v1/evidence", audit.clone())
        .await
        .expect(201)
        .id();
    let import = app
        .post(
            &app.integration,
            "/v1/imports?kind=evidence",
            json!([audit]),
        )
        .await
        .expect(201)
        .id();
    let doomed = app
        .post(&app.manager, "/v1/evidence", audit.clone())
        .await
        .expect(201)
        .id();
    let statement = format!(
        "/v1/locations/{location}/self-assessments/{CQC}/quality-statements/safe.learning_culture"
    );
    let score = app
        .post(
            &app.manager,
            &format!("{statement}/scores"),
            json!({"score": 2, "rationale": "r"}),
        )
        .await
        .expect(201)
        .id();
    let feedback = json!({"source": "feedback", "evidence_category": "peoples_experience",
                          "quality_statements": ["caring.kindness_compassion_dignity"], "title": "Thanks",
                          "observed_at": "2026-11-01T10:00:00Z", "location_id": location, "respondent": "relative"});
    let plan_body = json!({"title": "Plan", "objective": "o", "owner": {"sub": "user-manager"}, "priority": "low",
                           "review_cadence": "monthly", "location_id": location});
    let plan = app
        .post(&app.manager, "/v1/improvement-plans", plan_body.clone())
        .await
        .expect(201)
        .id();
    let draft = app
        .post(&app.manager, "/v1/improvement-plans", plan_body.clone())
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
    let action = app
        .post(
            &app.manager,
            &format!("/v1/improvement-plans/{plan}/actions"),
            json!({"description": "d", "owner": {"sub": "user-staff"}}),
        )
        .await
        .expect(201)
        .id();
    let review = app
        .post(
            &app.manager,
            &format!("/v1/improvement-plans/{plan}/reviews"),
            json!({"reviewed_on": "2026-11-20", "progress": "green"}),
        )
        .await
        .expect(201)
        .id();
    let recognition_body = json!({"kind": "thanks", "title": "t", "recipients": ["x"], "from": "staff",
                                  "occurred_on": "2026-01-01", "location_id": location});
    let recognition = app
        .post(&app.manager, "/v1/recognitions", recognition_body.clone())
        .await
        .expect(201)
        .id();
    let done = app
        .post(
            &app.manager,
            &format!("/v1/improvement-plans/{plan}/actions"),
            json!({"description": "Warmer lounge", "owner": {"sub": "user-manager"}}),
        )
        .await
        .expect(201)
        .id();
    for step in [
        json!({"to": "in_progress"}),
        json!({"to": "done", "completion_note": "Fitted"}),
    ] {
        app.post(
            &app.manager,
            &format!("/v1/improvement-plans/{plan}/actions/{done}/transitions"),
            step,
        )
        .await
        .expect(200);
    }
    let door_body = json!({"location_id": location, "kinds": ["feedback"], "title": "Tell us",
                           "welcome": "We read every message."});
    let door = app
        .post(&app.manager, "/v1/intake-points", door_body.clone())
        .await
        .expect(201)
        .id();
    vec![
        endpoint(
            Method::POST,
            "/v1/intake-points",
            &[],
            Some(door_body),
            &[Admin, Manager],
        ),
        endpoint(Method::GET, "/v1/intake-points", &[], None, &[Admin, Manager]),
        endpoint(
            Method::GET,
            "/v1/intake-points/{intake_point_id}",
            &[&door],
            None,
            &[Admin, Manager],
        ),
        endpoint(
            Method::PATCH,
            "/v1/intake-points/{intake_point_id}",
            &[&door],
            Some(json!({"title": "Tell us how we are doing"})),
            &[Admin, Manager],
        ),
        endpoint(
            Method::POST,
            "/v1/intake-points/{intake_point_id}/slug",
            &[&door],
            None,
            &[Admin, Manager],
        ),
        endpoint(
            Method::POST,
            "/v1/evidence/{evidence_id}/verification",
            &[&evidence],
            None,
            &[Admin, Manager],
        ),
        endpoint(
            Method::POST,
            "/v1/recognitions/{recognition_id}/approval",
            &[&recognition],
            Some(json!({"decision": "approved"})),
            &[Admin, Manager],
        ),
        endpoint(
            Method::PUT,
            "/v1/improvement-plans/{plan_id}/actions/{action_id}/publication",
            &[&plan, &done],
            Some(json!({"you_said": "The lounge is cold", "we_did": "New radiators"})),
            &[Admin, Manager],
        ),
        endpoint(
            Method::DELETE,
            "/v1/improvement-plans/{plan_id}/actions/{action_id}/publication",
            &[&plan, &done],
            None,
            &[Admin, Manager],
        ),
        endpoint(
            Method::POST,
            "/v1/improvement-plans",
            &[],
            Some(plan_body),
            &[Admin, Manager, Integration],
        ),
        endpoint(Method::GET, "/v1/improvement-plans", &[], None, EVERYONE),
        endpoint(
            Method::GET,
            "/v1/improvement-plans/{plan_id}",
            &[&plan],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::PATCH,
            "/v1/improvement-plans/{plan_id}",
            &[&plan],
            Some(json!({"priority": "high"})),
            &[Admin, Manager, Integration],
        ),
        endpoint(
            Method::POST,
            "/v1/improvement-plans/{plan_id}/transitions",
            &[&draft],
            Some(json!({"to": "active"})),
            &[Admin, Manager],
        ),
        endpoint(
            Method::POST,
            "/v1/improvement-plans/{plan_id}/actions",
            &[&plan],
            Some(json!({"description": "d", "owner": {"sub": "x"}})),
            &[Admin, Manager, Integration],
        ),
        endpoint(
            Method::GET,
            "/v1/improvement-plans/{plan_id}/actions",
            &[&plan],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/improvement-plans/{plan_id}/actions/{action_id}",
            &[&plan, &action],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::PATCH,
            "/v1/improvement-plans/{plan_id}/actions/{action_id}",
            &[&plan, &action],
            Some(json!({"description": "e"})),
            &[Admin, Manager, Integration],
        ),
        // Owned by the staff user, who may move it; other staff could not.
        endpoint(
            Method::POST,
            "/v1/improvement-plans/{plan_id}/actions/{action_id}/transitions",
            &[&plan, &action],
            Some(json!({"to": "in_progress"})),
            &[Admin, Manager, Staff],
        ),
        endpoint(
            Method::POST,
            "/v1/improvement-plans/{plan_id}/reviews",
            &[&plan],
            Some(json!({"reviewed_on": "2026-01-01", "progress": "green"})),
            &[Admin, Manager],
        ),
        endpoint(
            Method::GET,
            "/v1/improvement-plans/{plan_id}/reviews",
            &[&plan],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/improvement-plans/{plan_id}/trail",
            &[&plan],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/concerns/{concern_id}/trail",
            &[&concern],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/evidence/{evidence_id}/trail",
            &[&evidence],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/learning-events/{learning_event_id}/trail",
            &[&learning],
            None,
            EVERYONE,
        ),
        endpoint(Method::GET, "/v1/actions?owner=me", &[], None, EVERYONE),
        endpoint(
            Method::GET,
            "/v1/actions/{action_id}",
            &[&action],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/improvement-plans/{plan_id}/reviews/{review_id}",
            &[&plan, &review],
            None,
            EVERYONE,
        ),
        endpoint(Method::GET, "/v1/reviews/due", &[], None, EVERYONE),
        endpoint(
            Method::POST,
            "/v1/recognitions",
            &[],
            Some(recognition_body),
            &[Admin, Manager, Staff, Integration],
        ),
        endpoint(Method::GET, "/v1/recognitions", &[], None, EVERYONE),
        endpoint(
            Method::GET,
            "/v1/recognitions/{recognition_id}",
            &[&recognition],
            None,
            EVERYONE,
        ),
        endpoint(Method::GET, "/v1/highlights", &[], None, EVERYONE),
        endpoint(Method::GET, "/v1/frameworks", &[], None, EVERYONE),
        endpoint(
            Method::GET,
            "/v1/frameworks/{framework_id}",
            &[CQC],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/frameworks/{framework_id}/quality-statements",
            &[CQC],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/frameworks/{framework_id}/coverage",
            &[CQC],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::POST,
            "/v1/learning-events",
            &[],
            Some(
                json!({"kind": "reflective_discussion", "occurred_at": "2026-11-01T10:00:00Z",
                             "title": "Reflection", "location_id": location}),
            ),
            &[Admin, Manager, Staff, Integration],
        ),
        endpoint(Method::GET, "/v1/learning-events", &[], None, EVERYONE),
        endpoint(
            Method::GET,
            "/v1/learning-events/{learning_event_id}",
            &[&learning],
            None,
            EVERYONE,
        ),
        // Recorded by the manager: staff may edit only their own.
        endpoint(
            Method::PATCH,
            "/v1/learning-events/{learning_event_id}",
            &[&learning],
            Some(json!({"summary": "s"})),
            &[Admin, Manager, Integration],
        ),
        // Who may add evidence depends on its source: the one operation with two rows.
        endpoint(
            Method::POST,
            "/v1/evidence",
            &[],
            Some(audit.clone()),
            &[Admin, Manager, Integration],
        ),
        endpoint(
            Method::POST,
            "/v1/evidence",
            &[],
            Some(feedback),
            &[Admin, Manager, Staff, Integration],
        ),
        endpoint(Method::GET, "/v1/evidence", &[], None, EVERYONE),
        endpoint(
            Method::GET,
            "/v1/evidence/{evidence_id}",
            &[&evidence],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/evidence/metrics/{metric_name}/series",
            &["score"],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::PATCH,
            "/v1/evidence/{evidence_id}",
            &[&evidence],
            Some(json!({"summary": "s"})),
            &[Admin, Manager, Integration],
        ),
        endpoint(
            Method::DELETE,
            "/v1/evidence/{evidence_id}",
            &[&doomed],
            None,
            &[Admin, Manager, Integration],
        ),
        endpoint(
            Method::PUT,
            "/v1/self-assessments/{location_id}/{framework_id}/{quality_statement_id}",
            &[location, CQC, "safe.learning_culture"],
            Some(json!({"score": 3, "rationale": "r"})),
            &[Admin, Manager],
        ),
        endpoint(
            Method::GET,
            "/v1/self-assessments/{location_id}/{framework_id}",
            &[location, CQC],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/locations/{location_id}/self-assessments/{framework_id}",
            &[location, CQC],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::PUT,
            "/v1/locations/{location_id}/self-assessments/{framework_id}/quality-statements/{quality_statement_id}",
            &[location, CQC, "safe.learning_culture"],
            Some(json!({"score": 4, "rationale": "r"})),
            &[Admin, Manager],
        ),
        endpoint(
            Method::GET,
            "/v1/locations/{location_id}/self-assessments/{framework_id}/quality-statements/{quality_statement_id}",
            &[location, CQC, "safe.learning_culture"],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::POST,
            "/v1/locations/{location_id}/self-assessments/{framework_id}/quality-statements/{quality_statement_id}/scores",
            &[location, CQC, "safe.learning_culture"],
            Some(json!({"score": 1, "rationale": "r"})),
            &[Admin, Manager],
        ),
        endpoint(
            Method::GET,
            "/v1/locations/{location_id}/self-assessments/{framework_id}/quality-statements/{quality_statement_id}/scores",
            &[location, CQC, "safe.learning_culture"],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/locations/{location_id}/self-assessments/{framework_id}/quality-statements/{quality_statement_id}/scores/{score_id}",
            &[location, CQC, "safe.learning_culture", &score],
            None,
            EVERYONE,
        ),
        endpoint(Method::GET, "/v1/organisation", &[], None, EVERYONE),
        endpoint(
            Method::PATCH,
            "/v1/organisation",
            &[],
            Some(json!({"name": "Renamed Ltd"})),
            &[Admin],
        ),
        endpoint(
            Method::POST,
            "/v1/locations",
            &[],
            Some(json!({"name": "New House", "kind": "home_care"})),
            &[Admin],
        ),
        endpoint(Method::GET, "/v1/locations", &[], None, EVERYONE),
        endpoint(
            Method::GET,
            "/v1/locations/{location_id}",
            &[location],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::PATCH,
            "/v1/locations/{location_id}",
            &[location],
            Some(json!({"name": "Renamed"})),
            &[Admin],
        ),
        endpoint(
            Method::POST,
            "/v1/concerns",
            &[],
            Some(
                json!({"title": "t", "description": "d", "category": "other", "risk": "low",
                             "location_id": location}),
            ),
            &[Admin, Manager, Staff, Integration],
        ),
        endpoint(Method::GET, "/v1/concerns", &[], None, EVERYONE),
        endpoint(
            Method::GET,
            "/v1/concerns/{concern_id}",
            &[&concern],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::PATCH,
            "/v1/concerns/{concern_id}",
            &[&concern],
            Some(json!({"risk": "high"})),
            &[Admin, Manager, Integration],
        ),
        endpoint(
            Method::POST,
            "/v1/concerns/{concern_id}/transitions",
            &[&fresh],
            Some(json!({"to": "acknowledged"})),
            &[Admin, Manager],
        ),
        endpoint(
            Method::POST,
            "/v1/concerns/{concern_id}/updates",
            &[&concern],
            Some(json!({"body": "More detail", "visibility": "raiser"})),
            &[Admin, Manager, Staff, Integration],
        ),
        endpoint(
            Method::GET,
            "/v1/concerns/{concern_id}/updates",
            &[&concern],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/concerns/{concern_id}/updates/{update_id}",
            &[&concern, &shared],
            None,
            EVERYONE,
        ),
        endpoint(Method::GET, "/v1/audit-events", &[], None, &[Admin, Viewer]),
        endpoint(Method::GET, "/v1/changes", &[], None, EVERYONE),
        endpoint(Method::GET, "/v1/changes/cursor", &[], None, EVERYONE),
        endpoint(
            Method::POST,
            "/v1/api-clients",
            &[],
            Some(json!({"name": "Vendor", "roles": ["integration"]})),
            &[Admin],
        ),
        endpoint(Method::GET, "/v1/api-clients", &[], None, &[Admin]),
        endpoint(
            Method::GET,
            "/v1/api-clients/{client_id}",
            &[&client],
            None,
            &[Admin],
        ),
        endpoint(
            Method::POST,
            "/v1/api-clients/{client_id}/rotate-secret",
            &[&client],
            None,
            &[Admin],
        ),
        endpoint(
            Method::POST,
            "/v1/api-clients/{client_id}/revoke",
            &[&client],
            None,
            &[Admin],
        ),
        endpoint(
            Method::POST,
            "/v1/webhooks",
            &[],
            Some(json!({"url": "https://vendor.example/hook", "event_types": ["*"], "scope": ["viewer"]})),
            &[Admin],
        ),
        endpoint(Method::GET, "/v1/webhooks", &[], None, &[Admin]),
        endpoint(Method::GET, "/v1/webhooks/{webhook_id}", &[&webhook], None, &[Admin]),
        endpoint(
            Method::PATCH,
            "/v1/webhooks/{webhook_id}",
            &[&webhook],
            Some(json!({"description": "Vendor"})),
            &[Admin],
        ),
        endpoint(
            Method::POST,
            "/v1/webhooks/{webhook_id}/rotate-secret",
            &[&webhook],
            None,
            &[Admin],
        ),
        endpoint(
            Method::POST,
            "/v1/webhooks/{webhook_id}/test",
            &[&webhook],
            None,
            &[Admin],
        ),
        endpoint(
            Method::GET,
            "/v1/webhooks/{webhook_id}/deliveries",
            &[&webhook],
            None,
            &[Admin],
        ),
        endpoint(
            Method::POST,
            "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
            &[&webhook, &delivery],
            None,
            &[Admin],
        ),
        endpoint(
            Method::POST,
            "/v1/imports?kind=evidence&mode=dry_run",
            &[],
            Some(json!([audit])),
            &[Admin, Manager, Integration],
        ),
        endpoint(
            Method::GET,
            "/v1/imports",
            &[],
            None,
            &[Admin, Manager, Integration],
        ),
        endpoint(
            Method::GET,
            "/v1/imports/{import_id}",
            &[&import],
            None,
            &[Admin, Manager, Integration],
        ),
        endpoint(
            Method::GET,
            "/v1/exports/inspection-pack",
            &[],
            None,
            &[Admin, Manager, Viewer],
        ),
        endpoint(
            Method::GET,
            "/v1/insights/concerns",
            &[],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/insights/actions",
            &[],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/insights/learning",
            &[],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/insights/evidence",
            &[],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/governance-packs/{month}",
            &["2026-10"],
            None,
            EVERYONE,
        ),
        endpoint(
            Method::POST,
            "/v1/governance-packs/{month}/review",
            &[&review_month],
            Some(json!({"went_well": "Falls down", "did_not_go_well": "Call bells",
                        "to_change": "Second night carer"})),
            &[Admin, Manager],
        ),
        // Last: the rows above use the endpoint.
        endpoint(
            Method::DELETE,
            "/v1/webhooks/{webhook_id}",
            &[&webhook],
            None,
            &[Admin],
        ),
    ]
}

#[actix_web::test]
async fn every_role_against_every_endpoint() {
    let app = TestApp::new().await;
    for role in EVERYONE {
        // Fresh records per role: an allowed transition changes the concern it moves.
        for endpoint in endpoints(&app).await {
            let response = app
                .call(
                    endpoint.method.clone(),
                    &endpoint.path,
                    Some(app.token(*role)),
                    endpoint.body.clone(),
                )
                .await;
            if endpoint.allowed.contains(role) {
                assert!(
                    response.status.is_success(),
                    "{role} {} {}: expected 2xx, got {} {:#}",
                    endpoint.method,
                    endpoint.path,
                    response.status,
                    response.body
                );
            } else {
                assert_eq!(
                    response.status, 403,
                    "{role} {} {}: expected 403, got {:#}",
                    endpoint.method, endpoint.path, response.body
                );
                assert_eq!(response.body["code"], "forbidden");
            }
        }
    }
}

/// The table names every operation of the generated OpenAPI document that takes a token, and
/// nothing else, so a new route fails here until it has a row.
#[actix_web::test]
async fn the_table_has_a_row_for_every_operation_of_the_document() {
    let app = TestApp::new().await;
    let document = careloop::api::docs::document();
    let (documented, token_free): (Vec<_>, Vec<_>) =
        operations(document).partition(|(_, _, operation)| takes_a_token(document, operation));
    let token_free: Vec<(&str, &str)> = token_free
        .iter()
        .map(|(method, path, _)| (method.as_str(), *path))
        .collect();
    assert_eq!(
        token_free, TOKEN_FREE,
        "the operations that take no token are not the ones TOKEN_FREE names"
    );
    let documented: BTreeSet<(String, &str)> = documented
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    let rows: Vec<(String, &str)> = endpoints(&app)
        .await
        .iter()
        .map(|e| (e.method.to_string(), e.template))
        .collect();
    let in_table: BTreeSet<(String, &str)> = rows.iter().cloned().collect();
    let list = |operations: Vec<&(String, &str)>| {
        operations
            .iter()
            .map(|(method, path)| format!("\n  {method} {path}"))
            .collect::<String>()
    };
    let without_row = list(documented.difference(&in_table).collect());
    let undocumented = list(in_table.difference(&documented).collect());
    assert!(
        without_row.is_empty() && undocumented.is_empty(),
        "operations of the document without a row:{without_row}\n\
         rows for operations the document does not have, or has without a token:{undocumented}"
    );
    let mut repeated: Vec<&(String, &str)> = rows
        .iter()
        .enumerate()
        .filter(|(i, row)| rows[..*i].contains(row))
        .map(|(_, row)| row)
        .collect();
    repeated.dedup();
    assert_eq!(
        repeated,
        [&("POST".to_owned(), "/v1/evidence")],
        "one row per operation, but for evidence, whose source decides who may add it"
    );
}

#[actix_web::test]
async fn a_token_without_roles_may_do_nothing() {
    let app = TestApp::new().await;
    let nobody = sign(&claims(&app.org, &[], "nobody"));
    for endpoint in endpoints(&app).await {
        let response = app
            .call(
                endpoint.method.clone(),
                &endpoint.path,
                Some(&nobody),
                endpoint.body.clone(),
            )
            .await;
        // Even reads open to every role need a role.
        assert_eq!(
            response.status, 403,
            "{} {}",
            endpoint.method, endpoint.path
        );
    }
}
