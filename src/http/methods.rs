//! Methods on known paths: `HEAD` wherever `GET` is served, and 405 with `Allow` for a method
//! the document does not declare for a path (404 stays for paths that do not exist).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse};

use crate::api::contract::contract;
use crate::error::{ApiError, ApiResult};

/// Serves `HEAD` as `GET`. The HTTP layer still knows the request was `HEAD` and sends the
/// headers (`Content-Length`, `ETag` …) without the body.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

/// What no route served: 405 naming the allowed methods on a known path, else 404.
pub async fn unrouted(req: HttpRequest) -> ApiResult<HttpResponse> {
    match contract().methods_for(req.path()) {
        Some(mut allowed) => {
            if allowed.contains(&Method::GET) {
                allowed.push(Method::HEAD);
            }
            Err(ApiError::MethodNotAllowed(allowed))
        }
        None => Err(ApiError::NotFound("endpoint")),
    }
}
