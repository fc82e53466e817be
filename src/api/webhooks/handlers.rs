use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::dto::{Delivery, NewWebhook, Webhook, WebhookPatch};
use super::{deliveries, store};
use crate::auth::{Permission, Principal};
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::error::ApiResult;
use crate::http::export::{self, Listing};
use crate::http::extract::{Json, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::paging::{PageQuery, Paginated};
use crate::http::preconditions::IfMatch;
use crate::http::respond::Answer;
use crate::state::AppState;

/// A delivery of an endpoint.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DeliveryPath {
    /// Webhook endpoint id
    #[param(value_type = Uuid)]
    webhook_id: WebhookId,
    /// Delivery id (the message's `webhook-id`)
    #[param(value_type = Uuid)]
    delivery_id: DeliveryId,
}

/// Subscribe an endpoint to events
///
/// careloop posts each change the endpoint subscribed to (`event_types`) and may read (its
/// `scope` of roles, and `location_ids`), signed as Standard Webhooks says, from the change
/// feed's outbox: at least once, in order as far as retries allow. Admins only. The answer holds
/// the signing `secret`, shown this once.
#[utoipa::path(
    tag = "webhooks",
    request_body = NewWebhook,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Subscribed; `Location` names it; keep `secret`", body = Webhook),
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<NewWebhook>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManageWebhooks)?;
    let new = body.parse()?;
    let keyed = key.for_caller(&principal, &req, &new)?;
    let allow_private = state.webhooks_allow_private;
    let answer = idempotency::once(&state.db, keyed, move |conn| {
        let webhook = store::create(conn, &principal, allow_private, &new)?;
        Answer::created(format!("/v1/webhooks/{}", webhook.id), &webhook)
    })
    .await?;
    Ok(answer.no_store())
}

/// List webhook endpoints
#[utoipa::path(
    tag = "webhooks",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of endpoints", body = Paginated<Webhook>),
    )
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: Query<PageQuery>,
) -> ApiResult<Listing> {
    principal.require(Permission::ManageWebhooks)?;
    let (_, page) = query.parse_paged()?;
    export::list(&req, &state.db, page, move |conn, page| {
        store::list(conn, &principal, page)
    })
    .await
    .map(Listing::no_store)
}

/// Read a webhook endpoint
#[utoipa::path(
    tag = "webhooks",
    params(("webhook_id" = Uuid, Path, description = "Webhook endpoint id")),
    responses(
        (status = 200, description = "The endpoint; `ETag` carries its version", body = Webhook),
    )
)]
#[get("/webhooks/{webhook_id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<WebhookId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManageWebhooks)?;
    let id = id.into_inner();
    let webhook = state
        .db
        .run(move |conn| store::get(conn, &principal, id))
        .await?;
    Ok(Answer::ok(&webhook)?.no_store())
}

/// Update a webhook endpoint
///
/// Honours `If-Match`. Enabling an endpoint careloop disabled resumes it where it stopped: the
/// changes since, as far as the feed keeps them, are delivered.
#[utoipa::path(
    tag = "webhooks",
    request_body = WebhookPatch,
    params(("webhook_id" = Uuid, Path, description = "Webhook endpoint id"), IfMatch),
    responses(
        (status = 200, description = "The updated endpoint", body = Webhook),
    )
)]
#[patch("/webhooks/{webhook_id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<WebhookId>,
    if_match: IfMatch,
    body: Json<WebhookPatch>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManageWebhooks)?;
    let patch = body.parse()?;
    let id = id.into_inner();
    let allow_private = state.webhooks_allow_private;
    let webhook = state
        .db
        .write(move |conn| store::update(conn, &principal, allow_private, id, &patch, &if_match))
        .await?;
    Ok(Answer::ok(&webhook)?.no_store())
}

/// Delete a webhook endpoint
///
/// With its deliveries; nothing more is sent to it.
#[utoipa::path(
    tag = "webhooks",
    params(("webhook_id" = Uuid, Path, description = "Webhook endpoint id")),
    responses(
        (status = 204, description = "Deleted"),
    )
)]
#[delete("/webhooks/{webhook_id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<WebhookId>,
) -> ApiResult<HttpResponse> {
    principal.require(Permission::ManageWebhooks)?;
    let id = id.into_inner();
    state
        .db
        .write(move |conn| store::delete(conn, &principal, id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate a webhook endpoint's secret
///
/// A new secret, shown in this answer only. For 24 hours every message is signed with both,
/// so the receiver can switch over without dropping one.
#[utoipa::path(
    tag = "webhooks",
    params(("webhook_id" = Uuid, Path, description = "Webhook endpoint id")),
    responses(
        (status = 200, description = "The endpoint with its new `secret`", body = Webhook),
    )
)]
#[post("/webhooks/{webhook_id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<WebhookId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManageWebhooks)?;
    let id = id.into_inner();
    let webhook = state
        .db
        .write(move |conn| store::rotate_secret(conn, &principal, id))
        .await?;
    Ok(Answer::ok(&webhook)?.no_store())
}

/// List an endpoint's deliveries
///
/// Newest first: each message's status, attempts, last answer and next attempt.
#[utoipa::path(
    tag = "webhooks",
    params(("webhook_id" = Uuid, Path, description = "Webhook endpoint id"), PageQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = Paginated<Delivery>),
    )
)]
#[get("/webhooks/{webhook_id}/deliveries")]
pub async fn list_webhook_deliveries(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    id: web::Path<WebhookId>,
    query: Query<PageQuery>,
) -> ApiResult<Listing> {
    principal.require(Permission::ManageWebhooks)?;
    let (_, page) = query.parse_paged()?;
    let id = id.into_inner();
    export::list(&req, &state.db, page, move |conn, page| {
        deliveries::list(conn, &principal, id, page)
    })
    .await
}

/// Retry a delivery
///
/// Sends the message again now (with the same `webhook-id`); a failed one gets a fresh round of
/// attempts.
#[utoipa::path(
    tag = "webhooks",
    params(DeliveryPath),
    responses(
        (status = 202, description = "Queued to be sent now", body = Delivery),
    )
)]
#[post("/webhooks/{webhook_id}/deliveries/{delivery_id}/retry")]
pub async fn retry_webhook_delivery(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<DeliveryPath>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManageWebhooks)?;
    let DeliveryPath {
        webhook_id,
        delivery_id,
    } = path.into_inner();
    let delivery = state
        .db
        .write(move |conn| deliveries::retry(conn, &principal, webhook_id, delivery_id))
        .await?;
    Ok(Answer::ok(&delivery)?.with_status(StatusCode::ACCEPTED))
}

/// Send a test event
///
/// Queues a `ping` to the endpoint, signed like every message, to check that it receives and
/// verifies them; its delivery shows how it went.
#[utoipa::path(
    tag = "webhooks",
    params(("webhook_id" = Uuid, Path, description = "Webhook endpoint id")),
    responses(
        (status = 202, description = "Queued to be sent now", body = Delivery),
    )
)]
#[post("/webhooks/{webhook_id}/test")]
pub async fn test_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<WebhookId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManageWebhooks)?;
    let id = id.into_inner();
    let delivery = state
        .db
        .write(move |conn| deliveries::test(conn, &principal, id))
        .await?;
    Ok(Answer::ok(&delivery)?.with_status(StatusCode::ACCEPTED))
}
