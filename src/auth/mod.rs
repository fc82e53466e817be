//! Who is calling: bearer JWTs verified into a [`Principal`], roles, the permission table, and
//! an anonymous raiser's receipt code.

mod clients;
mod intake_guard;
mod jwt;
mod permissions;
mod principal;
mod receipt_guard;
mod recent_tokens;
mod throttle;

pub use clients::ActiveClients;
pub use intake_guard::IntakeGuard;
pub use jwt::{
    mint_hs256, Audience, Claims, TokenSigner, Verified, Verifier, LEEWAY_SECS, OWN_AUDIENCE,
    OWN_ISSUER,
};
pub use permissions::{allows, Permission};
pub use principal::{KnownOrganisations, Principal};
pub use receipt_guard::{ReceiptCode, ReceiptGuard};
pub use throttle::{RateLimiter, Standing};

use crate::domain::text_enum;

text_enum!(
    /// What a caller may do, as the `roles` claim names it.
    Role {
        /// Provider administration.
        Admin => "admin",
        /// Registered manager or quality lead: triage, plans, sign-off.
        Manager => "manager",
        /// Raise concerns, record learning, own actions.
        Staff => "staff",
        /// Read-only governance or auditor.
        Viewer => "viewer",
        /// A vendor system: create, import, sync; no triage.
        Integration => "integration",
    }
);
