//! The caller's organisation: the tenant, with its CQC and ODS identifiers and concern settings.

pub mod dto;
pub mod handlers;
pub mod store;
