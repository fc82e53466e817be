//! Bearer token verification. Each configured key accepts only the algorithms it implies: an
//! HS256 secret accepts HS256, an RSA public key RS256, a P-256 key ES256; `none` never.

use std::path::Path;

use anyhow::{bail, Context};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::Role;

/// The claims careloop reads from a token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    /// The caller's organisation id.
    pub org: String,
    pub roles: Vec<Role>,
    /// When present, the caller is limited to these location ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
}

/// The `aud` claim: one audience or several (RFC 7519 §4.1.3). Validation accepts either when
/// it holds the configured audience.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

struct VerifyingKey {
    /// JWKS keys are chosen by the token's `kid`; the others by algorithm.
    kid: Option<String>,
    key: DecodingKey,
    algorithm: Algorithm,
}

pub struct Verifier {
    keys: Vec<VerifyingKey>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl Verifier {
    pub fn new(issuer: Option<String>, audience: Option<String>) -> Self {
        Self {
            keys: Vec::new(),
            issuer,
            audience,
        }
    }

    pub fn with_secret(mut self, secret: &[u8]) -> Self {
        self.keys.push(VerifyingKey {
            kid: None,
            key: DecodingKey::from_secret(secret),
            algorithm: Algorithm::HS256,
        });
        self
    }

    /// Adds a PEM public key: RSA (RS256) or P-256 (ES256).
    pub fn with_public_key_file(mut self, path: &Path) -> anyhow::Result<Self> {
        let pem = std::fs::read(path)
            .with_context(|| format!("cannot read the public key {}", path.display()))?;
        let (key, algorithm) = if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
            (key, Algorithm::RS256)
        } else if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
            (key, Algorithm::ES256)
        } else {
            bail!("{} is not a PEM RSA or EC public key", path.display());
        };
        self.keys.push(VerifyingKey {
            kid: None,
            key,
            algorithm,
        });
        Ok(self)
    }

    /// Adds every signing key of a JWKS document; each must have a `kid`.
    pub fn with_jwks_file(mut self, path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the JWKS file {}", path.display()))?;
        let set: JwkSet = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a JWKS document", path.display()))?;
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                bail!("every key in {} needs a kid", path.display());
            };
            let algorithm = match (&jwk.algorithm, jwk.common.key_algorithm) {
                // A shared secret has no place in a public key set.
                (AlgorithmParameters::OctetKey(_), _) => {
                    bail!("key {kid} in {} is a shared secret", path.display())
                }
                (_, Some(alg)) => key_algorithm(alg)
                    .with_context(|| format!("key {kid} has an unsupported alg"))?,
                (AlgorithmParameters::RSA(_), None) => Algorithm::RS256,
                (AlgorithmParameters::EllipticCurve(ec), None) => match ec.curve {
                    EllipticCurve::P256 => Algorithm::ES256,
                    EllipticCurve::P384 => Algorithm::ES384,
                    _ => bail!("key {kid} uses an unsupported curve"),
                },
                (AlgorithmParameters::OctetKeyPair(_), None) => Algorithm::EdDSA,
            };
            let key = DecodingKey::from_jwk(jwk).with_context(|| format!("key {kid}"))?;
            self.keys.push(VerifyingKey {
                kid: Some(kid),
                key,
                algorithm,
            });
        }
        Ok(self)
    }

    pub fn has_keys(&self) -> bool {
        !self.keys.is_empty()
    }

    /// Verifies signature, algorithm, `exp`, `nbf` (both with [`LEEWAY_SECS`] of leeway for
    /// clock differences), and `iss`/`aud` when configured. The error says in plain words what
    /// was wrong, for the 401's detail.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| NOT_A_JWT.to_owned())?;
        let key = self
            .keys
            .iter()
            .find(|k| match (&k.kid, &header.kid) {
                (Some(kid), Some(wanted)) => kid == wanted && k.algorithm == header.alg,
                (Some(_), None) => false,
                (None, _) => k.algorithm == header.alg,
            })
            .ok_or_else(|| {
                let kid = header
                    .kid
                    .as_deref()
                    .map_or_else(String::new, |kid| format!(" and key id {kid}"));
                format!(
                    "no key this service trusts signs with the token's algorithm {:?}{kid}",
                    header.alg
                )
            })?;
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        // A configured issuer or audience must be present, not merely right when present.
        let mut required = vec!["exp", "sub"];
        match &self.issuer {
            Some(issuer) => {
                validation.set_issuer(&[issuer]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match &self.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map(|data| data.claims)
            .map_err(|e| rejection(e.kind()))
    }
}

/// Seconds of clock difference allowed when checking `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 60;

const NOT_A_JWT: &str = "the bearer token is not a well-formed JWT";

/// Why a token was refused, in plain words.
fn rejection(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired (exp is past)".to_owned(),
        ErrorKind::ImmatureSignature => {
            "the token is not valid yet (nbf is in the future)".to_owned()
        }
        ErrorKind::InvalidSignature => {
            "the token's signature is wrong: it was not signed with a key this service trusts"
                .to_owned()
        }
        ErrorKind::InvalidIssuer => {
            "the token's issuer (iss) is not the one this service trusts".to_owned()
        }
        ErrorKind::InvalidAudience => "the token is not meant for this service (aud)".to_owned(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no {claim} claim"),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            "the token's algorithm is not one this key accepts".to_owned()
        }
        ErrorKind::Json(_) => "the token's claims are not careloop's: it needs sub, org, roles \
            (admin, manager, staff, viewer or integration) and exp"
            .to_owned(),
        _ => NOT_A_JWT.to_owned(),
    }
}

fn key_algorithm(alg: KeyAlgorithm) -> anyhow::Result<Algorithm> {
    Ok(match alg {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        other => bail!("{other:?}"),
    })
}

/// Signs claims with an HS256 secret: for `careloop token`, development and tests.
pub fn mint_hs256(secret: &[u8], claims: &Claims) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("HS256 signing with an in-memory secret cannot fail")
}
