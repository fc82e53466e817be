use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpMessage, HttpRequest, HttpResponse, Responder};

use super::dto::{IntakeForm, IntakeReceipt, IntakeSubmission, YouSaidWeDid, YouSaidWeDidQuery};
use super::{pages, submit};
use crate::api::improvement_plans::actions;
use crate::api::intake_points::store::{open_door, Door};
use crate::domain::intake::{is_slug, IntakeKind, FORM_VALID_SECONDS};
use crate::error::{ApiError, ApiResult, FieldError, DATABASE_RETRY_AFTER_SECS};
use crate::http::export::prefers;
use crate::http::extract::{typed, BodyFormat, JsonOrForm, Query};
use crate::http::respond::Answer;
use crate::state::AppState;
use crate::telemetry::Unlogged;

/// The pages' policy: their own inline style, no script at all, forms posting here only.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// An HTML page of a door: never cached (it holds a form token, or a receipt code shown once),
/// never framed, never sniffed.
fn page(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, PAGE_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(body)
}

/// A person at a door meets a page, not a problem, while careloop cannot reach its database.
fn unavailable_as_page(html: bool, answer: ApiResult<HttpResponse>) -> ApiResult<HttpResponse> {
    match answer {
        Err(ApiError::DatabaseUnavailable(_)) if html => {
            let notice = pages::notice(
                "Please try again in a minute",
                "This page cannot be used just now. Please try again in a minute or two. If \
                 you were sending a message, go back, reload the page and send it again.",
            )?;
            let mut answer = page(StatusCode::SERVICE_UNAVAILABLE, notice);
            answer.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(DATABASE_RETRY_AFTER_SECS),
            );
            Ok(answer)
        }
        other => other,
    }
}

const NO_DOOR: (&str, &str) = (
    "Page not found",
    "This feedback page does not exist, or is closed. If you followed a link or a QR code, ask \
     the service for its current one.",
);

/// The open door a slug names, or what to answer: 404 as a page or a problem.
async fn door(state: &AppState, slug: &str, html: bool) -> ApiResult<Result<Door, HttpResponse>> {
    let found = if is_slug(slug) {
        let slug = slug.to_owned();
        state.db.run(move |conn| open_door(conn, &slug)).await?
    } else {
        None
    };
    match found {
        Some(door) => Ok(Ok(door)),
        None if html => Ok(Err(page(
            StatusCode::NOT_FOUND,
            pages::notice(NO_DOOR.0, NO_DOOR.1)?,
        ))),
        None => Err(ApiError::NotFound("intake point")),
    }
}

/// An intake point's page
///
/// The door's page: an accessible HTML form for each kind it takes (feedback, a compliment, a
/// concern), server-rendered, working without script. No token. With `Accept:
/// application/json`, the same form for an app: what the page says and the `form_token` to
/// submit with. An unknown or disabled door is 404.
#[utoipa::path(
    tag = "public",
    security(()),
    params(("slug" = String, Path, description = "The intake point's slug", min_length = 22, max_length = 22, pattern = "^[A-Za-z0-9_-]{22}$")),
    responses(
        (status = 200, description = "The page, or the form for an app", content(
            (String = "text/html"),
            (IntakeForm = "application/json"),
        )),
    )
)]
#[get("/i/{slug}")]
pub async fn get_intake_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let json = prefers(&req, "application", "json");
    unavailable_as_page(!json, intake_page(&state, &req, &slug, json).await)
}

async fn intake_page(
    state: &AppState,
    req: &HttpRequest,
    slug: &str,
    json: bool,
) -> ApiResult<HttpResponse> {
    let door = match door(state, slug, !json).await? {
        Ok(door) => door,
        Err(answer) => return Ok(answer),
    };
    let token = state.intake.new_form_token(&door.point.slug);
    if json {
        let point = &door.point;
        let form = IntakeForm {
            organisation_name: door.organisation_name.clone(),
            location_name: door.location_name.clone(),
            title: point.title.clone(),
            welcome: point.welcome.clone(),
            kinds: point.kinds.0.clone(),
            form_token: token,
            submit_after_seconds: state.intake.min_seconds,
            expires_in_seconds: FORM_VALID_SECONDS,
            you_said_we_did_url: format!("/i/{}/you-said-we-did", point.slug),
        };
        return Ok(Answer::ok(&form)?.no_store().respond_to(req));
    }
    Ok(page(
        StatusCode::OK,
        pages::intake(&door, &token, None, &[])?,
    ))
}

/// Give feedback, a compliment or a concern
///
/// Without any token: an HTML form's post (`application/x-www-form-urlencoded`), or JSON from
/// an app, with the `form_token` of the form as served (`GET /i/{slug}`), sent no sooner than
/// its `submit_after_seconds`. Feedback becomes evidence (`source: feedback`, the answer's score
/// as the metric `ffr_score`, `unverified` until a manager looks); a compliment becomes a
/// recognition awaiting approval; a concern becomes an anonymous concern, whose one-time
/// `receipt_code` is in the answer (`Cache-Control: no-store`). careloop keeps nothing of the
/// sender beyond what they typed: no address, no identity, no precise time for a concern. A
/// form answers a page: the thanks, or the form again with every error by its field (422).
/// JSON answers 202 with what was received, or a 422 problem naming every field. Nothing is
/// stored from a refused submission. Submissions are limited per client address and per door
/// (429 with `Retry-After`).
#[utoipa::path(
    tag = "public",
    security(()),
    params(("slug" = String, Path, description = "The intake point's slug", min_length = 22, max_length = 22, pattern = "^[A-Za-z0-9_-]{22}$")),
    request_body(content(
        (IntakeSubmission = "application/json"),
        (IntakeSubmission = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 202, description = "Received (JSON)", body = IntakeReceipt),
        (status = 200, description = "Received (a form): the thanks page", content_type = "text/html", body = String),
    )
)]
#[post("/i/{slug}")]
pub async fn submit_intake(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
    body: JsonOrForm,
) -> ApiResult<HttpResponse> {
    // What comes through a door may be a concern: it never reaches the log.
    req.extensions_mut().insert(Unlogged);
    let html = body.format == BodyFormat::Form;
    unavailable_as_page(html, take_submission(&state, &req, &slug, body, html).await)
}

async fn take_submission(
    state: &AppState,
    req: &HttpRequest,
    slug: &str,
    body: JsonOrForm,
    html: bool,
) -> ApiResult<HttpResponse> {
    let door = match door(state, slug, html).await? {
        Ok(door) => door,
        Err(answer) => return Ok(answer),
    };
    if let Err(standing) = state.intake.admit(req, &door.point.slug) {
        if !html {
            return Err(ApiError::TooManyRequests {
                retry_after_secs: standing.resets_in,
            });
        }
        let refused = pages::notice(
            "Please wait a minute",
            "A lot of messages have been sent from here in the last minute. Please wait a \
             minute, then go back and send yours again: nothing you wrote has been kept.",
        )?;
        let mut answer = page(StatusCode::TOO_MANY_REQUESTS, refused);
        answer.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(standing.resets_in),
        );
        return Ok(answer);
    }
    let sent = body.read()?;
    let mut errors = sent.errors;
    submit::check(&sent.value, &door.point.kinds.0, &mut errors);
    if errors.is_empty() {
        let token = sent.value.get("form_token").and_then(|t| t.as_str());
        if let Err(refused) = state
            .intake
            .take_form(&door.point.slug, token.unwrap_or_default())
        {
            errors.push(FieldError::new("form_token", refused));
        }
    }
    if !errors.is_empty() {
        if !html {
            return Err(ApiError::Validation(errors));
        }
        let kind = sent
            .value
            .get("kind")
            .and_then(|k| k.as_str())
            .and_then(IntakeKind::parse);
        let token = state.intake.new_form_token(&door.point.slug);
        let shown = pages::intake(&door, &token, kind.map(|k| (k, &sent.value)), &errors)?;
        return Ok(page(StatusCode::UNPROCESSABLE_ENTITY, shown));
    }
    let submission: IntakeSubmission = typed(sent.value)?;
    let door = std::sync::Arc::new(door);
    let stored = door.clone();
    let receipt = state
        .db
        .write(move |conn| submit::store(conn, &stored, &submission))
        .await?;
    if html {
        let shown = pages::received(&door, &receipt.message, receipt.receipt_code.as_deref())?;
        return Ok(page(StatusCode::OK, shown));
    }
    Ok(HttpResponse::Accepted()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(receipt))
}

/// The location's published changes, latest first.
async fn published(state: &AppState, door: &Door) -> ApiResult<Vec<super::dto::PublishedChange>> {
    let location = door.point.location_id;
    state
        .db
        .run(move |conn| actions::store::published(conn, location))
        .await
}

/// "You said, we did" (page)
///
/// What people told the intake point's location and what it changed, as managers published it
/// (the theme in their words, never what anyone wrote, with the month it was done). No token.
#[utoipa::path(
    tag = "public",
    security(()),
    params(("slug" = String, Path, description = "The intake point's slug", min_length = 22, max_length = 22, pattern = "^[A-Za-z0-9_-]{22}$")),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
    )
)]
#[get("/i/{slug}/you-said-we-did")]
pub async fn get_you_said_we_did_page(
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> ApiResult<HttpResponse> {
    unavailable_as_page(true, you_said_we_did_page(&state, &slug).await)
}

async fn you_said_we_did_page(state: &AppState, slug: &str) -> ApiResult<HttpResponse> {
    let door = match door(state, slug, true).await? {
        Ok(door) => door,
        Err(answer) => return Ok(answer),
    };
    let items = published(state, &door).await?;
    Ok(page(StatusCode::OK, pages::you_said_we_did(&door, &items)?))
}

/// "You said, we did"
///
/// The same as the page `/i/{slug}/you-said-we-did`, as JSON for apps and websites. No token.
#[utoipa::path(
    tag = "public",
    security(()),
    params(YouSaidWeDidQuery),
    responses(
        (status = 200, description = "The location's published changes", body = YouSaidWeDid),
    )
)]
#[get("/public/you-said-we-did")]
pub async fn get_you_said_we_did(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: Query<YouSaidWeDidQuery>,
) -> ApiResult<HttpResponse> {
    let slug = query.parse()?.slug;
    let door = match door(&state, &slug, false).await? {
        Ok(door) => door,
        Err(answer) => return Ok(answer),
    };
    let items = published(&state, &door).await?;
    let body = YouSaidWeDid {
        organisation_name: door.organisation_name,
        location_name: door.location_name,
        items,
    };
    Ok(Answer::ok(&body)?.respond_to(&req))
}
