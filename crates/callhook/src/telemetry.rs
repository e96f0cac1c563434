//! Logging, tracing and metrics setup.
//!
//! Logs go to standard error, as text or JSON lines (`CALLHOOK_LOG_FORMAT`), filtered
//! by `RUST_LOG` (default `info`). Spans: `message` (one per AMQP delivery, continued
//! from the message's W3C `traceparent` when it has one, see [`continue_trace`]),
//! `job` and `retry` (job, agent and call ids), `attempt` (integration and attempt
//! ids, trigger, attempt number). With `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, spans are exported over OTLP/gRPC
//! (tonic, batched); the standard `OTEL_*` variables apply (`OTEL_SERVICE_NAME`
//! defaults to `callhook`). Unset, nothing is exported. No span or log field
//! carries a header value, a signing secret, a token or a URL with credentials.
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
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

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

/// Sets up logging only (no span export), from `RUST_LOG` (default `info`).
pub fn init_logging(format: LogFormat) {
    let _ = install(format, None);
}

/// Flushes and stops the span exporter when dropped (keep it for the process's life).
#[must_use = "dropping the guard stops span export"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Whether spans are exported over OTLP.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("callhook: flushing spans failed: {e}");
        }
    }
}

/// Sets up logging and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, OTLP span export.
/// Call it inside the tokio runtime (the tonic exporter needs it).
pub fn init(config: &crate::config::Config) -> anyhow::Result<TelemetryGuard> {
    let endpoint_set = [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
    let provider = if endpoint_set {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()
            .map_err(|e| anyhow::anyhow!("OTEL_EXPORTER_OTLP_ENDPOINT: {e}"))?;
        let mut resource = opentelemetry_sdk::Resource::builder();
        if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
            resource = resource.with_service_name("callhook");
        }
        Some(
            SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(resource.build())
                .build(),
        )
    } else {
        None
    };
    install(config.log_format, provider.clone());
    if provider.is_some() {
        tracing::info!("exporting spans over OTLP");
    }
    Ok(TelemetryGuard { provider })
}

/// Installs the global subscriber: the env filter, the log format, and the
/// OpenTelemetry layer when there is a provider. False if one was installed already.
fn install(format: LogFormat, provider: Option<SdkTracerProvider>) -> bool {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = match format {
        LogFormat::Json => fmt.json().flatten_event(true).boxed(),
        LogFormat::Text => fmt.boxed(),
    };
    let otel = provider.map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("callhook")));
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init()
        .is_ok()
}

/// The remote parent a W3C `traceparent` names, if it is a valid one.
pub fn remote_context(traceparent: Option<&str>) -> Option<opentelemetry::Context> {
    use opentelemetry::trace::TraceContextExt as _;
    let traceparent = traceparent?;
    let carrier =
        std::collections::HashMap::from([("traceparent".to_string(), traceparent.to_string())]);
    let cx = TraceContextPropagator::new().extract(&carrier);
    cx.span().span_context().is_valid().then_some(cx)
}

/// Makes `span` a child of the trace a message's `traceparent` names (nothing when
/// it has none, it is invalid, or no OpenTelemetry layer is installed).
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) {
    if let Some(cx) = remote_context(traceparent) {
        let _ = span.set_parent(cx);
    }
}
