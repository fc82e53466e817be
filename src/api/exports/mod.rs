//! Exports beyond the lists' own CSV: the inspection pack.

pub mod handlers;
pub mod pack;
