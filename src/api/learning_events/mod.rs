//! Learning events: debriefs, after-action reviews, reflective discussions, governance reviews
//! and the lessons they produced, linked to the concerns they came from.

pub mod dto;
pub mod handlers;
pub mod store;
