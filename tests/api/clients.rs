//! Machine clients: registration, the client credentials grant, careloop's own ES256 tokens
//! beside the identity provider's, rotation, revocation and rate limits.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use base64::Engine;
use careloop::auth::{Role, TokenSigner};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Value};

use crate::helpers::{claims, sign, test_signer, test_verifier, TestApp, RATE_LIMIT, SECRET};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// Registers a client as the admin: its id and secret.
async fn register(app: &TestApp, body: Value) -> (String, String) {
    let made = app
        .post(&app.admin, "/v1/api-clients", body)
        .await
        .expect(201);
    assert_eq!(made.header("cache-control"), Some("no-store"));
    let id = made.body["client_id"].as_str().unwrap().to_owned();
    assert_eq!(
        made.header("location"),
        Some(format!("/v1/api-clients/{id}").as_str())
    );
    (id, made.body["client_secret"].as_str().unwrap().to_owned())
}

/// `POST /oauth/token` with a form body and optional HTTP Basic credentials.
async fn token_request(
    app: &TestApp,
    form: &str,
    basic: Option<(&str, &str)>,
) -> crate::helpers::Response {
    let mut request = TestRequest::post()
        .uri("/oauth/token")
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(form.to_owned());
    if let Some((id, secret)) = basic {
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        request = request.insert_header(("authorization", format!("Basic {encoded}")));
    }
    app.send(request).await
}

async fn token_for(app: &TestApp, id: &str, secret: &str) -> String {
    let issued = token_request(app, "grant_type=client_credentials", Some((id, secret)))
        .await
        .expect(200);
    assert_eq!(issued.header("cache-control"), Some("no-store"));
    assert_eq!(issued.body["token_type"], "Bearer");
    assert_eq!(issued.body["expires_in"], 900);
    issued.body["access_token"].as_str().unwrap().to_owned()
}

fn oauth_error(
    response: crate::helpers::Response,
    status: u16,
    error: &str,
) -> crate::helpers::Response {
    let response = response.expect(status);
    assert_eq!(response.body["error"], error, "{}", response.body);
    assert!(response.body["error_description"].is_string());
    response
}

#[actix_web::test]
async fn a_registered_client_gets_tokens_that_act_with_its_roles_only() {
    let app = TestApp::new().await;
    let (id, secret) = register(
        &app,
        json!({"name": "Acme care records", "roles": ["integration"]}),
    )
    .await;
    assert!(secret.starts_with("cls_"));
    // Shown once: reads never show it, and only its hash is stored.
    let read = app
        .get(&app.admin, &format!("/v1/api-clients/{id}"))
        .await
        .expect(200);
    assert_eq!(read.body["client_secret"], Value::Null);
    assert_eq!(read.body["roles"], json!(["integration"]));
    let listed = app.get(&app.admin, "/v1/api-clients").await.expect(200);
    assert_eq!(listed.body["items"][0]["client_id"], id.as_str());
    let stored = app.with_conn(crate::helpers::dump_everything);
    assert!(!stored.contains(&secret), "the secret is stored");

    // HTTP Basic, or the form fields.
    let token = token_for(&app, &id, &secret).await;
    token_request(
        &app,
        &format!("grant_type=client_credentials&client_id={id}&client_secret={secret}"),
        None,
    )
    .await
    .expect(200);
    // The token acts as the client: an integration raises, cannot triage, never sees a
    // confidential concern; the trail names the client.
    let raised = app.raise(&token, json!({})).await;
    app.post(
        &token,
        &format!("/v1/concerns/{raised}/transitions"),
        json!({"to": "acknowledged"}),
    )
    .await
    .expect_problem(403, "forbidden");
    let confidential = app
        .raise(&app.manager, json!({"category": "whistleblowing"}))
        .await;
    app.get(&token, &format!("/v1/concerns/{confidential}"))
        .await
        .expect_problem(404, "not_found");
    let audit = app
        .get(
            &app.admin,
            &format!("/v1/audit-events?resource_id={raised}"),
        )
        .await
        .expect(200);
    assert_eq!(audit.body["items"][0]["actor"]["sub"], id.as_str());
    assert_eq!(audit.body["items"][0]["actor"]["name"], Value::Null);
    // A scope narrows the roles; one the client does not hold is refused.
    let narrowed = token_request(
        &app,
        "grant_type=client_credentials&scope=integration",
        Some((&id, &secret)),
    )
    .await
    .expect(200);
    assert_eq!(narrowed.body["scope"], "integration");
    oauth_error(
        token_request(
            &app,
            "grant_type=client_credentials&scope=admin",
            Some((&id, &secret)),
        )
        .await,
        400,
        "invalid_scope",
    );
}

#[actix_web::test]
async fn bad_token_requests_get_oauth_errors() {
    let app = TestApp::new().await;
    let (id, secret) = register(&app, json!({"name": "Vendor", "roles": ["viewer"]})).await;
    let wrong = oauth_error(
        token_request(
            &app,
            "grant_type=client_credentials",
            Some((&id, "cls_wrong")),
        )
        .await,
        401,
        "invalid_client",
    );
    assert_eq!(
        wrong.header("www-authenticate"),
        Some("Basic realm=\"careloop\"")
    );
    oauth_error(
        token_request(&app, "grant_type=client_credentials", None).await,
        401,
        "invalid_client",
    );
    oauth_error(
        token_request(
            &app,
            "grant_type=client_credentials",
            Some(("not-a-client", &secret)),
        )
        .await,
        401,
        "invalid_client",
    );
    oauth_error(
        token_request(&app, "grant_type=password", Some((&id, &secret))).await,
        400,
        "unsupported_grant_type",
    );
    oauth_error(
        token_request(&app, "", Some((&id, &secret))).await,
        400,
        "invalid_request",
    );
    oauth_error(
        token_request(
            &app,
            "grant_type=client_credentials&grant_type=client_credentials",
            Some((&id, &secret)),
        )
        .await,
        400,
        "invalid_request",
    );
    // A parameter careloop does not know is ignored, however often it comes.
    token_request(
        &app,
        "grant_type=client_credentials&x=1&x=2",
        Some((&id, &secret)),
    )
    .await
    .expect(200);
    // Two ways of authenticating at once.
    oauth_error(
        token_request(
            &app,
            &format!("grant_type=client_credentials&client_id={id}&client_secret={secret}"),
            Some((&id, &secret)),
        )
        .await,
        400,
        "invalid_request",
    );
    // JSON is not the token endpoint's format.
    let json_body = app
        .send(
            TestRequest::post()
                .uri("/oauth/token")
                .set_json(json!({"grant_type": "client_credentials"})),
        )
        .await;
    oauth_error(json_body, 400, "invalid_request");

    // Registration is checked: never admin, known locations, a name.
    for (body, field) in [
        (json!({"name": "X", "roles": ["admin"]}), "roles[0]"),
        (json!({"name": "X", "roles": []}), "roles"),
        (json!({"name": " ", "roles": ["viewer"]}), "name"),
        (
            json!({"name": "X", "roles": ["viewer"], "locations": [crate::helpers::nothing_id()]}),
            "locations[0]",
        ),
    ] {
        let refused = app
            .post(&app.admin, "/v1/api-clients", body.clone())
            .await
            .expect_problem(422, "validation_failed");
        assert_eq!(refused.body["errors"][0]["field"], field, "{body}");
    }
    assert_eq!(app.count("api_clients"), 1);
}

#[actix_web::test]
async fn rotating_and_revoking_stop_the_old_credentials() {
    let app = TestApp::new().await;
    let (id, old) = register(
        &app,
        json!({"name": "Home app", "roles": ["staff"], "locations": [app.location]}),
    )
    .await;
    let token = token_for(&app, &id, &old).await;
    // Limited to its location, as its registration says.
    let raised = app
        .post(
            &token,
            "/v1/concerns",
            json!({"title": "t", "description": "d", "category": "care_practice", "risk": "low",
                   "location_id": app.second_location}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(raised.body["errors"][0]["field"], "location_id");

    let rotated = app
        .post(
            &app.admin,
            &format!("/v1/api-clients/{id}/rotate-secret"),
            json!({}),
        )
        .await
        .expect(200);
    let new = rotated.body["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(rotated.body["secret_rotated_at"].is_string());
    oauth_error(
        token_request(&app, "grant_type=client_credentials", Some((&id, &old))).await,
        401,
        "invalid_client",
    );
    let fresh = token_for(&app, &id, &new).await;
    app.get(&fresh, "/v1/concerns").await.expect(200);

    let revoked = app
        .post(
            &app.admin,
            &format!("/v1/api-clients/{id}/revoke"),
            json!({}),
        )
        .await
        .expect(200);
    assert!(revoked.body["revoked_at"].is_string());
    // Its tokens stop at once on this node (the others re-read within 30 seconds).
    for token in [&token, &fresh] {
        app.get(token, "/v1/concerns")
            .await
            .expect_problem(401, "unauthorized");
    }
    oauth_error(
        token_request(&app, "grant_type=client_credentials", Some((&id, &new))).await,
        401,
        "invalid_client",
    );
    app.post(
        &app.admin,
        &format!("/v1/api-clients/{id}/rotate-secret"),
        json!({}),
    )
    .await
    .expect_problem(409, "revoked");
    // Revoking again changes nothing.
    let again = app
        .post(
            &app.admin,
            &format!("/v1/api-clients/{id}/revoke"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(again.body["version"], revoked.body["version"]);
    let actions: Vec<Value> = app
        .get(&app.admin, &format!("/v1/audit-events?resource_id={id}"))
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].clone())
        .collect();
    assert_eq!(actions, [json!("create"), json!("update"), json!("revoke")]);
}

#[actix_web::test]
async fn careloop_signs_with_its_es256_key_beside_the_identity_providers_tokens() {
    let signing = std::path::PathBuf::from(format!("{FIXTURES}/careloop-signing.pem"));
    let provider = std::path::PathBuf::from(format!("{FIXTURES}/ec-public.pem"));
    let signer = || TokenSigner::es256_from_file(&signing).unwrap();
    let verifier = test_verifier()
        .with_signing_key(&signer())
        .with_public_key_file(&provider)
        .unwrap();
    let app = TestApp::build(verifier, signer(), RATE_LIMIT, true).await;
    let provider_token = jsonwebtoken::encode(
        &Header::new(Algorithm::ES256),
        &claims(&app.org, &[Role::Admin], "idp-admin"),
        &EncodingKey::from_ec_pem(&std::fs::read(format!("{FIXTURES}/ec-private.pem")).unwrap())
            .unwrap(),
    )
    .unwrap();
    let made = app
        .post(
            &provider_token,
            "/v1/api-clients",
            json!({"name": "Vendor", "roles": ["viewer"]}),
        )
        .await
        .expect(201);
    let id = made.body["client_id"].as_str().unwrap();
    let secret = made.body["client_secret"].as_str().unwrap();
    let token = token_for(&app, id, secret).await;

    // A client verifies it with the published key, as any JWT library would.
    let jwks = app
        .send(TestRequest::get().uri("/.well-known/jwks.json"))
        .await
        .expect(200);
    let key = &jwks.body["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["crv"].as_str(),
            key["alg"].as_str()
        ),
        (Some("EC"), Some("P-256"), Some("ES256"))
    );
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    assert_eq!(header.kid.as_deref(), key["kid"].as_str());
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.clone()).unwrap();
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&["careloop"]);
    validation.set_issuer(&["careloop"]);
    let decoded =
        jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_jwk(&jwk).unwrap(), &validation)
            .unwrap();
    assert_eq!(decoded.claims["sub"], id);
    assert_eq!(decoded.claims["client_id"], id);
    assert_eq!(decoded.claims["roles"], json!(["viewer"]));
    let lifetime = decoded.claims["exp"].as_i64().unwrap() - chrono::Utc::now().timestamp();
    assert!((890..=900).contains(&lifetime), "{lifetime}");

    // Both kinds of token work; the shared test secret is not trusted here.
    app.get(&token, "/v1/organisation").await.expect(200);
    app.get(&provider_token, "/v1/organisation")
        .await
        .expect(200);
    app.get(
        &sign(&claims(&app.org, &[Role::Admin], "x")),
        "/v1/organisation",
    )
    .await
    .expect_problem(401, "unauthorized");
    // A token signed with careloop's key but claiming a client it never issued to is refused.
    let mut forged = claims(&app.org, &[Role::Viewer], "someone");
    forged.client_id = Some(crate::helpers::nothing_id());
    let forged = signer().sign(forged).unwrap();
    app.get(&forged, "/v1/organisation")
        .await
        .expect_problem(401, "unauthorized");
}

#[actix_web::test]
async fn in_secret_mode_the_token_keys_are_empty_and_tokens_use_the_secret() {
    let app = TestApp::new().await;
    let jwks = app
        .send(TestRequest::get().uri("/.well-known/jwks.json"))
        .await
        .expect(200);
    assert_eq!(jwks.body, json!({"keys": []}));
    let (id, secret) = register(&app, json!({"name": "Vendor", "roles": ["viewer"]})).await;
    let token = token_for(&app, &id, &secret).await;
    assert_eq!(
        jsonwebtoken::decode_header(&token).unwrap().alg,
        Algorithm::HS256
    );
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[crate::helpers::AUDIENCE]);
    jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_secret(SECRET), &validation).unwrap();
}

#[actix_web::test]
async fn each_subject_has_its_quota_and_past_it_waits() {
    let app = TestApp::build(test_verifier().with_secret(SECRET), test_signer(), 3, true).await;
    for left in [2, 1, 0] {
        let answer = app.get(&app.viewer, "/v1/organisation").await.expect(200);
        assert_eq!(
            answer.header("ratelimit-policy"),
            Some("\"default\";q=3;w=60")
        );
        let state = answer.header("ratelimit").unwrap();
        assert!(
            state.starts_with(&format!("\"default\";r={left};t=")),
            "{state}"
        );
    }
    let refused = app
        .get(&app.viewer, "/v1/organisation")
        .await
        .expect_problem(429, "too_many_requests");
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(refused
        .header("ratelimit")
        .unwrap()
        .starts_with("\"default\";r=0;"));
    // A client's token requests count against its quota too.
    let (id, secret) = register(&app, json!({"name": "Vendor", "roles": ["viewer"]})).await;
    for _ in 0..3 {
        token_request(&app, "grant_type=client_credentials", Some((&id, &secret)))
            .await
            .expect(200);
    }
    token_request(&app, "grant_type=client_credentials", Some((&id, &secret)))
        .await
        .expect_problem(429, "too_many_requests");
    // Another subject is counted apart; a request without a token is not counted at all.
    app.get(&app.manager, "/v1/organisation").await.expect(200);
    let health = app
        .call(Method::GET, "/health/live", None, None)
        .await
        .expect(200);
    assert_eq!(health.header("ratelimit"), None);
}

#[actix_web::test]
async fn an_admin_of_some_locations_manages_only_clients_and_endpoints_limited_to_them() {
    let app = TestApp::new().await;
    let everywhere = register(&app, json!({"name": "Everywhere", "roles": ["viewer"]}))
        .await
        .0;
    let mut limited = claims(&app.org, &[Role::Admin], "site-admin");
    limited.locations = Some(vec![app.location.clone()]);
    let limited = sign(&limited);
    // Not one that reaches every location: not registered, read, rotated or listed.
    let refused = app
        .post(
            &limited,
            "/v1/api-clients",
            json!({"name": "X", "roles": ["manager"]}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(refused.body["errors"][0]["field"], "locations");
    app.post(
        &limited,
        "/v1/api-clients",
        json!({"name": "X", "roles": ["viewer"], "locations": [app.second_location]}),
    )
    .await
    .expect_problem(422, "validation_failed");
    for path in [
        format!("/v1/api-clients/{everywhere}"),
        format!("/v1/api-clients/{everywhere}/rotate-secret"),
    ] {
        let answer = if path.ends_with("secret") {
            app.post(&limited, &path, json!({})).await
        } else {
            app.get(&limited, &path).await
        };
        answer.expect_problem(404, "not_found");
    }
    let mine = app
        .post(
            &limited,
            "/v1/api-clients",
            json!({"name": "Site app", "roles": ["staff"], "locations": [app.location]}),
        )
        .await
        .expect(201)
        .body["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = app.get(&limited, "/v1/api-clients").await.expect(200);
    let ids: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [mine.as_str()]);
    // The same for webhook endpoints.
    let webhook = app
        .post(
            &app.admin,
            "/v1/webhooks",
            json!({"url": "https://vendor.example/hook", "event_types": ["*"], "scope": ["viewer"]}),
        )
        .await
        .expect(201)
        .id();
    app.get(&limited, &format!("/v1/webhooks/{webhook}"))
        .await
        .expect_problem(404, "not_found");
    let refused = app
        .post(
            &limited,
            "/v1/webhooks",
            json!({"url": "https://vendor.example/hook", "event_types": ["*"], "scope": ["viewer"]}),
        )
        .await
        .expect_problem(422, "validation_failed");
    assert_eq!(refused.body["errors"][0]["field"], "location_ids");
    // Their audit trail: to who manages them, not to a viewer.
    let trail = |token: &str, id: &str| {
        let path = format!("/v1/audit-events?resource_id={id}");
        let token = token.to_owned();
        let app = &app;
        async move {
            app.get(&token, &path).await.expect(200).body["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(trail(&app.admin, &everywhere).await, 1);
    assert_eq!(trail(&app.viewer, &everywhere).await, 0);
    assert_eq!(trail(&app.viewer, &webhook).await, 0);
}
