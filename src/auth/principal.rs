//! The authenticated caller, as an extractor: a handler that takes a `Principal` is
//! authenticated, and answers 401 with `WWW-Authenticate: Bearer` otherwise.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::RwLock;

use actix_web::http::header::AUTHORIZATION;
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};

use super::{allows, Permission, Role};
use crate::domain::ids::LocationId;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct Principal {
    pub sub: String,
    pub organisation_id: String,
    pub roles: Vec<Role>,
    /// When present, the caller is limited to these locations.
    pub locations: Option<Vec<LocationId>>,
    pub name: Option<String>,
}

impl Principal {
    /// The one permission check a handler makes: 403 unless one of the caller's roles allows it.
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        if self.may(permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// Whether one of the caller's roles allows `permission`: for a store whose effect on
    /// other records depends on who asks.
    pub fn may(&self, permission: Permission) -> bool {
        self.roles.iter().any(|role| allows(*role, permission))
    }

    pub fn has_any_role(&self, roles: &[Role]) -> bool {
        self.roles.iter().any(|role| roles.contains(role))
    }
}

/// Organisations known to exist. Organisations are never deleted, so once seen, one is taken on
/// trust and a token's organisation costs a database read only the first time on each node.
#[derive(Debug, Default)]
pub struct KnownOrganisations(RwLock<HashSet<String>>);

impl KnownOrganisations {
    fn contains(&self, id: &str) -> bool {
        self.0.read().is_ok_and(|known| known.contains(id))
    }

    fn insert(&self, id: String) {
        if let Ok(mut known) = self.0.write() {
            known.insert(id);
        }
    }
}

/// The caller a valid token names, if its organisation exists: a token for an organisation that
/// does not exist (a mistyped `org`) is refused, never read as an empty organisation.
async fn authenticate(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<Principal> {
    let (principal, client_id) = verify(&state, &req)?;
    // Counted before anything else is read, so a flood costs the database nothing.
    let (standing, allowed) = state.limiter.take(&principal.sub);
    req.extensions_mut().insert(standing);
    if !allowed {
        return Err(ApiError::TooManyRequests {
            retry_after_secs: standing.resets_in,
        });
    }
    if let Some(client_id) = client_id {
        let active = match state.clients.known(&client_id) {
            Some(active) => active,
            None => {
                let id = client_id.clone();
                let active = state
                    .db
                    .run(move |conn| crate::api::api_clients::store::is_active(conn, &id))
                    .await?;
                state.clients.remember(&client_id, active);
                active
            }
        };
        if !active {
            return Err(ApiError::Unauthorized(
                "the token's client has been revoked".to_owned(),
            ));
        }
    }
    if !state.organisations.contains(&principal.organisation_id) {
        let id = principal.organisation_id.clone();
        let exists = state
            .db
            .run(move |conn| crate::api::organisation::store::exists(conn, &id))
            .await?;
        if !exists {
            return Err(ApiError::Unauthorized(
                "the token's organisation (org claim) does not exist here".to_owned(),
            ));
        }
        state
            .organisations
            .insert(principal.organisation_id.clone());
    }
    Ok(principal)
}

/// The caller a token names, and the machine client careloop issued it to (if it did).
fn verify(state: &AppState, req: &HttpRequest) -> ApiResult<(Principal, Option<String>)> {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("a bearer token is required".to_owned()))?;
    let token = header
        .to_str()
        .ok()
        .and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".to_owned())
        })?;
    let verified = state
        .verifier
        .verify(token)
        .map_err(ApiError::Unauthorized)?;
    let client_id = verified
        .signed_here
        .then(|| verified.claims.client_id.clone())
        .flatten();
    let claims = verified.claims;
    let is_uuid = |text: &str| uuid::Uuid::parse_str(text).is_ok();
    if !is_uuid(&claims.org) {
        return Err(ApiError::Unauthorized(
            "the org claim must be an organisation id".to_owned(),
        ));
    }
    let locations = claims
        .locations
        .map(|listed| {
            listed
                .iter()
                .map(|l| uuid::Uuid::parse_str(l).map(LocationId::from))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()
        .map_err(|_| {
            ApiError::Unauthorized("the locations claim must list location ids".to_owned())
        })?;
    let principal = Principal {
        sub: claims.sub,
        organisation_id: claims.org,
        roles: claims.roles,
        locations,
        name: claims.name,
    };
    Ok((principal, client_id))
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| ApiError::internal("application state is missing"))?;
            authenticate(state, req).await
        })
    }
}
