//! Tokens for machine clients: the OAuth 2.0 client credentials grant (RFC 6749 §4.4) at
//! `/oauth/token`, and the public keys that verify them at `/.well-known/jwks.json`.

pub mod dto;
pub mod handlers;
