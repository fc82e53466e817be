//! Highlights: what is worth sharing in a newsletter or handover, from five kinds of record.

pub mod dto;
pub mod handlers;
pub mod store;
