//! The change feed: every committed change in the organisation, each once, its number visible
//! only with its commit, with the record as the caller would read it now. Stores append to it
//! through `store::changes`.

pub mod dto;
pub mod handlers;
pub mod store;
