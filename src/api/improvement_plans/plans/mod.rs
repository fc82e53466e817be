//! Plans themselves: started as drafts, activated, reviewed, completed or archived.

pub mod dto;
pub mod handlers;
pub mod rows;
pub mod sources;
pub mod store;
