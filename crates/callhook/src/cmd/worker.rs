//! `callhook worker`: consume, deliver, record, until SIGTERM or SIGINT.

use std::process::ExitCode;

use anyhow::Context as _;
use callhook::config::Config;
use callhook::worker::Worker;
use tokio_util::sync::CancellationToken;

/// Runs a worker with the configuration from the environment.
pub async fn run() -> anyhow::Result<ExitCode> {
    let config = Config::load()?;
    let _telemetry = callhook::telemetry::init(&config)?;
    callhook::telemetry::prometheus();
    if config.api_tokens.is_empty() {
        tracing::warn!("CALLHOOK_API_TOKENS is empty: the /v1 admin routes stay closed");
    }
    let worker = Worker::new(&config)?;
    let shutdown = CancellationToken::new();
    tokio::spawn(signals(shutdown.clone()));

    let listener = tokio::net::TcpListener::bind(config.http_addr)
        .await
        .with_context(|| format!("binding CALLHOOK_HTTP_ADDR {}", config.http_addr))?;
    tracing::info!(addr = %config.http_addr, "serving /healthz, /readyz, /metrics and the admin API (/v1)");
    let http_shutdown = CancellationToken::new();
    let http = tokio::spawn(callhook::server::serve(
        listener,
        callhook::server::ops_routes(worker.clone()).merge(callhook::api::router(
            callhook::api::ApiState::from_worker(&worker, &config),
        )),
        http_shutdown.clone(),
    ));

    worker.run(shutdown).await?;
    http_shutdown.cancel();
    let _ = http.await;
    Ok(ExitCode::SUCCESS)
}

/// Fires `shutdown` on SIGTERM or SIGINT.
pub(crate) async fn signals(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received"),
                    _ = ctrl_c => tracing::info!("SIGINT received"),
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    shutdown.cancel();
}
