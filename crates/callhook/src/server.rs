//! The worker's HTTP side: `/healthz`, `/readyz` and `/metrics` (no token needed).
//!
//! `/healthz` answers 200 while the process serves HTTP at all. `/readyz` answers
//! 200 only while the consumer has a live session with RabbitMQ and Redis answers a
//! PING within a second; otherwise 503 with what is down. `/metrics` is the
//! Prometheus text format.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::worker::Worker;

/// The routes that need no token.
pub fn ops_routes(worker: Worker) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(worker)
}

async fn readyz(State(worker): State<Worker>) -> impl IntoResponse {
    let rabbitmq = worker.consumer_connected();
    let redis = matches!(
        tokio::time::timeout(Duration::from_secs(1), worker.store().ping()).await,
        Ok(Ok(()))
    );
    let status = if rabbitmq && redis {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(json!({"ready": rabbitmq && redis, "rabbitmq": rabbitmq, "redis": redis})),
    )
}

async fn metrics(State(worker): State<Worker>) -> impl IntoResponse {
    metrics::gauge!("callhook_requests_in_flight").set(worker.dispatcher().in_flight() as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::telemetry::prometheus().render(),
    )
}

/// Serves `router` on `listener` until `shutdown` fires.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}
