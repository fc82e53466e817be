use actix_web::{get, post, web, HttpRequest};

use super::dto::{ApiClient, NewApiClient};
use super::store;
use crate::auth::{Permission, Principal};
use crate::domain::ids::ApiClientId;
use crate::error::ApiResult;
use crate::http::export::{self, Listing};
use crate::http::extract::{Json, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::paging::{PageQuery, Paginated};
use crate::http::respond::Answer;
use crate::state::AppState;

/// Register a machine client
///
/// A system that gets its own tokens at `/oauth/token` (client credentials). Admins only. The
/// answer holds `client_secret`, shown this once: only its hash is kept.
#[utoipa::path(
    tag = "api-clients",
    request_body = NewApiClient,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Registered; `Location` names it; keep `client_secret`", body = ApiClient),
    )
)]
#[post("/api-clients")]
pub async fn create_api_client(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<NewApiClient>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManageApiClients)?;
    let new = body.parse()?;
    let keyed = key.for_caller(&principal, &req, &new)?;
    let answer = idempotency::once(&state.db, keyed, move |conn| {
        let client = store::create(conn, &principal, &new)?;
        Answer::created(format!("/v1/api-clients/{}", client.client_id), &client)
    })
    .await?;
    Ok(answer.no_store())
}

/// List machine clients
///
/// Oldest first, revoked ones too. Admins only.
#[utoipa::path(
    tag = "api-clients",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of machine clients", body = Paginated<ApiClient>),
    )
)]
#[get("/api-clients")]
pub async fn list_api_clients(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: Query<PageQuery>,
) -> ApiResult<Listing> {
    principal.require(Permission::ManageApiClients)?;
    let (_, page) = query.parse_paged()?;
    export::list(&req, &state.db, page, move |conn, page| {
        store::list(conn, &principal, page)
    })
    .await
    .map(Listing::no_store)
}

/// Read a machine client
#[utoipa::path(
    tag = "api-clients",
    params(("client_id" = Uuid, Path, description = "Machine client id")),
    responses(
        (status = 200, description = "The client; `ETag` carries its version", body = ApiClient),
    )
)]
#[get("/api-clients/{client_id}")]
pub async fn get_api_client(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<ApiClientId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManageApiClients)?;
    let id = id.into_inner();
    let client = state
        .db
        .run(move |conn| store::get(conn, &principal, id))
        .await?;
    Ok(Answer::ok(&client)?.no_store())
}

/// Rotate a machine client's secret
///
/// A new secret, shown in this answer only; the old one stops working at once (tokens already
/// issued keep working until they expire).
#[utoipa::path(
    tag = "api-clients",
    params(("client_id" = Uuid, Path, description = "Machine client id")),
    responses(
        (status = 200, description = "The client with its new `client_secret`", body = ApiClient),
    )
)]
#[post("/api-clients/{client_id}/rotate-secret")]
pub async fn rotate_api_client_secret(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<ApiClientId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManageApiClients)?;
    let id = id.into_inner();
    let client = state
        .db
        .write(move |conn| store::rotate_secret(conn, &principal, id))
        .await?;
    Ok(Answer::ok(&client)?.no_store())
}

/// Revoke a machine client
///
/// It gets no more tokens, and the tokens it holds stop working on every node within a minute.
/// Revoking a revoked client changes nothing.
#[utoipa::path(
    tag = "api-clients",
    params(("client_id" = Uuid, Path, description = "Machine client id")),
    responses(
        (status = 200, description = "The revoked client", body = ApiClient),
    )
)]
#[post("/api-clients/{client_id}/revoke")]
pub async fn revoke_api_client(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<ApiClientId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManageApiClients)?;
    let id = id.into_inner();
    let client = state
        .db
        .write(move |conn| store::revoke(conn, &principal, id))
        .await?;
    // This node stops taking the client's tokens at once; the others within a minute.
    state.clients.remember(&id.to_string(), false);
    Ok(Answer::ok(&client)?.no_store())
}
