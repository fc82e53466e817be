use actix_web::http::header::{self, ContentType};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpMessage, HttpRequest, HttpResponse};
use base64::Engine;
use jsonwebtoken::jwk::AlgorithmParameters;

use super::dto::{JsonWebKey, JsonWebKeySet, OAuthError, OAuthErrorCode, TokenResponse, TokenType};
use crate::api::api_clients::store::{self, ClientRow};
use crate::auth::{Claims, Role, TokenSigner};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How long a client's token lasts.
const TOKEN_SECONDS: u64 = 900;
/// A token request is a few short fields.
const MAX_BODY: usize = 8 * 1024;

/// Why a token request is refused, before it is answered as RFC 6749 §5.2 says.
struct Refusal(OAuthErrorCode, String);

fn refuse(error: OAuthErrorCode, description: &str) -> Refusal {
    Refusal(error, description.to_owned())
}

impl Refusal {
    fn answer(self) -> HttpResponse {
        let Refusal(error, error_description) = self;
        let status = if error == OAuthErrorCode::InvalidClient {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        let mut response = HttpResponse::build(status);
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"careloop\""));
        }
        response
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(OAuthError {
                error,
                error_description,
            })
    }
}

/// The request's form fields, each at most once.
async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Vec<(String, String)>, Refusal> {
    let form =
        matches!(req.mime_type(), Ok(Some(mime)) if mime == mime::APPLICATION_WWW_FORM_URLENCODED);
    if !form {
        return Err(refuse(
            OAuthErrorCode::InvalidRequest,
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let body = match payload.to_bytes_limited(MAX_BODY).await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => {
            return Err(refuse(
                OAuthErrorCode::InvalidRequest,
                "the body could not be read",
            ))
        }
        Err(_) => {
            return Err(refuse(
                OAuthErrorCode::InvalidRequest,
                "the body is too large",
            ))
        }
    };
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|_| {
        refuse(
            OAuthErrorCode::InvalidRequest,
            "the body is not form-encoded",
        )
    })?;
    // A parameter careloop reads may come once (RFC 6749 §3.2); any other is ignored.
    for (index, (name, _)) in fields.iter().enumerate() {
        let known = ["grant_type", "client_id", "client_secret", "scope"].contains(&name.as_str());
        if known && fields[..index].iter().any(|(earlier, _)| earlier == name) {
            return Err(refuse(
                OAuthErrorCode::InvalidRequest,
                &format!("{name} is given more than once"),
            ));
        }
    }
    Ok(fields)
}

/// The client's id and secret, from HTTP Basic or the form, never both (RFC 6749 §2.3.1).
fn credentials(
    req: &HttpRequest,
    field: impl Fn(&str) -> Option<String>,
) -> Result<(String, String), Refusal> {
    let basic = req.headers().get(header::AUTHORIZATION).map(|value| {
        let decoded = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
            .and_then(|(_, encoded)| {
                base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .ok()
            })
            .and_then(|bytes| String::from_utf8(bytes).ok());
        let pair = decoded.as_deref().and_then(|d| d.split_once(':'));
        let unescape = |text: &str| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={text}"))
                .ok()
                .and_then(|mut v| v.pop())
                .map(|(_, value)| value)
        };
        pair.and_then(|(id, secret)| Some((unescape(id)?, unescape(secret)?)))
    });
    let form = (field("client_id"), field("client_secret"));
    match (basic, form) {
        (Some(_), (Some(_), _) | (_, Some(_))) => Err(refuse(
            OAuthErrorCode::InvalidRequest,
            "authenticate with HTTP Basic or with client_id and client_secret, not both",
        )),
        (Some(Some(pair)), _) => Ok(pair),
        (Some(None), _) => Err(refuse(
            OAuthErrorCode::InvalidClient,
            "the Authorization header must be HTTP Basic with client_id:client_secret",
        )),
        (None, (Some(id), Some(secret))) => Ok((id, secret)),
        (None, _) => Err(refuse(
            OAuthErrorCode::InvalidClient,
            "client credentials are required: HTTP Basic, or client_id and client_secret",
        )),
    }
}

/// The roles a token for `client` carries: all of its own, or the `scope` asked for.
fn roles_for(client: &ClientRow, scope: Option<&str>) -> Result<Vec<Role>, Refusal> {
    let held: Vec<Role> = client.roles.0.iter().map(|r| Role::from(*r)).collect();
    let Some(scope) = scope else {
        return Ok(held);
    };
    let mut asked = Vec::new();
    for name in scope.split(' ').filter(|s| !s.is_empty()) {
        match Role::parse(name).filter(|role| held.contains(role)) {
            Some(role) if !asked.contains(&role) => asked.push(role),
            Some(_) => {}
            None => {
                return Err(refuse(
                    OAuthErrorCode::InvalidScope,
                    &format!("the client does not hold the role {name:?}"),
                ))
            }
        }
    }
    if asked.is_empty() {
        return Err(refuse(OAuthErrorCode::InvalidScope, "scope names no role"));
    }
    Ok(asked)
}

/// Get a token for a machine client
///
/// OAuth 2.0 client credentials (RFC 6749 §4.4): a form-encoded body with `grant_type` set
/// to `client_credentials`, the client authenticating with HTTP Basic or with `client_id` and
/// `client_secret` fields. The token is a JWT careloop signs, valid for 15 minutes, carrying
/// the client's roles (or the subset `scope` names) and locations. Errors are RFC 6749 §5.2
/// JSON (`error`, `error_description`), not problem documents.
#[utoipa::path(
    tag = "oauth",
    request_body(content = super::dto::TokenRequest, content_type = "application/x-www-form-urlencoded"),
    security((), ("client_basic" = [])),
    responses(
        (status = 200, description = "A token; never cache it", body = TokenResponse,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "`invalid_request`, `unsupported_grant_type`, \
            `invalid_scope` or `unauthorized_client`", body = OAuthError),
        (status = 401, description = "`invalid_client`: unknown client, wrong secret, revoked \
            client or no credentials", body = OAuthError,
            headers(("WWW-Authenticate" = String, description = "`Basic realm=\"careloop\"`"))),
        (status = 429, description = "- `too_many_requests`: the client is past its quota \
            (`CARELOOP_RATE_LIMIT_PER_MINUTE`, shared with its tokens' requests); wait \
            `Retry-After` seconds", body = crate::error::Problem,
            content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 500, description = "- `internal_error`: the failure is logged, never described",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/oauth/token")]
pub async fn issue_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    Ok(match grant(&state, &req, payload).await? {
        Ok(token) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(token),
        Err(refusal) => refusal.answer(),
    })
}

/// The client credentials grant: a token, or why not (a database failure is the 500 it is).
async fn grant(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> ApiResult<Result<TokenResponse, Refusal>> {
    let fields = match read_form(req, payload).await {
        Ok(fields) => fields,
        Err(refused) => return Ok(Err(refused)),
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    match field("grant_type").as_deref() {
        Some("client_credentials") => {}
        Some(_) => {
            return Ok(Err(refuse(
                OAuthErrorCode::UnsupportedGrantType,
                "careloop issues client_credentials tokens only",
            )))
        }
        None => {
            return Ok(Err(refuse(
                OAuthErrorCode::InvalidRequest,
                "grant_type is required",
            )))
        }
    }
    let (client_id, secret) = match credentials(req, field) {
        Ok(pair) => pair,
        Err(refused) => return Ok(Err(refused)),
    };
    if !state.signer.signs() {
        return Ok(Err(refuse(
            OAuthErrorCode::UnauthorizedClient,
            "this careloop has no key to sign tokens with: set CARELOOP_SIGNING_KEY",
        )));
    }
    let client = state
        .db
        .run(move |conn| store::authenticate(conn, &client_id, &secret))
        .await?;
    let Some(client) = client else {
        return Ok(Err(refuse(
            OAuthErrorCode::InvalidClient,
            "unknown client, wrong secret, or a revoked client",
        )));
    };
    // An authenticated client's token requests count against its quota, as its tokens'
    // requests do (counted once it is known, so nobody else can spend its quota).
    let (standing, allowed) = state.limiter.take(&client.id.to_string());
    req.extensions_mut().insert(standing);
    if !allowed {
        return Err(ApiError::TooManyRequests {
            retry_after_secs: standing.resets_in,
        });
    }
    let roles = match roles_for(&client, field("scope").as_deref()) {
        Ok(roles) => roles,
        Err(refused) => return Ok(Err(refused)),
    };
    let now = chrono::Utc::now().timestamp();
    let scope = roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let claims = Claims {
        sub: client.id.to_string(),
        org: client.organisation_id.clone(),
        roles,
        locations: client
            .locations
            .as_ref()
            .map(|l| l.0.iter().map(ToString::to_string).collect()),
        name: Some(client.name.clone()),
        exp: now + TOKEN_SECONDS as i64,
        iat: Some(now),
        iss: None,
        aud: None,
        client_id: Some(client.id.to_string()),
    };
    let access_token = state.signer.sign(claims).map_err(ApiError::Internal)?;
    Ok(Ok(TokenResponse {
        access_token,
        token_type: TokenType::Bearer,
        expires_in: TOKEN_SECONDS,
        scope,
    }))
}

/// Get the keys that verify careloop's tokens
///
/// The public keys (JWKS, RFC 7517) of the tokens `/oauth/token` issues, when careloop signs
/// them with its ES256 key (`CARELOOP_SIGNING_KEY`); empty when it signs with a shared secret.
#[utoipa::path(
    tag = "oauth",
    security(()),
    responses(
        (status = 200, description = "The key set", body = JsonWebKeySet),
        (status = 500, description = "- `internal_error`: the failure is logged, never described",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/.well-known/jwks.json")]
pub async fn get_jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .json(key_set(&state.signer))
}

fn key_set(signer: &TokenSigner) -> JsonWebKeySet {
    let keys = signer
        .jwks()
        .keys
        .into_iter()
        .filter_map(|jwk| {
            let AlgorithmParameters::EllipticCurve(ec) = &jwk.algorithm else {
                return None;
            };
            Some(JsonWebKey {
                kty: "EC".to_owned(),
                crv: "P-256".to_owned(),
                x: ec.x.clone(),
                y: ec.y.clone(),
                kid: jwk.common.key_id.clone()?,
                key_use: "sig".to_owned(),
                alg: "ES256".to_owned(),
            })
        })
        .collect();
    JsonWebKeySet { keys }
}
