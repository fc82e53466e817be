//! Self-assessment: a score per quality statement per location, rolled up to key questions by
//! the framework's own bands and limiters.

pub mod dto;
pub mod handlers;
pub mod store;
