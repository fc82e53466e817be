use actix_web::{get, patch, post, web, HttpRequest};

use super::dto::{Location, LocationPatch, LocationQuery, NewLocation};
use super::store;
use crate::api::shared::Lookup;
use crate::auth::{Permission, Principal};
use crate::domain::ids::LocationId;
use crate::error::ApiResult;
use crate::http::export::{self, Listing};
use crate::http::extract::{Json, Query};
use crate::http::idempotency::{self, IdempotencyKey};
use crate::http::paging::{PageQuery, Paginated};
use crate::http::preconditions::IfMatch;
use crate::http::respond::Answer;
use crate::state::AppState;
use crate::store::audit::Actor;

/// Add a location
///
/// A registered service of the organisation. Admins only.
#[utoipa::path(
    tag = "locations",
    request_body = NewLocation,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Created; `Location` names it", body = Location),
    )
)]
#[post("/locations")]
pub async fn create_location(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    key: IdempotencyKey,
    body: Json<NewLocation>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManageLocations)?;
    let new = body.parse()?;
    let keyed = key.for_caller(&principal, &req, &new)?;
    let organisation_id = principal.organisation_id.clone();
    idempotency::once(&state.db, keyed, move |conn| {
        let location = store::create(conn, Actor::Caller(&principal), &organisation_id, &new)?;
        Answer::created(format!("/v1/locations/{}", location.id), &location)
    })
    .await
}

/// List locations
///
/// The organisation's locations, narrowed to the caller's `locations` claim.
#[utoipa::path(
    tag = "locations",
    params(LocationQuery, Lookup, PageQuery),
    responses(
        (status = 200, description = "A page of locations", body = Paginated<Location>),
    )
)]
#[get("/locations")]
pub async fn list_locations(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    query: Query<LocationQuery>,
) -> ApiResult<Listing> {
    principal.require(Permission::ReadLocations)?;
    let (query, page) = query.parse_paged()?;
    export::list(&req, &state.db, page, move |conn, page| {
        store::list(conn, &principal, &query, page)
    })
    .await
}

/// Read a location
#[utoipa::path(
    tag = "locations",
    params(("location_id" = Uuid, Path, description = "Location id")),
    responses(
        (status = 200, description = "The location; `ETag` carries its version", body = Location),
    )
)]
#[get("/locations/{location_id}")]
pub async fn get_location(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<LocationId>,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadLocations)?;
    let id = id.into_inner();
    let location = state
        .db
        .run(move |conn| store::get(conn, &principal, id))
        .await?;
    Answer::ok(&location)
}

/// Update a location
///
/// Admins only; honours `If-Match`.
#[utoipa::path(
    tag = "locations",
    request_body = LocationPatch,
    params(
        ("location_id" = Uuid, Path, description = "Location id"),
        IfMatch,
    ),
    responses(
        (status = 200, description = "The updated location", body = Location),
    )
)]
#[patch("/locations/{location_id}")]
pub async fn update_location(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<LocationId>,
    if_match: IfMatch,
    body: Json<LocationPatch>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManageLocations)?;
    let patch = body.parse()?;
    let id = id.into_inner();
    let location = state
        .db
        .write(move |conn| store::update(conn, &principal, id, &patch, &if_match))
        .await?;
    Answer::ok(&location)
}
