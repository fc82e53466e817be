//! careloop: a continuous-improvement API for care providers under the CQC Single Assessment
//! Framework. The binary in `main.rs` is a thin command line over this library.

pub mod api;
pub mod app;
pub mod auth;
pub mod background;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod prometheus;
pub mod seed;
pub mod state;
pub mod store;
pub mod telemetry;
