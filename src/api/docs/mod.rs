//! The OpenAPI document: its frame (info, security scheme, tags), the error responses the
//! handlers share, and the finished document as served and as the contract applies it.

pub mod conventions;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use actix_web::App;
use serde_json::Value;
use utoipa_actix_web::AppExt;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi};

use crate::auth::LEEWAY_SECS;
use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "careloop",
        description = "Continuous improvement for care providers under the CQC Single Assessment \
            Framework: concerns raised safely (anonymously if wished), learning, evidence, \
            improvement plans and the trends a governance meeting needs.\n\n\
            This document is the contract: careloop checks every request body and query string \
            against it, and one 422 `validation_failed` names every invalid field by its JSON \
            path. Errors are `application/problem+json` (RFC 9457) with a stable `code` (listed \
            on `Problem`). Lists page with `limit` and `cursor`. Reads carry an `ETag`; updates \
            and transitions honour `If-Match`. POSTs honour `Idempotency-Key`. `HEAD` works \
            wherever `GET` does; another method on a known path is 405 with `Allow`.",
        license(name = "MIT OR Apache-2.0")
    ),
    components(schemas(Problem, FieldError)),
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

fn problem(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

fn problems(statuses: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .map(|status| {
            let description = match status {
                400 => "Malformed JSON, path, query string, cursor or Idempotency-Key",
                401 => {
                    "Missing or invalid credentials: a bearer token (`WWW-Authenticate: Bearer`), \
                        or on the receipt endpoints `Authorization: Receipt <code>`"
                }
                403 => "The caller's roles do not allow this",
                404 => {
                    "No such record in the caller's organisation and locations (on the receipt \
                        endpoints: no concern has this receipt code)"
                }
                409 => {
                    "Conflict: an illegal transition (`allowed` lists the legal ones), a \
                        duplicate `external_ref` (`existing_id` names the holder) or a \
                        concurrent edit"
                }
                412 => "`If-Match` does not match the record's current ETag",
                413 => "The body is over the size limit",
                415 => "The body is not `application/json`",
                422 => {
                    "Invalid fields (`errors` lists them), a wrong type or unknown enum \
                        value, or an `Idempotency-Key` reused with another body"
                }
                429 => "Too many failed attempts; see `Retry-After`",
                _ => "Error",
            };
            (status.to_string(), problem(description))
        })
        .collect()
}

macro_rules! error_set {
    ($(#[$meta:meta])* $name:ident: $($status:literal),+) => {
        $(#[$meta])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                problems(&[$($status),+])
            }
        }
    };
}

error_set!(
    /// Errors of a list.
    ListErrors: 400, 401, 403, 422
);
error_set!(
    /// Errors of reading one record.
    ReadErrors: 400, 401, 403, 404
);
error_set!(
    /// Errors of a create.
    CreateErrors: 400, 401, 403, 409, 413, 415, 422
);
error_set!(
    /// Errors of an update or transition of one record.
    UpdateErrors: 400, 401, 403, 404, 409, 412, 413, 415, 422
);
error_set!(
    /// Errors of the token-less receipt endpoints.
    ReceiptErrors: 400, 401, 404, 413, 415, 422, 429
);
