//! A plan's actions: owned, due, done or cancelled, and checked for whether they worked.

pub mod dto;
pub mod handlers;
pub mod rows;
pub mod store;
