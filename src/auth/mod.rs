//! Who is calling: bearer JWTs verified into a [`Principal`], roles, the permission table, and
//! an anonymous raiser's receipt code.

mod jwt;
mod permissions;
mod principal;
mod receipt_guard;

pub use jwt::{mint_hs256, Audience, Claims, Verifier, LEEWAY_SECS};
pub use permissions::{allows, Permission};
pub use principal::{KnownOrganisations, Principal};
pub use receipt_guard::{ReceiptCode, ReceiptGuard};

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
