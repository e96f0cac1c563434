//! Logging and metrics setup.
//!
//! Metric names (Prometheus):
//! - `callhook_jobs_total{source, outcome}`: jobs and retry commands taken, by how
//!   they ended (`processed`, `skipped`, `dead_lettered`, `handed_back`).
//! - `callhook_attempts_total{trigger, outcome, error_kind}`: every attempt recorded.
//! - `callhook_delivery_duration_seconds{outcome}`: histogram of HTTP attempts.
//! - `callhook_jobs_in_flight`, `callhook_requests_in_flight`: gauges.
//! - `callhook_dead_letters_total{reason}`: messages moved to the dead-letter queue.
//! - `callhook_store_retries_total{operation}`, `callhook_publish_retries_total`:
//!   how often a dependency had to be waited for.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the process-wide Prometheus recorder once and returns its handle.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("callhook_delivery_duration_seconds".into()),
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    15.0, 30.0,
                ],
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (a test harness): then ours
        // renders an empty page rather than failing the worker.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Sets up logging from `RUST_LOG` (default `info`) in the chosen format.
pub fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
