//! SQL helpers every store shares, one file per job.

pub mod audit;
pub mod changes;
pub mod external_refs;
pub mod links;
pub mod support;
pub mod visibility;
