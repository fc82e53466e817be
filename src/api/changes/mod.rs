//! The change feed: every committed change in the organisation, each numbered once it has
//! committed, with the record as the caller would read it now. Stores append to it through
//! `store::changes`.

pub mod dto;
pub mod handlers;
pub mod store;
