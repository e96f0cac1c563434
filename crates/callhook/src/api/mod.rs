//! The admin HTTP API (CONTRACT §4), served beside `/healthz`, `/readyz` and
//! `/metrics` by `callhook worker`, or alone by `callhook api`.
//!
//! The parts, by role:
//! - [`auth`]: the `API-Token` check every `/v1` route sits behind.
//! - [`error`]: JSON error answers and the JSON body extractor.
//! - [`test_route`]: `POST /v1/integrations/test`, the Test button.
//! - [`logs`]: `GET /v1/agents/{agent_id}/logs`, an agent's attempts newest first.
//! - [`retries`]: `POST /v1/retries`, manual retries queued for the workers.
//! - [`openapi`]: the OpenAPI document, `GET /v1/openapi.json`.
//!
//! Request bodies over [`MAX_BODY_BYTES`] are refused with 413; unknown paths answer
//! a JSON 404 and wrong methods a JSON 405.

pub mod auth;
pub mod error;
pub mod logs;
pub mod openapi;
pub mod retries;
pub mod test_route;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use callhook_consumer::{Publisher, Topology};
use callhook_dispatch::Dispatcher;
use callhook_store::Store;

use crate::config::Config;
use crate::worker::Worker;

pub use error::{ApiError, FieldError};

/// The largest request body accepted (256 KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Every route of the API as `(method, path)`, in axum's path syntax. The router is
/// built from the same constants and a test holds the OpenAPI document to this list.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", TEST_PATH),
    ("GET", LOGS_PATH),
    ("POST", RETRIES_PATH),
    ("GET", OPENAPI_PATH),
];

/// `POST`: the Test button.
pub const TEST_PATH: &str = "/v1/integrations/test";
/// `GET`: an agent's attempt log.
pub const LOGS_PATH: &str = "/v1/agents/{agent_id}/logs";
/// `POST`: queue retries.
pub const RETRIES_PATH: &str = "/v1/retries";
/// `GET`: the OpenAPI document.
pub const OPENAPI_PATH: &str = "/v1/openapi.json";

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    /// Attempt logs, job snapshots and records.
    pub store: Store,
    /// Retry commands and test results go out through it.
    pub publisher: Publisher,
    /// Test sends go out through it.
    pub dispatcher: Dispatcher,
    /// Queue names (the retry routing key).
    pub topology: Topology,
    /// Written in test records.
    pub worker_id: String,
    /// The accepted `API-Token`s.
    pub tokens: auth::Tokens,
}

impl ApiState {
    /// The state of a worker's API: its store, publisher and dispatcher.
    pub fn from_worker(worker: &Worker, config: &Config) -> Self {
        Self {
            store: worker.store().clone(),
            publisher: worker.publisher().clone(),
            dispatcher: worker.dispatcher().clone(),
            topology: worker.topology().clone(),
            worker_id: worker.worker_id().into(),
            tokens: auth::Tokens::new(config.api_tokens.clone()),
        }
    }

    /// The state of an API that runs alone (`callhook api`): connects lazily, so it
    /// starts while Redis or RabbitMQ is down.
    pub fn standalone(config: &Config) -> anyhow::Result<Self> {
        let topology = crate::worker::topology(config);
        let mut amqp = crate::worker::amqp_config(config);
        amqp.connection_name = format!("callhook-api-{}", config.worker_id());
        Ok(Self {
            store: Store::connect_lazy(crate::worker::store_config(config))?,
            publisher: Publisher::lazy(amqp, topology.clone())?,
            dispatcher: Dispatcher::new(crate::worker::dispatch_config(config))?,
            topology,
            worker_id: config.worker_id(),
            tokens: auth::Tokens::new(config.api_tokens.clone()),
        })
    }
}

/// The `/v1` routes behind the token check, with the body limit and JSON 404/405.
pub fn router(state: ApiState) -> Router {
    let tokens = state.tokens.clone();
    Router::new()
        .route(TEST_PATH, post(test_route::test_integration))
        .route(LOGS_PATH, get(logs::agent_logs))
        .route(RETRIES_PATH, post(retries::queue_retries))
        .route(OPENAPI_PATH, get(openapi::serve))
        // `route_layer`: unknown paths answer 404 before any token check.
        .route_layer(axum::middleware::from_fn_with_state(
            tokens,
            auth::require_token,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed on this path",
            )
        })
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route") })
        .with_state(state)
}

/// What `callhook api` serves besides the `/v1` routes: `/healthz` (200 while
/// serving) and `/readyz` (200 while Redis answers a PING within a second).
pub fn standalone_ops(state: ApiState) -> Router {
    use axum::extract::State;
    use std::time::Duration;
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(|State(state): State<ApiState>| async move {
                let redis = matches!(
                    tokio::time::timeout(Duration::from_secs(1), state.store.ping()).await,
                    Ok(Ok(()))
                );
                let status = if redis {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                (
                    status,
                    axum::Json(serde_json::json!({"ready": redis, "redis": redis})),
                )
            }),
        )
        .with_state(state)
}
