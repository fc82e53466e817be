//! Recognition: compliments, staff awards, improvement milestones and thanks, and the
//! highlights feed for newsletters and handovers.

pub mod dto;
pub mod handlers;
pub mod store;
