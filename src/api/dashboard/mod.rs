//! The dashboard: one page embedded in the binary that reads the insights through the public
//! API (so it is an example client too), and the development sign-in it uses.

pub mod handlers;
