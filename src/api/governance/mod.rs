//! The month's governance pack (JSON, or a printable page) and the record of its meeting.

pub mod charts;
pub mod dto;
pub mod handlers;
pub mod page;
pub mod review;
pub mod store;
