//! tasker: a single-binary workflow runner with durable state.
//!
//! Every layer shares the leaf `model`; above it data flows one way: `templates` → `engine`
//! → `store` and `events` → `telemetry`, `insights`, `render` → `cli`, with `handlers` doing
//! the work. `tests/it/architecture.rs` holds the table of who may use whom.

pub mod cli;
pub mod clock;
pub mod config;
pub mod engine;
pub mod error;
pub mod events;
pub mod graph;
pub mod handlers;
pub mod insights;
pub mod limits;
pub mod model;
pub mod render;
pub mod runner;
pub mod secrets;
pub mod store;
pub mod telemetry;
pub mod templates;
pub mod text;

pub use error::Error;

/// Make `ring` the TLS crypto provider (reqwest is built without one). Call before any
/// HTTP client is built; calling it again is harmless.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
