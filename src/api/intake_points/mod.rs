//! Intake points: the public doors (`/i/{slug}`) managers and admins set up per location, and
//! what comes in through them (the `public` module serves the doors themselves).

pub mod dto;
pub mod handlers;
pub mod store;
