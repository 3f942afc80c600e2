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

/// Tune mimalloc, the binary's allocator (its `#[global_allocator]`; the benchmarks use it
/// too): memory freed is given back to the system at once, not after mimalloc's default
/// 10 ms — held back, it raised a 10,000-step run's peak from 37 to 43 MiB. Harmless where
/// mimalloc is not the allocator.
#[expect(
    unsafe_code,
    reason = "mimalloc's options are set through its C interface"
)]
pub fn tune_allocator() {
    /// `mi_option_purge_delay` (milliseconds), which the bindings do not name.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: sets one of mimalloc's option values; any value is valid for this option.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) }
}

/// Make `ring` the TLS crypto provider (reqwest is built without one). Call before any
/// HTTP client is built; calling it again is harmless.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
