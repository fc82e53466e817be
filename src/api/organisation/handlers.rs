use actix_web::{get, patch, web};

use super::dto::{Organisation, OrganisationPatch};
use super::store;
use crate::auth::{Permission, Principal};
use crate::error::ApiResult;
use crate::http::extract::Json;
use crate::http::preconditions::IfMatch;
use crate::http::respond::Answer;
use crate::state::AppState;
use crate::store::audit::Actor;

/// Read the caller's organisation
#[utoipa::path(
    tag = "organisation",
    responses(
        (status = 200, description = "The organisation; `ETag` carries its version", body = Organisation),
    )
)]
#[get("/organisation")]
pub async fn get_organisation(
    state: web::Data<AppState>,
    principal: Principal,
) -> ApiResult<Answer> {
    principal.require(Permission::ReadOrganisation)?;
    let organisation = state
        .db
        .run(move |conn| store::get(conn, &principal.organisation_id))
        .await?;
    Answer::ok(&organisation)
}

/// Update the caller's organisation
///
/// Name, CQC provider id, ODS code and the concern clocks. Admins only. Send `If-Match` with
/// the ETag you read to avoid overwriting someone else's change.
#[utoipa::path(
    tag = "organisation",
    request_body = OrganisationPatch,
    params(IfMatch),
    responses(
        (status = 200, description = "The updated organisation", body = Organisation),
    )
)]
#[patch("/organisation")]
pub async fn update_organisation(
    state: web::Data<AppState>,
    principal: Principal,
    if_match: IfMatch,
    body: Json<OrganisationPatch>,
) -> ApiResult<Answer> {
    principal.require(Permission::ManageOrganisation)?;
    let patch = body.parse()?;
    patch.validate()?;
    let organisation = state
        .db
        .write(move |conn| {
            let id = principal.organisation_id.clone();
            store::update(conn, Actor::Caller(&principal), &id, &patch, &if_match)
        })
        .await?;
    Answer::ok(&organisation)
}
