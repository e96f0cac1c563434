//! /healthz, /readyz and /metrics, served in process by `server::ops_routes`.

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::helpers::{eventually, http_get, integration, spawn_app_with};
use crate::redis_server::RedisServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics_follow_the_worker() {
    let mut redis = RedisServer::start().await;
    let url = redis.url();
    let app = spawn_app_with(|c| c.redis_url = url.into()).await;
    let worker = app.spawn_worker();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let http_stop = CancellationToken::new();
    let http = tokio::spawn(callhook::server::serve(
        listener,
        callhook::server::ops_routes(worker.worker.clone()),
        http_stop.clone(),
    ));

    let (status, body) = http_get(addr, "/healthz").await.unwrap();
    assert_eq!((status, body.as_str()), (200, "ok\n"));

    let ready = eventually("/readyz to answer 200", || async {
        let (status, body) = http_get(addr, "/readyz").await.ok()?;
        (status == 200).then_some(body)
    })
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&ready).unwrap(),
        json!({"ready": true, "rabbitmq": true, "redis": true})
    );

    let job = app.job(vec![integration("i", &app.url("/m"))]);
    app.publish(&job).await;
    app.wait_records(&job.id, 1).await;
    app.wait_jobs_acked().await;
    let (status, metrics) = http_get(addr, "/metrics").await.unwrap();
    assert_eq!(status, 200);
    for name in ["callhook_jobs_total", "callhook_attempts_total"] {
        assert!(
            metrics.lines().any(|l| l.starts_with(name)),
            "{name} missing from:\n{metrics}"
        );
    }
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("callhook_jobs_total{") && l.contains("outcome=\"processed\"")),
        "{metrics}"
    );

    // Redis down: not ready, and the answer says why.
    redis.kill();
    let (status, body) = http_get(addr, "/readyz").await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"ready": false, "rabbitmq": true, "redis": false})
    );
    let (status, _) = http_get(addr, "/healthz").await.unwrap();
    assert_eq!(status, 200, "alive all the same");

    // Back again: ready again.
    redis.restart().await;
    eventually("/readyz to answer 200 again", || async {
        let (status, _) = http_get(addr, "/readyz").await.ok()?;
        (status == 200).then_some(())
    })
    .await;

    let (_, result) = worker.stop().await;
    result.unwrap();
    // The consumer is gone: not ready.
    let (status, body) = http_get(addr, "/readyz").await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["rabbitmq"],
        false
    );
    http_stop.cancel();
    http.await.unwrap().unwrap();
    app.cleanup().await;
}
