//! Improvement plans: objectives with actions, reviewed on a cycle, linked to the records they
//! came from; and their actions and reviews.

pub mod actions;
pub mod plans;
pub mod reviews;
