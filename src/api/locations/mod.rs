//! Locations: the registered services (care homes, home-care branches) of the organisation.

pub mod dto;
pub mod handlers;
pub mod store;
