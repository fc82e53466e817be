//! Machine clients: systems an admin registers, which then get their own short-lived tokens at
//! `/oauth/token` with a client id and secret.

pub mod dto;
pub mod handlers;
pub mod store;
