//! The callhook worker and its tools, as a library so tests drive them in process.
//!
//! The parts:
//! - [`config`]: [`Config`](config::Config), layered defaults → file → `CALLHOOK_*`.
//! - [`worker`]: [`Worker`](worker::Worker), which consumes jobs and retry commands,
//!   delivers every integration and stores every attempt before acknowledging.
//! - [`server`]: the HTTP side: `/healthz`, `/readyz`, `/metrics`.
//! - [`telemetry`]: logging setup and the Prometheus recorder.
//! - [`sink`]: a minimal local HTTP receiver for the demo and the benchmark.
//! - [`api`]: the admin HTTP API (`/v1`: Test button, logs, retries, OpenAPI).
//! - [`retries`]: manual retries, shared by the API and `callhook retry`.
//! - [`testsend`]: the Test button's send, shared by the API and `callhook test`.
//! - [`follow`]: tailing attempt records live (`callhook logs --follow`).
//!
//! The binary (`main.rs` and `cmd/`) only parses arguments and wires these.

pub mod api;
pub mod config;
pub mod follow;
pub mod retries;
pub mod server;
pub mod sink;
pub mod telemetry;
pub mod testsend;
pub mod worker;
