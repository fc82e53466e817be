//! The audit trail: every change, who made it and when; append-only. Stores write it through
//! `store::audit`; this resource reads it.

pub mod dto;
pub mod handlers;
pub mod store;
