//! The rate limit headers: every answer to a caller with a token says where it stands (the
//! `Principal` extractor counts the request and leaves its standing on the request).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

use crate::auth::Standing;

pub const POLICY: &str = "ratelimit-policy";
pub const STATE: &str = "ratelimit";

pub async fn announce(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut response = next.call(req).await?;
    let standing = response.request().extensions().get::<Standing>().copied();
    if let Some(standing) = standing {
        let headers = response.headers_mut();
        for (name, value) in [(POLICY, standing.policy()), (STATE, standing.state())] {
            if let Ok(value) = HeaderValue::try_from(value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
    }
    Ok(response)
}
