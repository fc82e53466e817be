//! Insights: the figures a governance meeting reads, counted by the database under each
//! record kind's visibility rule.

pub mod actions;
pub mod co_production;
pub mod concerns;
pub mod dto;
pub mod evidence;
pub mod handlers;
pub mod learning;
pub mod periods;
