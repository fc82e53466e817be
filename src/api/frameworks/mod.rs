//! Assessment frameworks (versioned data) and how well the organisation's records cover them.

pub mod dto;
pub mod handlers;
pub mod store;
