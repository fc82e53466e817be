//! The audit trail: every change, who made it and when; append-only.

pub mod dto;
pub mod handlers;
pub mod store;

pub use store::{changed_fields, record, Actor, Change};
