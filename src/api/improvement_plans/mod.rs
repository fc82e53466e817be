//! Improvement plans: objectives with actions, reviewed on a cycle, linked to the records they
//! came from; and their actions and reviews.

pub mod action_store;
pub mod dto;
pub mod handlers;
pub mod store;
