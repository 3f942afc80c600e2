//! End-to-end tests: the real binary, real templates, real SQLite files, real processes.

mod architecture;
mod bad_input;
mod cli;
mod compat;
mod conformance;
mod data;
mod events;
mod http;
mod identity;
mod injection;
mod operate;
mod plugin;
mod reliability;
mod run;
mod security;
mod seeing;
mod server;
mod store;
mod support;
mod telemetry;
mod tooling;
mod validate;
mod worker;
