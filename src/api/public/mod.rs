//! The public front door: each intake point's page (`/i/{slug}`), where anyone may give
//! feedback, a compliment or a concern without a token, and the location's published "you
//! said, we did". Nothing here needs or reads a token.

pub mod dto;
pub mod handlers;
mod pages;
mod submit;
