//! Token verification: what is accepted, what is answered 401, and tenancy as 404.

use actix_web::http::Method;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use careloop::auth::{Audience, Claims, Role};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::helpers::{claims, nothing_id, sign, test_verifier, TestApp, AUDIENCE};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).expect("test fixture")
}

fn manager_claims(app: &TestApp) -> Claims {
    claims(&app.org, &[Role::Manager], "manager-1")
}

async fn expect_rejected(app: &TestApp, token: &str) {
    let response = app
        .call(Method::GET, "/v1/organisation", Some(token), None)
        .await
        .expect_problem(401, "unauthorized");
    assert!(
        response
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer")),
        "401 must carry WWW-Authenticate: Bearer"
    );
    let detail = response.body["detail"].as_str().unwrap_or_default();
    // Library names are CamelCase (`InvalidSignature`, `ExpiredSignature`, `JsonError`).
    let library_word = detail.split(|c: char| !c.is_alphanumeric()).find(|word| {
        let letters: Vec<char> = word.chars().collect();
        letters
            .windows(2)
            .any(|pair| pair[0].is_lowercase() && pair[1].is_uppercase())
    });
    assert_eq!(
        library_word, None,
        "the 401 speaks a library's language: {detail}"
    );
}

/// The 401's detail for a token.
async fn why_rejected(app: &TestApp, token: &str) -> String {
    app.call(Method::GET, "/v1/organisation", Some(token), None)
        .await
        .expect_problem(401, "unauthorized")
        .body["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[actix_web::test]
async fn token_errors_say_what_is_wrong_in_plain_words() {
    let app = TestApp::new().await;
    let mut expired = manager_claims(&app);
    expired.exp = chrono::Utc::now().timestamp() - 3600;
    assert_eq!(
        why_rejected(&app, &sign(&expired)).await,
        "the token has expired (exp is past)"
    );
    // Within the documented leeway, a just-expired token still works.
    let mut just_expired = manager_claims(&app);
    just_expired.exp = chrono::Utc::now().timestamp() - 30;
    app.get(&sign(&just_expired), "/v1/organisation")
        .await
        .expect(200);

    let forged =
        careloop::auth::mint_hs256(b"some-other-secret-of-enough-length", &manager_claims(&app));
    assert_eq!(
        why_rejected(&app, &forged).await,
        "the token's signature is wrong: it was not signed with a key this service trusts"
    );
    let mut wrong_issuer = manager_claims(&app);
    wrong_issuer.iss = Some("https://elsewhere.test".into());
    assert_eq!(
        why_rejected(&app, &sign(&wrong_issuer)).await,
        "the token's issuer (iss) is not the one this service trusts"
    );
    let mut wrong_audience = manager_claims(&app);
    wrong_audience.aud = Some(Audience::One("another-api".into()));
    assert_eq!(
        why_rejected(&app, &sign(&wrong_audience)).await,
        "the token is not meant for this service (aud)"
    );
    let mut no_issuer = manager_claims(&app);
    no_issuer.iss = None;
    assert_eq!(
        why_rejected(&app, &sign(&no_issuer)).await,
        "the token has no iss claim"
    );
    assert_eq!(
        why_rejected(&app, "not-a-jwt").await,
        "the bearer token is not a well-formed JWT"
    );
}

#[actix_web::test]
async fn a_valid_token_is_accepted() {
    let app = TestApp::new().await;
    let token = sign(&manager_claims(&app));
    let response = app.get(&token, "/v1/organisation").await.expect(200);
    assert_eq!(response.body["id"], app.org);
}

#[actix_web::test]
async fn missing_and_malformed_tokens_are_401() {
    let app = TestApp::new().await;
    let response = app
        .call(Method::GET, "/v1/concerns", None, None)
        .await
        .expect_problem(401, "unauthorized");
    assert!(response
        .header("www-authenticate")
        .unwrap()
        .starts_with("Bearer"));
    expect_rejected(&app, "not-a-jwt").await;
    let basic = app
        .send(
            actix_web::test::TestRequest::get()
                .uri("/v1/organisation")
                .insert_header(("Authorization", "Basic dXNlcjpwYXNz")),
        )
        .await
        .expect_problem(401, "unauthorized");
    assert_eq!(
        basic.body["detail"],
        "the Authorization header must be `Bearer <token>`"
    );
}

#[actix_web::test]
async fn expired_and_not_yet_valid_tokens_are_401() {
    let app = TestApp::new().await;
    let mut expired = manager_claims(&app);
    expired.exp = chrono::Utc::now().timestamp() - 3600;
    expect_rejected(&app, &sign(&expired)).await;

    // `nbf` is not one of careloop's claims, so it is added to the JSON by hand.
    let mut early = serde_json::to_value(manager_claims(&app)).unwrap();
    early["nbf"] = json!(chrono::Utc::now().timestamp() + 3600);
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &early,
        &EncodingKey::from_secret(crate::helpers::SECRET),
    )
    .unwrap();
    expect_rejected(&app, &token).await;
}

#[actix_web::test]
async fn wrong_issuer_audience_and_signature_are_401() {
    let app = TestApp::new().await;
    let mut wrong_issuer = manager_claims(&app);
    wrong_issuer.iss = Some("https://elsewhere.test".into());
    expect_rejected(&app, &sign(&wrong_issuer)).await;

    let mut no_issuer = manager_claims(&app);
    no_issuer.iss = None;
    expect_rejected(&app, &sign(&no_issuer)).await;

    let mut wrong_audience = manager_claims(&app);
    wrong_audience.aud = Some(Audience::One("another-api".into()));
    expect_rejected(&app, &sign(&wrong_audience)).await;

    let forged =
        careloop::auth::mint_hs256(b"some-other-secret-of-enough-length", &manager_claims(&app));
    expect_rejected(&app, &forged).await;
}

/// An identity provider may name several audiences; the token is for careloop when ours is
/// among them.
#[actix_web::test]
async fn a_list_of_audiences_must_hold_ours() {
    let app = TestApp::new().await;
    let mut ours_among_others = manager_claims(&app);
    ours_among_others.aud = Some(Audience::Many(vec!["rota-app".into(), AUDIENCE.into()]));
    app.get(&sign(&ours_among_others), "/v1/organisation")
        .await
        .expect(200);

    let mut others_only = manager_claims(&app);
    others_only.aud = Some(Audience::Many(vec![
        "rota-app".into(),
        "payroll-app".into(),
    ]));
    assert_eq!(
        why_rejected(&app, &sign(&others_only)).await,
        "the token is not meant for this service (aud)"
    );
    let mut empty = manager_claims(&app);
    empty.aud = Some(Audience::Many(Vec::new()));
    assert_eq!(
        why_rejected(&app, &sign(&empty)).await,
        "the token is not meant for this service (aud)"
    );
}

#[actix_web::test]
async fn alg_none_is_401() {
    let app = TestApp::new().await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&manager_claims(&app)).unwrap());
    expect_rejected(&app, &format!("{header}.{payload}.")).await;
    expect_rejected(&app, &format!("{header}.{payload}")).await;
}

#[actix_web::test]
async fn claims_must_name_an_organisation_and_known_roles() {
    let app = TestApp::new().await;
    let mut bad_org = manager_claims(&app);
    bad_org.org = "meadowbank".into();
    expect_rejected(&app, &sign(&bad_org)).await;

    let mut unknown_role = serde_json::to_value(manager_claims(&app)).unwrap();
    unknown_role["roles"] = json!(["superuser"]);
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &unknown_role,
        &EncodingKey::from_secret(crate::helpers::SECRET),
    )
    .unwrap();
    expect_rejected(&app, &token).await;
}

fn rs256(claims: &Claims, kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    let key = EncodingKey::from_rsa_pem(&fixture("rsa-private.pem")).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

#[actix_web::test]
async fn rs256_public_key_accepts_its_tokens_and_refuses_hs256_made_with_it() {
    let path = std::path::PathBuf::from(format!("{FIXTURES}/rsa-public.pem"));
    let app = TestApp::with_verifier(test_verifier().with_public_key_file(&path).unwrap()).await;
    let claims = manager_claims(&app);
    app.get(&rs256(&claims, None), "/v1/organisation")
        .await
        .expect(200);

    // The classic confusion attack: HS256 keyed with the public key's bytes.
    let confused = careloop::auth::mint_hs256(&fixture("rsa-public.pem"), &claims);
    expect_rejected(&app, &confused).await;
    // And the test secret is not configured here at all.
    expect_rejected(&app, &sign(&claims)).await;
}

#[actix_web::test]
async fn es256_public_key_accepts_its_tokens() {
    let path = std::path::PathBuf::from(format!("{FIXTURES}/ec-public.pem"));
    let app = TestApp::with_verifier(test_verifier().with_public_key_file(&path).unwrap()).await;
    let key = EncodingKey::from_ec_pem(&fixture("ec-private.pem")).unwrap();
    let token =
        jsonwebtoken::encode(&Header::new(Algorithm::ES256), &manager_claims(&app), &key).unwrap();
    app.get(&token, "/v1/organisation").await.expect(200);
    expect_rejected(&app, &rs256(&manager_claims(&app), None)).await;
}

#[actix_web::test]
async fn jwks_keys_are_matched_by_kid() {
    let path = std::path::PathBuf::from(format!("{FIXTURES}/jwks.json"));
    let app = TestApp::with_verifier(test_verifier().with_jwks_file(&path).unwrap()).await;
    let claims = manager_claims(&app);
    app.get(&rs256(&claims, Some("test-rsa-1")), "/v1/organisation")
        .await
        .expect(200);
    expect_rejected(&app, &rs256(&claims, Some("unknown-kid"))).await;
    expect_rejected(&app, &rs256(&claims, None)).await;
}

#[actix_web::test]
async fn another_organisations_records_are_404() {
    let app = TestApp::new().await;
    let concern = app.raise(&app.staff, json!({})).await;
    app.get(&app.other_admin, &format!("/v1/concerns/{concern}"))
        .await
        .expect_problem(404, "not_found");
    app.patch(
        &app.other_admin,
        &format!("/v1/concerns/{concern}"),
        json!({"risk": "low"}),
    )
    .await
    .expect_problem(404, "not_found");
    app.get(&app.other_admin, &format!("/v1/concerns/{concern}/updates"))
        .await
        .expect_problem(404, "not_found");
    app.get(&app.other_admin, &format!("/v1/locations/{}", app.location))
        .await
        .expect_problem(404, "not_found");
    app.patch(
        &app.admin,
        &format!("/v1/locations/{}", app.other_org_location),
        json!({"name": "Mine"}),
    )
    .await
    .expect_problem(404, "not_found");
    let listed = app.get(&app.other_admin, "/v1/concerns").await.expect(200);
    assert_eq!(listed.body["items"], json!([]));
    // A location of another organisation cannot be used either.
    app.post(
        &app.manager,
        "/v1/concerns",
        json!({"title": "t", "description": "d", "category": "other", "risk": "low",
               "location_id": app.other_org_location}),
    )
    .await
    .expect_problem(422, "validation_failed");
}

#[actix_web::test]
async fn callers_limited_to_locations_see_only_those() {
    let app = TestApp::new().await;
    let here = app.raise(&app.manager, json!({})).await;
    let there = app
        .raise(&app.manager, json!({"location_id": app.second_location}))
        .await;
    let mut limited = claims(&app.org, &[Role::Manager], "limited-manager");
    limited.locations = Some(vec![app.location.clone()]);
    let token = sign(&limited);

    app.get(&token, &format!("/v1/concerns/{here}"))
        .await
        .expect(200);
    app.get(&token, &format!("/v1/concerns/{there}"))
        .await
        .expect_problem(404, "not_found");
    let listed = app.get(&token, "/v1/concerns").await.expect(200);
    let ids: Vec<_> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(here)]);
    let locations = app.get(&token, "/v1/locations").await.expect(200);
    assert_eq!(locations.body["items"].as_array().unwrap().len(), 1);
    app.get(&token, &format!("/v1/locations/{}", app.second_location))
        .await
        .expect_problem(404, "not_found");
    // Raising needs one of their locations.
    app.post(
        &token,
        "/v1/concerns",
        json!({"title": "t", "description": "d", "category": "other", "risk": "low"}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &token,
        "/v1/concerns",
        json!({"title": "t", "description": "d", "category": "other", "risk": "low",
               "location_id": app.second_location}),
    )
    .await
    .expect_problem(422, "validation_failed");
    // Neither refusal stored anything.
    let all = app.get(&app.manager, "/v1/concerns").await.expect(200);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn a_token_for_an_organisation_that_does_not_exist_is_401_everywhere() {
    let app = TestApp::new().await;
    let ghost = sign(&claims(&nothing_id(), &[Role::Admin], "ghost"));
    for path in [
        "/v1/organisation",
        "/v1/concerns",
        "/v1/locations",
        "/v1/audit-events",
    ] {
        let refused = app
            .get(&ghost, path)
            .await
            .expect_problem(401, "unauthorized");
        assert_eq!(
            refused.body["detail"],
            "the token's organisation (org claim) does not exist here"
        );
    }
    app.post(
        &ghost,
        "/v1/concerns",
        json!({"title": "t", "description": "d", "category": "other", "risk": "low"}),
    )
    .await
    .expect_problem(401, "unauthorized");
    assert_eq!(app.count("concerns"), 0);
}
