use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A token request, form-encoded (`application/x-www-form-urlencoded`). The client
/// authenticates with HTTP Basic (`client_id:client_secret`) or with the two form fields, not
/// both.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"grant_type": "client_credentials", "client_id": "0192f0c4-5555-7000-8000-000000000001", "client_secret": "cls_…"}))]
pub struct TokenRequest {
    /// `client_credentials`, the only grant careloop issues.
    #[schema(pattern = "^client_credentials$")]
    pub grant_type: String,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Space-separated roles, a subset of the client's, for a token that carries fewer.
    pub scope: Option<String>,
}

/// The kind of token issued.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum TokenType {
    Bearer,
}

/// A token (RFC 6749 §5.1).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJFUzI1NiIs…", "token_type": "Bearer", "expires_in": 900, "scope": "integration"}))]
pub struct TokenResponse {
    /// A JWT to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    pub token_type: TokenType,
    /// Seconds until it expires: ask for a new one then (there is no refresh token).
    #[schema(minimum = 1, maximum = 900)]
    pub expires_in: u64,
    /// The roles the token carries, space-separated.
    pub scope: String,
}

/// Why a token request failed (RFC 6749 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    /// A parameter is missing, repeated or malformed, or the client authenticated twice.
    InvalidRequest,
    /// Unknown client, wrong secret, revoked client, or no credentials (401).
    InvalidClient,
    /// careloop cannot issue tokens (it has no signing key).
    UnauthorizedClient,
    /// Only `client_credentials` is issued.
    UnsupportedGrantType,
    /// `scope` asks for a role the client does not hold.
    InvalidScope,
}

/// An error of the token endpoint, as OAuth 2.0 clients expect it (not a problem document).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": "invalid_client", "error_description": "unknown client or wrong secret"}))]
pub struct OAuthError {
    pub error: OAuthErrorCode,
    pub error_description: String,
}

/// A public key careloop signs its tokens with (RFC 7517; ES256 keys on P-256).
#[derive(Debug, Serialize, ToSchema)]
pub struct JsonWebKey {
    /// `EC`.
    pub kty: String,
    /// `P-256`.
    pub crv: String,
    /// The curve point's coordinates, base64url.
    pub x: String,
    pub y: String,
    /// Matches the `kid` in a token's header.
    pub kid: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub key_use: String,
    /// `ES256`.
    pub alg: String,
}

/// The keys that verify careloop's tokens: empty when it signs with a shared secret (HS256).
#[derive(Debug, Serialize, ToSchema)]
pub struct JsonWebKeySet {
    pub keys: Vec<JsonWebKey>,
}
