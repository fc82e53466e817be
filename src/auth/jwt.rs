//! Bearer token verification. Each configured key accepts only the algorithms it implies: an
//! HS256 secret accepts HS256, an RSA public key RS256, a P-256 key ES256; `none` never.

use std::path::Path;

use anyhow::{bail, Context};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::recent_tokens::RecentTokens;
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
    /// The machine client a token careloop issued at `/oauth/token` was issued to (RFC 9068).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// A verified token's claims, and whether careloop signed it (with its secret or its signing
/// key) rather than an identity provider: only then does a `client_id` name one of its clients.
#[derive(Debug, Clone)]
pub struct Verified {
    pub claims: Claims,
    pub signed_here: bool,
}

/// The `iss` and `aud` of the tokens careloop signs with its own signing key.
pub const OWN_ISSUER: &str = "careloop";
pub const OWN_AUDIENCE: &str = "careloop";

/// The `aud` claim: one audience or several (RFC 7519 §4.1.3). Validation accepts either when
/// it holds the configured audience.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

struct VerifyingKey {
    /// JWKS keys (and careloop's signing key) are chosen by the token's `kid`; the others by
    /// algorithm.
    kid: Option<String>,
    key: DecodingKey,
    algorithm: Algorithm,
    /// The `iss` and `aud` tokens signed with this key must carry, when set.
    issuer: Option<String>,
    audience: Option<String>,
    signed_here: bool,
}

pub struct Verifier {
    keys: Vec<VerifyingKey>,
    issuer: Option<String>,
    audience: Option<String>,
    recent: RecentTokens,
}

impl Verifier {
    pub fn new(issuer: Option<String>, audience: Option<String>) -> Self {
        Self {
            keys: Vec::new(),
            issuer,
            audience,
            recent: RecentTokens::default(),
        }
    }

    /// A key of the identity provider's (or the shared secret): tokens must carry the
    /// configured issuer and audience.
    fn provider_key(
        &self,
        kid: Option<String>,
        key: DecodingKey,
        algorithm: Algorithm,
    ) -> VerifyingKey {
        VerifyingKey {
            kid,
            key,
            algorithm,
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            signed_here: false,
        }
    }

    pub fn with_secret(mut self, secret: &[u8]) -> Self {
        let key = VerifyingKey {
            signed_here: true,
            ..self.provider_key(None, DecodingKey::from_secret(secret), Algorithm::HS256)
        };
        self.keys.push(key);
        self
    }

    /// Trusts the tokens careloop signs with its own ES256 key (see [`TokenSigner`]).
    pub fn with_signing_key(mut self, signer: &TokenSigner) -> Self {
        if let TokenSigner::Es256(own) = signer {
            self.keys.push(VerifyingKey {
                kid: Some(own.kid.clone()),
                key: own.public.clone(),
                algorithm: Algorithm::ES256,
                issuer: Some(OWN_ISSUER.to_owned()),
                audience: Some(OWN_AUDIENCE.to_owned()),
                signed_here: true,
            });
        }
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
        let key = self.provider_key(None, key, algorithm);
        self.keys.push(key);
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
            let key = self.provider_key(Some(kid), key, algorithm);
            self.keys.push(key);
        }
        Ok(self)
    }

    pub fn has_keys(&self) -> bool {
        !self.keys.is_empty()
    }

    /// Verifies signature, algorithm, `exp`, `nbf` (both with [`LEEWAY_SECS`] of leeway for
    /// clock differences), and `iss`/`aud` when configured. The error says in plain words what
    /// was wrong, for the 401's detail. A token verified lately is taken on what it said then,
    /// until it expires.
    pub fn verify(&self, token: &str) -> Result<Verified, String> {
        let now = chrono::Utc::now().timestamp();
        if let Some(verified) = self.recent.get(token, now) {
            return Ok(verified);
        }
        let verified = self.check(token)?;
        self.recent.keep(token, &verified, now);
        Ok(verified)
    }

    fn check(&self, token: &str) -> Result<Verified, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| NOT_A_JWT.to_owned())?;
        // A key with the token's `kid` first, so careloop's own key wins over a provider's
        // public key of the same algorithm.
        let named =
            |k: &&VerifyingKey| k.kid.is_some() && k.kid == header.kid && k.algorithm == header.alg;
        let key = self
            .keys
            .iter()
            .find(named)
            .or_else(|| {
                self.keys
                    .iter()
                    .find(|k| k.kid.is_none() && k.algorithm == header.alg)
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
        match &key.issuer {
            Some(issuer) => {
                validation.set_issuer(&[issuer]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match &key.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map(|data| Verified {
                claims: data.claims,
                signed_here: key.signed_here,
            })
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

/// How careloop signs the tokens it issues to machine clients: with the HS256 secret (which
/// verifies them too), or with an ES256 private key whose public half `/.well-known/jwks.json`
/// serves. `None` when careloop only verifies an identity provider's tokens.
pub enum TokenSigner {
    Hs256 {
        secret: Vec<u8>,
        issuer: Option<String>,
        audience: Option<String>,
    },
    Es256(Box<Es256Key>),
    None,
}

/// careloop's ES256 signing key, its public half, and how the JWKS names it.
pub struct Es256Key {
    key: EncodingKey,
    public: DecodingKey,
    kid: String,
    jwk: Jwk,
}

impl TokenSigner {
    /// An ES256 signer from a PEM (PKCS#8) P-256 private key file.
    pub fn es256_from_file(path: &Path) -> anyhow::Result<Self> {
        let pem = std::fs::read(path)
            .with_context(|| format!("cannot read the signing key {}", path.display()))?;
        let key = EncodingKey::from_ec_pem(&pem)
            .with_context(|| format!("{} is not a PEM P-256 private key", path.display()))?;
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256)
            .with_context(|| format!("{} is not a P-256 key", path.display()))?;
        let public = DecodingKey::from_jwk(&jwk).context("the signing key's public half")?;
        // The key id is a digest of the public key, so it changes with the key.
        let AlgorithmParameters::EllipticCurve(ec) = &jwk.algorithm else {
            bail!("{} is not an EC key", path.display());
        };
        let digest = sha2::Sha256::digest(format!("{}.{}", ec.x, ec.y).as_bytes());
        let kid = format!("careloop-{}", &hex::encode(digest)[..16]);
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(Self::Es256(Box::new(Es256Key {
            key,
            public,
            kid,
            jwk,
        })))
    }

    pub fn signs(&self) -> bool {
        !matches!(self, Self::None)
    }

    /// Signs `claims`, filling in the issuer and audience this signer's tokens carry.
    pub fn sign(&self, mut claims: Claims) -> anyhow::Result<String> {
        match self {
            Self::Hs256 {
                secret,
                issuer,
                audience,
            } => {
                claims.iss = issuer.clone();
                claims.aud = audience.clone().map(Audience::One);
                Ok(mint_hs256(secret, &claims))
            }
            Self::Es256(own) => {
                let Es256Key { key, kid, .. } = own.as_ref();
                claims.iss = Some(OWN_ISSUER.to_owned());
                claims.aud = Some(Audience::One(OWN_AUDIENCE.to_owned()));
                let mut header = Header::new(Algorithm::ES256);
                header.kid = Some(kid.clone());
                Ok(jsonwebtoken::encode(&header, &claims, key)?)
            }
            Self::None => bail!("careloop has no key to sign tokens with"),
        }
    }

    /// The public keys a client verifies careloop's tokens with (none for a shared secret).
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: match self {
                Self::Es256(own) => vec![own.jwk.clone()],
                Self::Hs256 { .. } | Self::None => Vec::new(),
            },
        }
    }
}
