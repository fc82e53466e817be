//! The OpenAPI document: its frame (info, security schemes, tags), and the finished document as
//! served and as the contract applies it.

pub mod conventions;
mod problems;

use std::sync::LazyLock;

use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use actix_web::{App, HttpResponse};
use serde_json::Value;
use utoipa_actix_web::AppExt;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api::webhooks::dto::{ChangeEvent, PingEvent};
use crate::auth::LEEWAY_SECS;
use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "careloop",
        description = "Continuous improvement for care providers under the CQC Single Assessment \
            Framework: concerns raised safely (anonymously if wished), learning, evidence, \
            improvement plans and the trends a governance meeting needs.\n\n\
            This document is the contract: careloop checks every request's path, query string, \
            headers and body against it, and one 422 `validation_failed` names every invalid \
            part by its name or JSON path. Errors are `application/problem+json` (RFC 9457) \
            with a stable `code` (listed on `Problem`); each operation documents the codes it \
            can answer. Every list pages with `limit` and an opaque `cursor` tied to its query. \
            Reads carry an `ETag`; updates and transitions honour `If-Match`. POSTs honour \
            `Idempotency-Key`. PATCH means what a JSON Merge Patch (RFC 7396) means, a sent object or \
            list replacing the whole. `HEAD` works wherever \
            `GET` does; another method on a known path is 405 with `Allow`.\n\n\
            Evolution: within a major version careloop only adds (and removes an operation only \
            after it was deprecated and its sunset passed). Answers may gain fields, and \
            enums may gain values: a client must ignore a field it does not know and accept an \
            enum value it does not know, so no answer's schema forbids unknown fields. Requests \
            stay strict: an unknown field is a 422. An operation on its way out is marked \
            `deprecated`, names its successor, and answers with `Deprecation`, `Sunset` and \
            `Link` headers until it is removed in a later minor version.",
        license(name = "MIT OR Apache-2.0")
    ),
    components(schemas(Problem, FieldError, ChangeEvent, PingEvent)),
    // Every operation needs a bearer token unless it says otherwise (`security(())`, or the
    // receipt endpoints' `security(("receipt" = []))`).
    security(("bearer" = [])),
    modifiers(&BearerAuth),
    tags(
        (name = "organisation", description = "The caller's organisation and its concern settings"),
        (name = "locations", description = "Registered services of the organisation"),
        (name = "concerns", description = "Concerns raised by staff or on behalf of people using the service"),
        (name = "learning", description = "Learning events: debriefs, reviews, reflective discussions and their lessons"),
        (name = "evidence", description = "Evidence tagged to quality statements, with metric trends"),
        (name = "frameworks", description = "Assessment frameworks as versioned data, and coverage"),
        (name = "self-assessment", description = "Scores per quality statement and their roll-up"),
        (name = "improvement", description = "Improvement plans, their actions and review cycle"),
        (name = "recognition", description = "Recognition and the highlights feed"),
        (name = "receipts", description = "What an anonymous raiser can do with their receipt code, without a token"),
        (name = "audit", description = "The append-only audit trail"),
        (name = "changes", description = "The change feed: every committed change, once, in the order its number became visible"),
        (name = "api-clients", description = "Machine clients that get their own tokens"),
        (name = "webhooks", description = "Endpoints careloop posts the feed's events to (Standard Webhooks)"),
        (name = "imports", description = "Files of records imported in bulk (CSV, NDJSON, JSON), and what each import did"),
        (name = "exports", description = "The inspection pack (every list also answers `Accept: text/csv`)"),
        (name = "insights", description = "The figures a governance meeting reads: trends per period and signals, each counted under the records' visibility"),
        (name = "governance", description = "The month's governance pack (JSON, or printable HTML) and the record of its meeting"),
        (name = "dashboard", description = "The dashboard page, and its sign-in in development mode"),
        (name = "intake points", description = "Public doors per location where anyone gives feedback, compliments or concerns without a token"),
        (name = "public", description = "The intake points' pages and what they take, and \"you said, we did\": no token"),
        (name = "oauth", description = "Tokens for machine clients (client credentials) and the keys that verify them"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
    let (_, generated) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(super::configure)
        .split_for_parts();
    let mut document =
        serde_json::to_value(generated).expect("the OpenAPI document serialises to JSON");
    conventions::apply(&mut document);
    document
});

/// The OpenAPI document: generated from the handlers, completed with what every operation
/// shares. Served at `/openapi.json`, printed by `careloop openapi`, applied to every request.
pub fn document() -> &'static Value {
    &DOCUMENT
}

/// The document as `/openapi.json` sends it, written once for the whole process. Served by the
/// docs page's crate, each worker kept a copy of the document (2 MB) and each request wrote it
/// out again.
static SERVED: LazyLock<Vec<u8>> = LazyLock::new(|| {
    serde_json::to_vec(document()).expect("the OpenAPI document serialises to JSON")
});

/// `GET /openapi.json`: the document that describes the operations, not one of them.
pub async fn serve_document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(Bytes::from_static(&SERVED))
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(format!(
                        "A JWT with claims sub, org (an organisation of this service), roles and \
                         exp, and optionally locations, name, nbf, iss and aud. exp and nbf are \
                         checked with {LEEWAY_SECS} seconds of leeway for clock differences."
                    )))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "A machine client's `client_id` and `client_secret` as HTTP Basic                          credentials (RFC 6749 §2.3.1), at the token endpoint only.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "receipt",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "An anonymous raiser's receipt code, as `Authorization: Receipt <code>`: the \
                 value is the word `Receipt`, a space and the code (dashes, spaces and case are \
                 forgiven). Never put the code in a URL.",
            ))),
        );
    }
}
