//! End-to-end tests: the real binary, real templates, real SQLite files, real processes.

mod bad_input;
mod run;
mod store;
mod support;
mod validate;
