//! The dashboard page and, in development mode only, a sign-in for it.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::oauth::dto::{TokenResponse, TokenType};
use crate::api::organisation;
use crate::auth::{Claims, Role};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::state::AppState;

/// The page: its one inline script and style, and requests to this origin only.
const PAGE: &str = include_str!("dashboard.html");
const PAGE_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
     style-src 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
     form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/// How long a development sign-in lasts: as long as a machine client's token.
const DEVELOPMENT_TOKEN_SECONDS: u64 = 900;

/// The dashboard
///
/// A page to look at the insights: charts with their numbers in tables, a location and period
/// picker, and the month's governance pack. It signs in with a bearer token pasted into it (or,
/// in development mode, the development sign-in) and reads only the public API. No token is
/// needed for the page itself.
#[utoipa::path(
    tag = "dashboard",
    security(()),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
    )
)]
#[get("/dashboard")]
pub async fn get_dashboard(state: web::Data<AppState>) -> HttpResponse {
    // The page offers the development sign-in only where it works.
    let page = if state.development {
        PAGE.replacen(
            r#"<body data-development="false">"#,
            r#"<body data-development="true">"#,
            1,
        )
    } else {
        PAGE.to_owned()
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(page)
}

/// Who the development sign-in signs in as.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "manager"}))]
pub struct DevelopmentSignIn {
    pub role: Role,
}

/// Sign in to the dashboard in development mode
///
/// Only when careloop runs in development mode (no key configured, loopback only): a token for
/// the first organisation with the role asked for, valid for 15 minutes, as `careloop token`
/// would mint. Only for a request addressed to the loopback host (`localhost`, `127.0.0.1`,
/// `[::1]`), so a web page elsewhere cannot reach it by renaming its own host. Anywhere else
/// this answers 404, as if it did not exist.
#[utoipa::path(
    tag = "dashboard",
    security(()),
    request_body = DevelopmentSignIn,
    responses(
        (status = 200, description = "A token", body = TokenResponse),
    )
)]
#[post("/dashboard/sign-in")]
pub async fn issue_dashboard_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<DevelopmentSignIn>,
) -> ApiResult<HttpResponse> {
    if !state.development || !addressed_to_loopback(&req) {
        return Err(ApiError::NotFound("page"));
    }
    let role = body.parse()?.role;
    let organisation = state.db.run(organisation::store::first_id).await?;
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: format!("dashboard-{role}"),
        org: organisation,
        roles: vec![role],
        locations: None,
        name: Some(format!("Dashboard ({role})")),
        exp: now + DEVELOPMENT_TOKEN_SECONDS as i64,
        iat: Some(now),
        iss: None,
        aud: None,
        client_id: None,
    };
    let access_token = state.signer.sign(claims).map_err(ApiError::Internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(TokenResponse {
            access_token,
            token_type: TokenType::Bearer,
            expires_in: DEVELOPMENT_TOKEN_SECONDS,
            scope: role.to_string(),
        }))
}

/// Whether the request names a loopback host (a DNS-rebinding page names its own).
fn addressed_to_loopback(req: &HttpRequest) -> bool {
    let host = req.connection_info().host().to_ascii_lowercase();
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name.to_owned()
        }
        _ => host,
    };
    matches!(name.as_str(), "localhost" | "127.0.0.1" | "[::1]")
}
