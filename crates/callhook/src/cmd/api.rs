//! `callhook api`: the admin API alone on `CALLHOOK_HTTP_ADDR`, without consuming
//! jobs (retries it queues run on the workers).

use std::process::ExitCode;

use anyhow::Context as _;
use callhook::api::ApiState;
use callhook::config::Config;
use tokio_util::sync::CancellationToken;

/// Serves the API until SIGTERM or SIGINT.
pub async fn run() -> anyhow::Result<ExitCode> {
    let config = Config::load()?;
    let _telemetry = callhook::telemetry::init(&config)?;
    if config.api_tokens.is_empty() {
        tracing::warn!("CALLHOOK_API_TOKENS is empty: the /v1 admin routes stay closed");
    }
    let state = ApiState::standalone(&config)?;
    let router = callhook::api::standalone_ops(state.clone()).merge(callhook::api::router(state));
    let listener = tokio::net::TcpListener::bind(config.http_addr)
        .await
        .with_context(|| format!("binding CALLHOOK_HTTP_ADDR {}", config.http_addr))?;
    tracing::info!(addr = %config.http_addr, "serving the admin API (/v1), /healthz and /readyz");
    let shutdown = CancellationToken::new();
    tokio::spawn(super::worker::signals(shutdown.clone()));
    callhook::server::serve(listener, router, shutdown).await?;
    Ok(ExitCode::SUCCESS)
}
