//! `spawn_app()`: a unique prefix, a receiver, a running worker and the API (merged
//! with the ops routes, as `callhook worker` serves them) on 127.0.0.1:0; requests
//! with or without the token; waiting with deadlines; the log buffer and the span
//! exporter of the global subscriber; cleanup.

use std::future::Future;
use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use callhook::config::Config;
use callhook::worker::Worker;
use callhook_consumer::lapin::{Connection, ConnectionProperties};
use callhook_consumer::{Publisher, Topology};
use callhook_model::{AttemptRecord, Secret};
use callhook_store::Store;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::receiver::Receiver;

pub const DEADLINE: Duration = Duration::from_secs(20);

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Telemetry {
    provider: SdkTracerProvider,
    exporter: InMemorySpanExporter,
}

fn telemetry() -> &'static Telemetry {
    static T: OnceLock<Telemetry> = OnceLock::new();
    T.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let filter = tracing_subscriber::EnvFilter::new(
            "warn,callhook=debug,callhook_dispatch=debug,callhook_store=debug,callhook_consumer=debug,callhook_render=debug",
        );
        tracing_subscriber::registry()
            .with(filter)
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(|| LogWriter)
                    .with_ansi(false),
            )
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("callhook-test")))
            .try_init()
            .unwrap();
        callhook::telemetry::prometheus();
        Telemetry { provider, exporter }
    })
}

/// Everything logged so far by the whole test binary.
pub fn logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

/// Every span finished so far.
pub fn spans() -> Vec<opentelemetry_sdk::trace::SpanData> {
    let t = telemetry();
    let _ = t.provider.force_flush();
    t.exporter.get_finished_spans().unwrap()
}

pub fn amqp_url() -> String {
    std::env::var("CALLHOOK_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

pub fn redis_url() -> String {
    std::env::var("CALLHOOK_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub struct TestApp {
    pub prefix: String,
    pub agent_id: String,
    pub token: String,
    pub topology: Topology,
    pub store: Store,
    pub publisher: Publisher,
    pub receiver: Receiver,
    /// `http://127.0.0.1:<port>` of the worker's HTTP side.
    pub api: String,
    pub client: reqwest::Client,
    stop: CancellationToken,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    telemetry();
    let prefix = format!("a{}", ulid::Ulid::generate());
    let token = format!("tok_{}", ulid::Ulid::generate());
    let mut config = Config {
        amqp_url: Secret::new(amqp_url()),
        redis_url: Secret::new(redis_url()),
        prefix: prefix.clone(),
        allowed_targets: vec!["127.0.0.0/8".parse().unwrap()],
        api_tokens: vec![Secret::new(token.clone())],
        timeout_secs: 5.0,
        connect_timeout_secs: 2.0,
        shutdown_grace_secs: 2.0,
        prefetch: 8,
        worker_id: Some(format!("{prefix}-w")),
        ..Config::default()
    };
    tweak(&mut config);
    let worker = Worker::new(&config).unwrap();
    let stop = CancellationToken::new();
    {
        let worker = worker.clone();
        let stop = stop.clone();
        tokio::spawn(async move { worker.run(stop).await });
    }
    let router = callhook::server::ops_routes(worker.clone()).merge(callhook::api::router(
        callhook::api::ApiState::from_worker(&worker, &config),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(callhook::server::serve(listener, router, stop.clone()));
    let topology = callhook::worker::topology(&config);
    let publisher = Publisher::connect(callhook::worker::amqp_config(&config), topology.clone())
        .await
        .unwrap();
    let store = Store::connect(callhook::worker::store_config(&config))
        .await
        .unwrap();
    let app = TestApp {
        agent_id: format!("agent_{prefix}"),
        prefix,
        token,
        topology,
        store,
        publisher,
        receiver: Receiver::start().await,
        api,
        client: reqwest::Client::new(),
        stop,
    };
    eventually("the worker's consumer", || async {
        worker.consumer_connected().then_some(())
    })
    .await;
    app
}

pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub text: String,
}

impl TestApp {
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer { status, body, text }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(
            self.client
                .get(format!("{}{path}", self.api))
                .header("API-Token", &self.token),
        )
        .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(
            self.client
                .post(format!("{}{path}", self.api))
                .header("API-Token", &self.token)
                .header("content-type", "application/json")
                .body(serde_json::to_vec(body).unwrap()),
        )
        .await
    }

    /// A job of this app's agent, with the given integrations.
    pub fn job(&self, integrations: Vec<Value>) -> (String, Value) {
        let id = ulid::Ulid::generate().to_string();
        (id.clone(), job_body(&id, &self.agent_id, integrations))
    }

    pub async fn publish(&self, job: &(String, Value)) {
        self.publisher
            .publish_job(&serde_json::to_vec(&job.1).unwrap(), &job.0, "job")
            .await
            .unwrap();
    }

    /// The job's records from its state: the latest of each integration.
    pub async fn latest(&self, job_id: &str, integration_id: &str) -> Option<AttemptRecord> {
        self.store
            .latest_attempt(job_id, integration_id)
            .await
            .unwrap()
    }

    /// Waits until the job-integration's latest attempt is number `n`.
    pub async fn wait_attempt(&self, job_id: &str, integration_id: &str, n: u32) -> AttemptRecord {
        eventually(
            &format!("attempt {n} of {job_id}/{integration_id}"),
            || async {
                self.latest(job_id, integration_id)
                    .await
                    .filter(|r| r.attempt == n)
            },
        )
        .await
    }

    pub async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(redis_url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    pub async fn cleanup(self) {
        self.stop.cancel();
        self.publisher.close().await;
        if let Ok(conn) = Connection::connect(&amqp_url(), ConnectionProperties::default()).await {
            if let Ok(channel) = conn.create_channel().await {
                let _ = self.topology.delete(&channel).await;
            }
            let _ = conn.close(200, "done".into()).await;
        }
        let mut conn = self.redis().await;
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", self.prefix))
            .query_async(&mut conn)
            .await
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> =
                redis::cmd("DEL").arg(&keys).query_async(&mut conn).await;
        }
    }
}

pub fn job_body(job_id: &str, agent_id: &str, integrations: Vec<Value>) -> Value {
    json!({
        "job_id": job_id,
        "agent_id": agent_id,
        "call_info": {"call_log_id": format!("call-{job_id}"), "call_status": "picked",
                      "phone_number": "+919876543210"},
        "call_summary": "The customer confirmed.",
        "call_trigger_data": {"crm_id": "lead_42"},
        "integrations": integrations
    })
}

/// Now, as milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// An RFC 3339 time from milliseconds.
pub fn rfc3339(ms: i64) -> String {
    callhook_model::record::format_timestamp(
        std::time::UNIX_EPOCH + Duration::from_millis(ms as u64),
    )
}
