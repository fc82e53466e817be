//! Every role against every authenticated endpoint: 2xx where the permission table allows it,
//! 403 where it does not. The expectations are written out here, independently of the table.

use actix_web::http::Method;
use careloop::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{claims, sign, TestApp};

use Role::*;

const EVERYONE: &[Role] = &[Admin, Manager, Staff, Viewer, Integration];

struct Endpoint {
    method: Method,
    path: String,
    body: Option<Value>,
    allowed: &'static [Role],
}

fn endpoint(
    method: Method,
    path: String,
    body: Option<Value>,
    allowed: &'static [Role],
) -> Endpoint {
    Endpoint {
        method,
        path,
        body,
        allowed,
    }
}

/// The endpoints, with fresh records where a call changes state (a transition cannot repeat).
async fn endpoints(app: &TestApp) -> Vec<Endpoint> {
    let location = &app.location;
    // Raised by the staff user and not confidential, so every role may see it.
    let concern = app.raise(&app.staff, json!({})).await;
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
    let doomed = app
        .post(&app.manager, "/v1/evidence", audit.clone())
        .await
        .expect(201)
        .id();
    let feedback = json!({"source": "feedback", "evidence_category": "peoples_experience",
                          "quality_statements": ["caring.kindness_compassion_dignity"], "title": "Thanks",
                          "observed_at": "2026-11-01T10:00:00Z", "location_id": location, "respondent": "relative"});
    let assessment = format!("/v1/self-assessments/{location}/cqc-saf-2024");
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
    let recognition_body = json!({"kind": "thanks", "title": "t", "recipients": ["x"], "from": "staff",
                                  "occurred_on": "2026-01-01", "location_id": location});
    let recognition = app
        .post(&app.manager, "/v1/recognitions", recognition_body.clone())
        .await
        .expect(201)
        .id();
    let plans = format!("/v1/improvement-plans/{plan}");
    vec![
        endpoint(
            Method::POST,
            "/v1/improvement-plans".into(),
            Some(plan_body),
            &[Admin, Manager, Integration],
        ),
        endpoint(Method::GET, "/v1/improvement-plans".into(), None, EVERYONE),
        endpoint(Method::GET, plans.clone(), None, EVERYONE),
        endpoint(
            Method::PATCH,
            plans.clone(),
            Some(json!({"priority": "high"})),
            &[Admin, Manager, Integration],
        ),
        endpoint(
            Method::POST,
            format!("/v1/improvement-plans/{draft}/transitions"),
            Some(json!({"to": "active"})),
            &[Admin, Manager],
        ),
        endpoint(
            Method::POST,
            format!("{plans}/actions"),
            Some(json!({"description": "d", "owner": {"sub": "x"}})),
            &[Admin, Manager, Integration],
        ),
        endpoint(Method::GET, format!("{plans}/actions"), None, EVERYONE),
        endpoint(
            Method::GET,
            format!("{plans}/actions/{action}"),
            None,
            EVERYONE,
        ),
        endpoint(
            Method::PATCH,
            format!("{plans}/actions/{action}"),
            Some(json!({"description": "e"})),
            &[Admin, Manager, Integration],
        ),
        // Owned by the staff user, who may move it; other staff could not.
        endpoint(
            Method::POST,
            format!("{plans}/actions/{action}/transitions"),
            Some(json!({"to": "in_progress"})),
            &[Admin, Manager, Staff],
        ),
        endpoint(
            Method::POST,
            format!("{plans}/reviews"),
            Some(json!({"reviewed_on": "2026-01-01", "progress": "green"})),
            &[Admin, Manager],
        ),
        endpoint(Method::GET, format!("{plans}/reviews"), None, EVERYONE),
        endpoint(Method::GET, format!("{plans}/trail"), None, EVERYONE),
        endpoint(
            Method::GET,
            format!("/v1/concerns/{concern}/trail"),
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            format!("/v1/evidence/{evidence}/trail"),
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            format!("/v1/learning-events/{learning}/trail"),
            None,
            EVERYONE,
        ),
        endpoint(Method::GET, "/v1/actions?owner=me".into(), None, EVERYONE),
        endpoint(Method::GET, "/v1/reviews/due".into(), None, EVERYONE),
        endpoint(
            Method::POST,
            "/v1/recognitions".into(),
            Some(recognition_body),
            &[Admin, Manager, Staff, Integration],
        ),
        endpoint(Method::GET, "/v1/recognitions".into(), None, EVERYONE),
        endpoint(
            Method::GET,
            format!("/v1/recognitions/{recognition}"),
            None,
            EVERYONE,
        ),
        endpoint(Method::GET, "/v1/highlights".into(), None, EVERYONE),
        endpoint(Method::GET, "/v1/frameworks".into(), None, EVERYONE),
        endpoint(
            Method::GET,
            "/v1/frameworks/cqc-saf-2024".into(),
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/frameworks/cqc-saf-2024/quality-statements".into(),
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/frameworks/cqc-saf-2024/coverage".into(),
            None,
            EVERYONE,
        ),
        endpoint(
            Method::POST,
            "/v1/learning-events".into(),
            Some(
                json!({"kind": "reflective_discussion", "occurred_at": "2026-11-01T10:00:00Z",
                             "title": "Reflection", "location_id": location}),
            ),
            &[Admin, Manager, Staff, Integration],
        ),
        endpoint(Method::GET, "/v1/learning-events".into(), None, EVERYONE),
        endpoint(
            Method::GET,
            format!("/v1/learning-events/{learning}"),
            None,
            EVERYONE,
        ),
        // Recorded by the manager: staff may edit only their own.
        endpoint(
            Method::PATCH,
            format!("/v1/learning-events/{learning}"),
            Some(json!({"summary": "s"})),
            &[Admin, Manager, Integration],
        ),
        endpoint(
            Method::POST,
            "/v1/evidence".into(),
            Some(audit),
            &[Admin, Manager, Integration],
        ),
        endpoint(
            Method::POST,
            "/v1/evidence".into(),
            Some(feedback),
            &[Admin, Manager, Staff, Integration],
        ),
        endpoint(Method::GET, "/v1/evidence".into(), None, EVERYONE),
        endpoint(
            Method::GET,
            format!("/v1/evidence/{evidence}"),
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/evidence/metrics/score/series".into(),
            None,
            EVERYONE,
        ),
        endpoint(
            Method::PATCH,
            format!("/v1/evidence/{evidence}"),
            Some(json!({"summary": "s"})),
            &[Admin, Manager, Integration],
        ),
        endpoint(
            Method::DELETE,
            format!("/v1/evidence/{doomed}"),
            None,
            &[Admin, Manager, Integration],
        ),
        endpoint(
            Method::PUT,
            format!("{assessment}/safe.learning_culture"),
            Some(json!({"score": 3, "rationale": "r"})),
            &[Admin, Manager],
        ),
        endpoint(Method::GET, assessment.clone(), None, EVERYONE),
        endpoint(Method::GET, "/v1/organisation".into(), None, EVERYONE),
        endpoint(
            Method::PATCH,
            "/v1/organisation".into(),
            Some(json!({"name": "Renamed Ltd"})),
            &[Admin],
        ),
        endpoint(
            Method::POST,
            "/v1/locations".into(),
            Some(json!({"name": "New House", "kind": "home_care"})),
            &[Admin],
        ),
        endpoint(Method::GET, "/v1/locations".into(), None, EVERYONE),
        endpoint(
            Method::GET,
            format!("/v1/locations/{location}"),
            None,
            EVERYONE,
        ),
        endpoint(
            Method::PATCH,
            format!("/v1/locations/{location}"),
            Some(json!({"name": "Renamed"})),
            &[Admin],
        ),
        endpoint(
            Method::POST,
            "/v1/concerns".into(),
            Some(
                json!({"title": "t", "description": "d", "category": "other", "risk": "low",
                             "location_id": location}),
            ),
            &[Admin, Manager, Staff, Integration],
        ),
        endpoint(Method::GET, "/v1/concerns".into(), None, EVERYONE),
        endpoint(
            Method::GET,
            format!("/v1/concerns/{concern}"),
            None,
            EVERYONE,
        ),
        endpoint(
            Method::PATCH,
            format!("/v1/concerns/{concern}"),
            Some(json!({"risk": "high"})),
            &[Admin, Manager, Integration],
        ),
        endpoint(
            Method::POST,
            format!("/v1/concerns/{fresh}/transitions"),
            Some(json!({"to": "acknowledged"})),
            &[Admin, Manager],
        ),
        endpoint(
            Method::POST,
            format!("/v1/concerns/{concern}/updates"),
            Some(json!({"body": "More detail", "visibility": "raiser"})),
            &[Admin, Manager, Staff, Integration],
        ),
        endpoint(
            Method::GET,
            format!("/v1/concerns/{concern}/updates"),
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            format!("/v1/concerns/{concern}/updates/{shared}"),
            None,
            EVERYONE,
        ),
        endpoint(
            Method::GET,
            "/v1/audit-events".into(),
            None,
            &[Admin, Viewer],
        ),
    ]
}

#[actix_web::test]
async fn every_role_against_every_endpoint() {
    let app = TestApp::new().await;
    let mut checked = 0;
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
            checked += 1;
        }
    }
    assert_eq!(checked, 54 * EVERYONE.len());
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
