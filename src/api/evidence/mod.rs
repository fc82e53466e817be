//! Evidence: audit results, feedback, outcome measures and more, tagged to quality statements,
//! with optional metrics whose trends are drawn in the database.

pub mod dto;
pub mod handlers;
pub mod linked;
pub mod rows;
pub mod series;
pub mod store;
