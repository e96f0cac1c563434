//! `callhook demo`: the whole path on this machine, in one command.
//!
//! Starts a local receiver and a worker (queues, exchanges and keys under the
//! `callhook-demo` prefix, so a real deployment's data is untouched), enqueues
//! CONTRACT §1's example job with its URLs pointed at the receiver, waits for both
//! attempt records, and prints what the receiver got, the Standard Webhooks
//! signature check, the stored records and where to find them. Exits 0 when both
//! deliveries succeeded and the signature verified.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use callhook::config::Config;
use callhook::sink::Sink;
use callhook::worker::Worker;
use callhook_model::{AttemptRecord, Outcome};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const CONTRACT_JOB: &str = include_str!("../../../../tests/fixtures/contract-job.json");

/// Runs the demo against the configured RabbitMQ and Redis.
pub async fn run() -> anyhow::Result<ExitCode> {
    let mut figment = Config::figment();
    if std::env::var_os("CALLHOOK_PREFIX").is_none() {
        figment = figment.merge(("prefix", "callhook-demo"));
    }
    let mut config = Config::from_figment(figment)?;
    let loopback: ipnet::IpNet = "127.0.0.0/8".parse()?;
    if !config.allowed_targets.contains(&loopback) {
        config.allowed_targets.push(loopback);
    }
    config
        .worker_id
        .get_or_insert_with(|| "callhook-demo".into());
    callhook::telemetry::init_logging(config.log_format);

    let stop = CancellationToken::new();
    let sink = Sink::start(true, stop.clone()).await?;
    println!("receiver listening on {}", sink.base_url());

    let worker = Worker::new(&config)?;
    let running = {
        let worker = worker.clone();
        let stop = stop.clone();
        tokio::spawn(async move { worker.run(stop).await })
    };

    let mut job: Value = serde_json::from_str(CONTRACT_JOB)?;
    let job_id = ulid::Ulid::generate().to_string();
    job["job_id"] = json!(job_id);
    job["integrations"][0]["url"] =
        json!(format!("{}/leads/{{{{crm_id}}}}/calls", sink.base_url()));
    job["integrations"][1]["url"] = json!(format!("{}/rows", sink.base_url()));
    let secret = job["integrations"][0]["signing_secret"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let body = serde_json::to_vec(&job)?;
    worker
        .publisher()
        .publish_job(&body, &job_id, &worker.topology().job_routing_key)
        .await
        .context("publishing the demo job (is RabbitMQ running on CALLHOOK_AMQP_URL?)")?;
    println!(
        "enqueued job {job_id} on exchange {}",
        worker.topology().jobs_exchange
    );

    let deadline = Instant::now() + Duration::from_secs(30);
    let records: Vec<AttemptRecord> = loop {
        let state = worker.store().job_state(&job_id).await.unwrap_or_default();
        if state.len() == 2 {
            let mut records: Vec<AttemptRecord> = state.into_values().collect();
            records.sort_by(|a, b| a.integration_id.cmp(&b.integration_id));
            break records;
        }
        if Instant::now() > deadline {
            stop.cancel();
            bail!(
                "the demo job was not delivered within 30 s (is the worker able to reach RabbitMQ and Redis?)"
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    println!("\n== what the receiver got ==");
    let mut verified = true;
    for request in sink.received().await {
        println!("{} {}", request.method, request.path);
        for (name, value) in &request.headers {
            if name.starts_with("webhook-")
                || name == "authorization"
                || name == "content-type"
                || name == "user-agent"
            {
                println!(
                    "  {name}: {}",
                    callhook_model::redact::header_value(name, value)
                );
            }
        }
        println!("  body: {}", String::from_utf8_lossy(&request.body));
        if request
            .headers
            .iter()
            .any(|(n, _)| n == "webhook-signature")
        {
            let mut headers = http::HeaderMap::new();
            for (name, value) in &request.headers {
                if let (Ok(n), Ok(v)) = (
                    http::HeaderName::from_bytes(name.as_bytes()),
                    http::HeaderValue::from_str(value),
                ) {
                    headers.insert(n, v);
                }
            }
            let check = standardwebhooks::Webhook::new(&secret)
                .map_err(|e| anyhow::anyhow!("{e:?}"))
                .and_then(|wh| {
                    wh.verify(&request.body, &headers)
                        .map_err(|e| anyhow::anyhow!("{e:?}"))
                });
            match check {
                Ok(()) => println!("  signature: verified by the standardwebhooks crate"),
                Err(e) => {
                    verified = false;
                    println!("  signature: INVALID ({e})");
                }
            }
        }
    }

    println!(
        "\n== attempt records (Redis stream {}) ==",
        worker.store().keys().agent_attempts("agent_IsZ3Q6Sf")
    );
    for record in &records {
        println!("{}", serde_json::to_string_pretty(record)?);
    }
    let delivered = records.iter().all(|r| r.outcome == Outcome::Succeeded);
    println!(
        "\n{} of 2 integrations delivered; records are also on exchange {} (queue {}).",
        records
            .iter()
            .filter(|r| r.outcome == Outcome::Succeeded)
            .count(),
        worker.topology().results_exchange,
        worker.topology().delivery_log_queue,
    );
    println!(
        "read them again with: redis-cli XREVRANGE '{}' + - COUNT 2",
        worker.store().keys().agent_attempts("agent_IsZ3Q6Sf")
    );

    stop.cancel();
    running.await??;
    Ok(if delivered && verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
