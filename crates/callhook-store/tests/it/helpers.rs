//! Shared test helpers: unique prefixes, sample records, raw Redis access, cleanup.

use std::time::{Duration, Instant};

use callhook_model::{AttemptRecord, Outcome, Trigger};
use callhook_store::{Store, StoreConfig};
use redis::aio::MultiplexedConnection;

pub fn redis_url() -> String {
    std::env::var("CALLHOOK_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A config with a unique prefix, so tests run in parallel and beside other data.
pub fn config() -> StoreConfig {
    StoreConfig {
        prefix: format!("t-{}", ulid::Ulid::generate()),
        ..StoreConfig::with_url(redis_url())
    }
}

pub struct TestStore {
    pub store: Store,
    pub config: StoreConfig,
    pub raw: MultiplexedConnection,
}

impl TestStore {
    pub async fn new() -> Self {
        Self::with(config()).await
    }

    pub async fn with(config: StoreConfig) -> Self {
        let store = Store::connect(config.clone()).await.unwrap();
        let raw = raw(&redis_url()).await;
        Self { store, config, raw }
    }

    pub fn key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.config.prefix)
    }

    pub async fn cmd<T: redis::FromRedisValue>(&mut self, cmd: &mut redis::Cmd) -> T {
        cmd.query_async(&mut self.raw).await.unwrap()
    }

    /// Waits until Redis' clock has passed `stream_id`'s millisecond, so the next
    /// entries get a later one.
    pub async fn wait_past(&mut self, stream_id: &str) {
        let ms: u64 = stream_id.split('-').next().unwrap().parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let (secs, micros): (u64, u64) = self.cmd(&mut redis::cmd("TIME")).await;
            if secs * 1000 + micros / 1000 > ms {
                return;
            }
            assert!(Instant::now() < deadline, "redis clock stuck");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// Deletes every key under the test's prefix, also when the test fails.
impl Drop for TestStore {
    fn drop(&mut self) {
        // Drop cannot await: a blocking connection of its own.
        let Ok(mut conn) = redis::Client::open(redis_url()).and_then(|c| c.get_connection()) else {
            return;
        };
        let pattern = format!("{}:*", self.config.prefix);
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(&pattern)
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(&keys).query(&mut conn);
        }
    }
}

pub async fn raw(url: &str) -> MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

pub fn record(
    job: &str,
    agent: &str,
    integration: &str,
    trigger: Trigger,
    outcome: Outcome,
) -> AttemptRecord {
    AttemptRecord {
        attempt_id: ulid::Ulid::generate().to_string(),
        job_id: job.into(),
        agent_id: agent.into(),
        call_log_id: "call-1".into(),
        integration_id: integration.into(),
        integration_name: format!("{integration} name"),
        trigger,
        attempt: 1,
        outcome,
        request: None,
        response: None,
        error: None,
        started_at: "2026-12-03T09:00:00.123Z".into(),
        duration_ms: 12,
        worker_id: "w-test".into(),
    }
}
