//! Concerns: raised by staff or on behalf of people using the service, triaged through their
//! workflow against the organisation's clocks, with a timeline the raiser can follow.

pub mod dto;
pub mod handlers;
pub mod rows;
pub mod store;
pub mod timeline;
