//! Recognition: compliments, staff awards, improvement milestones and thanks.

pub mod dto;
pub mod handlers;
pub mod store;
