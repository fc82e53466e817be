//! The loop: from any record, every record linked to it, both ways and onwards, so a client can
//! show how a concern led to learning, a plan, actions and a checked change.

pub mod dto;
pub mod handlers;
pub mod walk;
