//! The authenticated caller, as an extractor: a handler that takes a `Principal` is
//! authenticated, and answers 401 with `WWW-Authenticate: Bearer` otherwise.

use std::future::{ready, Ready};

use actix_web::http::header::AUTHORIZATION;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};

use super::{allows, Permission, Role};
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone)]
pub struct Principal {
    pub sub: String,
    pub organisation_id: String,
    pub roles: Vec<Role>,
    /// When present, the caller is limited to these locations.
    pub locations: Option<Vec<String>>,
    pub name: Option<String>,
}

impl Principal {
    /// The one permission check a handler makes: 403 unless one of the caller's roles allows it.
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        if self.roles.iter().any(|role| allows(*role, permission)) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    pub fn has_any_role(&self, roles: &[Role]) -> bool {
        self.roles.iter().any(|role| roles.contains(role))
    }

    /// Whether a record at `location_id` is within the caller's locations. A caller limited to
    /// some locations does not see records that belong to none.
    pub fn may_see_location(&self, location_id: Option<&str>) -> bool {
        match &self.locations {
            None => true,
            Some(allowed) => location_id.is_some_and(|id| allowed.iter().any(|a| a == id)),
        }
    }
}

fn authenticate(req: &HttpRequest) -> ApiResult<Principal> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state is missing"))?;
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
    let claims = state
        .verifier
        .verify(token)
        .map_err(ApiError::Unauthorized)?;
    let is_uuid = |text: &str| uuid::Uuid::parse_str(text).is_ok();
    if !is_uuid(&claims.org) {
        return Err(ApiError::Unauthorized(
            "the org claim must be an organisation id".to_owned(),
        ));
    }
    if let Some(locations) = &claims.locations {
        if !locations.iter().all(|l| is_uuid(l)) {
            return Err(ApiError::Unauthorized(
                "the locations claim must list location ids".to_owned(),
            ));
        }
    }
    Ok(Principal {
        sub: claims.sub,
        organisation_id: claims.org,
        roles: claims.roles,
        locations: claims.locations,
        name: claims.name,
    })
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}
