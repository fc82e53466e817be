//! HTTP helpers every resource shares, one file per job.

pub mod client_address;
pub mod deprecation;
pub mod export;
pub mod extract;
pub mod idempotency;
pub mod methods;
pub mod paging;
pub mod preconditions;
pub mod rate_limit;
pub mod respond;
pub mod rfc3339;
pub mod validate;
