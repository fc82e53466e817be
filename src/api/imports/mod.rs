//! Imports: files of records (CSV, NDJSON, JSON) created or brought up to date in bulk,
//! through the single-record endpoints' rules, and kept as a record of what each did.

pub mod columns;
pub mod dto;
pub mod handlers;
pub mod kinds;
pub mod rows;
pub mod run;
pub mod store;
