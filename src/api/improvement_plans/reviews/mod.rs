//! A plan's reviews on its cycle, and the plans due for review.

pub mod dto;
pub mod handlers;
pub mod store;
