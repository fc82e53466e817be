//! careloop's integration tests: the whole app through HTTP, on SQLite by default and on
//! PostgreSQL when TEST_DATABASE_URL names a server (see .ci/run).

mod audit;
mod auth;
mod change_numbering;
mod changes;
mod cli;
mod clients;
mod concerns;
mod conventions;
mod evidence;
mod evolution;
mod exports;
mod frameworks;
mod governance;
mod helpers;
mod imports;
mod improvement;
mod insights;
mod intake;
mod learning;
mod lists;
mod locations;
mod lookups;
mod merge_patch;
mod metrics;
mod openapi_examples;
mod organisation;
mod packs;
mod permissions;
mod preconditions;
mod privacy;
mod receipts;
mod recognition;
mod self_assessments;
mod tags;
mod webhooks;
