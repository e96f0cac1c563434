//! The callhook worker and its tools, as a library so tests drive them in process.
//!
//! The parts:
//! - [`config`]: [`Config`](config::Config), layered defaults → file → `CALLHOOK_*`.
//! - [`worker`]: [`Worker`](worker::Worker), which consumes jobs and retry commands,
//!   delivers every integration and stores every attempt before acknowledging.
//! - [`server`]: the HTTP side: `/healthz`, `/readyz`, `/metrics`.
//! - [`telemetry`]: logging setup and the Prometheus recorder.
//!
//! The binary (`main.rs` and `cmd/`) only parses arguments and wires these.

pub mod config;
pub mod server;
pub mod telemetry;
pub mod worker;
