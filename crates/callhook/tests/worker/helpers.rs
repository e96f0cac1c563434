//! `spawn_app()`: a unique prefix `t<ulid>` for every queue, exchange and Redis key of
//! one test, an HTTP receiver on 127.0.0.1:0, a publisher and an inspection
//! connection; jobs; reading the attempt streams; waiting with deadlines; cleanup.
//! Workers are in `workers.rs`, the broker's side of things in `broker.rs`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::AtomicUsize;
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use callhook::config::Config;
use callhook_consumer::lapin::{
    Channel, Connection, ConnectionProperties,
    options::{ConfirmSelectOptions, QueueBindOptions, QueueDeclareOptions},
    types::FieldTable,
};
use callhook_consumer::{Publisher, Topology};
use callhook_model::Secret;
use redis::aio::MultiplexedConnection;
use redis::streams::StreamRangeReply;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub use crate::broker::{DeadLetter, Held, ResultMessage, connection_pids, rabbitmqctl};
use crate::receiver::Receiver;
pub use crate::workers::http_get;

/// How long any awaited condition may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(20);

pub fn amqp_url() -> String {
    std::env::var("CALLHOOK_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

pub fn redis_url() -> String {
    std::env::var("CALLHOOK_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
        // The process-wide recorder, so /metrics shows what in-process workers count.
        callhook::telemetry::prometheus();
    });
}

/// Polls `f` every 20 ms until it answers `Some`; fails the test after [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_within(what, DEADLINE, f).await
}

/// [`eventually`] with a deadline of its own.
pub async fn eventually_within<T, F, Fut>(what: &str, within: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// --- Jobs ----------------------------------------------------------------------

/// A job body like the contract's, with the given integrations.
pub fn job_body(job_id: &str, agent_id: &str, integrations: Vec<Value>) -> Value {
    json!({
        "job_id": job_id,
        "agent_id": agent_id,
        "post_call_analysis_enabled": true,
        "call_info": {
            "call_log_id": format!("call-{job_id}"),
            "phone_number": "+919876543210",
            "agent_name": "Renewals agent",
            "call_status": "picked",
            "call_type": "outbound"
        },
        "call_summary": "The customer confirmed the appointment for 12 June at 10:00.",
        "data_capture": {"customer_name": "John Doe", "appointment_confirmed": true},
        "structured_output": {"intent": "appointment_confirmation",
                              "appointment": {"date": "2026-06-12", "time": "10:00"}},
        "call_trigger_data": {"phone_number": "+919876543210", "person_name": "John Doe",
                              "crm_id": "lead_42", "meta": {"campaign_id": "june-renewals"}},
        "integrations": integrations
    })
}

/// The smallest integration: POST, auto body.
pub fn integration(id: &str, url: &str) -> Value {
    json!({"id": id, "url": url})
}

pub struct TestJob {
    pub id: String,
    pub body: Value,
}

impl TestJob {
    pub fn bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.body).unwrap()
    }
}

// --- Reading results -----------------------------------------------------------

/// One entry of an attempt stream.
#[derive(Debug, Clone)]
pub struct StreamEntry {
    pub fields: HashMap<String, String>,
    pub record: Value,
}

impl StreamEntry {
    pub fn field(&self, name: &str) -> &str {
        self.fields
            .get(name)
            .unwrap_or_else(|| panic!("stream field {name}"))
    }
}

// --- The app -------------------------------------------------------------------

/// One test's world: names, a receiver, a publisher and an inspection connection.
pub struct TestApp {
    pub prefix: String,
    pub agent_id: String,
    /// What workers are built from (each gets its own `worker_id`).
    pub config: Config,
    pub topology: Topology,
    pub publisher: Publisher,
    pub receiver: Receiver,
    pub(crate) conn: Connection,
    pub(crate) channel: Channel,
    pub(crate) confirm: Channel,
    pub(crate) results_queue: String,
    pub(crate) results: Mutex<Vec<ResultMessage>>,
    pub(crate) dead: Mutex<Vec<DeadLetter>>,
    pub(crate) tokens: Mutex<Vec<CancellationToken>>,
    pub(crate) workers: AtomicUsize,
    pub(crate) worker_ids: Mutex<Vec<String>>,
    cleaned: bool,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    init();
    let prefix = format!("t{}", ulid::Ulid::generate());
    let mut config = Config {
        amqp_url: Secret::new(amqp_url()),
        redis_url: Secret::new(redis_url()),
        prefix: prefix.clone(),
        allowed_targets: vec!["127.0.0.0/8".parse().unwrap()],
        timeout_secs: 5.0,
        connect_timeout_secs: 2.0,
        shutdown_grace_secs: 5.0,
        prefetch: 8,
        worker_id: Some(format!("{prefix}-w0")),
        ..Config::default()
    };
    tweak(&mut config);

    let topology = callhook::worker::topology(&config);
    let amqp = callhook_consumer::AmqpConfig {
        connection_name: format!("{prefix}-test"),
        ..callhook::worker::amqp_config(&config)
    };
    // Connecting declares the topology.
    let publisher = Publisher::connect(amqp, topology.clone()).await.unwrap();
    let conn = Connection::connect(
        config.amqp_url.expose(),
        ConnectionProperties::default().with_connection_name(format!("{prefix}-inspect").into()),
    )
    .await
    .unwrap();
    let channel = conn.create_channel().await.unwrap();
    let confirm = conn.create_channel().await.unwrap();
    confirm
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    // Every record published to the results exchange, whatever its key.
    let results = channel
        .queue_declare(
            format!("{prefix}.test-results").as_str().into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    channel
        .queue_bind(
            results.name().clone(),
            topology.results_exchange.as_str().into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    TestApp {
        agent_id: format!("agent_{prefix}"),
        results_queue: results.name().to_string(),
        prefix,
        config,
        topology,
        publisher,
        receiver: Receiver::start().await,
        conn,
        channel,
        confirm,
        results: Mutex::default(),
        dead: Mutex::default(),
        tokens: Mutex::default(),
        workers: AtomicUsize::new(0),
        worker_ids: Mutex::default(),
        cleaned: false,
    }
}

impl TestApp {
    // --- jobs ---

    /// A new job of this app's agent, with a unique id.
    pub fn job(&self, integrations: Vec<Value>) -> TestJob {
        let id = ulid::Ulid::generate().to_string();
        TestJob {
            body: job_body(&id, &self.agent_id, integrations),
            id,
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.receiver.url(path)
    }

    /// Publishes a job the way the pipeline does (`Publisher::publish_job`).
    pub async fn publish(&self, job: &TestJob) {
        self.publisher
            .publish_job(&job.bytes(), &job.id, "job")
            .await
            .unwrap();
    }

    // --- Redis ---

    pub fn attempts_key(&self) -> String {
        format!("{}:attempts", self.prefix)
    }

    pub fn agent_attempts_key(&self) -> String {
        format!("{}:attempts:{{{}}}", self.prefix, self.agent_id)
    }

    pub fn job_key(&self, job_id: &str) -> String {
        format!("{}:job:{{{job_id}}}", self.prefix)
    }

    async fn redis(&self) -> redis::RedisResult<MultiplexedConnection> {
        redis::Client::open(self.config.redis_url.expose().as_str())?
            .get_multiplexed_async_connection()
            .await
    }

    pub async fn try_stream(&self, key: &str) -> redis::RedisResult<Vec<StreamEntry>> {
        let mut conn = self.redis().await?;
        let reply: StreamRangeReply = redis::cmd("XRANGE")
            .arg(key)
            .arg("-")
            .arg("+")
            .query_async(&mut conn)
            .await?;
        Ok(reply
            .ids
            .into_iter()
            .map(|entry| {
                let fields: HashMap<String, String> = entry
                    .map
                    .keys()
                    .map(|k| (k.clone(), entry.get::<String>(k).unwrap()))
                    .collect();
                let record = serde_json::from_str(&fields["record"]).unwrap();
                StreamEntry { fields, record }
            })
            .collect())
    }

    /// Every entry of a stream, oldest first.
    pub async fn stream(&self, key: &str) -> Vec<StreamEntry> {
        self.try_stream(key).await.unwrap()
    }

    /// The entries of the global attempt stream of one job.
    pub async fn records_of(&self, job_id: &str) -> Vec<StreamEntry> {
        self.stream(&self.attempts_key())
            .await
            .into_iter()
            .filter(|e| e.field("job_id") == job_id)
            .collect()
    }

    /// Waits until the global stream holds at least `n` entries of the job.
    pub async fn wait_records(&self, job_id: &str, n: usize) -> Vec<StreamEntry> {
        eventually(&format!("{n} records of job {job_id}"), || async {
            let got = self.records_of(job_id).await;
            (got.len() >= n).then_some(got)
        })
        .await
    }

    pub async fn key_exists(&self, key: &str) -> bool {
        let mut conn = self.redis().await.unwrap();
        redis::cmd("EXISTS")
            .arg(key)
            .query_async::<u32>(&mut conn)
            .await
            .unwrap()
            == 1
    }

    // --- cleanup ---

    /// Deletes the topology and the Redis keys (Drop does the same if a test fails).
    pub async fn cleanup(mut self) {
        self.cancel_workers();
        self.topology.delete(&self.channel).await.unwrap();
        let _ = self.conn.close(200, "done".into()).await;
        self.publisher.close().await;
        delete_keys(self.config.redis_url.expose(), &self.prefix);
        self.cleaned = true;
    }

    fn cancel_workers(&self) {
        for token in self.tokens.lock().unwrap().iter() {
            token.cancel();
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if self.cleaned {
            return;
        }
        self.cancel_workers();
        // Drop cannot await: clean up on a fresh connection from a thread of its own.
        let topology = self.topology.clone();
        let url = self.config.amqp_url.expose().clone();
        let redis = self.config.redis_url.expose().clone();
        let prefix = self.prefix.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let _ = rt.block_on(async {
                let conn = Connection::connect(&url, ConnectionProperties::default()).await?;
                let channel = conn.create_channel().await?;
                let _ = topology.delete(&channel).await;
                conn.close(200, "cleanup".into()).await
            });
            delete_keys(&redis, &prefix);
        })
        .join();
    }
}

/// Deletes every key under `<prefix>:` (best effort: a private Redis may be gone).
fn delete_keys(url: &str, prefix: &str) {
    let Ok(client) = redis::Client::open(url) else {
        return;
    };
    let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_secs(1)) else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query(&mut conn)
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: redis::RedisResult<()> = redis::cmd("DEL").arg(&keys).query(&mut conn);
    }
}
