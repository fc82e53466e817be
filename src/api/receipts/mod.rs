//! What an anonymous raiser can do with their receipt code, with no token: follow the concern
//! and exchange messages with the team. Failed codes are rate limited per client address.

pub mod dto;
pub mod handlers;
