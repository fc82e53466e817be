//! Webhooks (Standard Webhooks): endpoints an admin subscribes to the change feed's events,
//! each reading with a scope of roles, and the outbox the worker delivers from.

pub mod deliveries;
pub mod dto;
pub mod handlers;
pub mod outbox;
pub mod sender;
pub mod store;
