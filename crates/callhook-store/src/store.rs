//! [`Store`]: jobs, per-job state, the attempt index and atomic attempt records.
//!
//! Every command runs on one multiplexed `ConnectionManager` (clone-able; concurrent
//! calls pipeline by themselves). The manager reconnects in the background but never
//! repeats a failed command: a failure is returned as a retryable [`Error`] and the
//! caller decides. That is safe for [`Store::record`] because it is idempotent per
//! `attempt_id`.

use std::{collections::HashMap, future::Future, sync::LazyLock, time::Duration};

use callhook_model::{AttemptRecord, Trigger};
use redis::{
    Client, RedisResult, Script,
    aio::{ConnectionManager, ConnectionManagerConfig},
};
use serde::{Deserialize, Serialize};

use crate::{Error, Keys, Result, StoreConfig};

/// The bound on one call: a response timeout plus a reconnect in progress.
fn op_timeout(config: &StoreConfig) -> Duration {
    config.response_timeout + config.connection_timeout
}

fn client_and_config(config: &StoreConfig) -> Result<(Client, ConnectionManagerConfig)> {
    config.validate()?;
    let client = Client::open(config.url.expose().as_str()).map_err(|source| Error::Redis {
        op: "connect",
        source,
    })?;
    // A short reconnect schedule: callers get a retryable error quickly and retry
    // themselves, instead of piling up behind a long backoff.
    let manager_config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(config.response_timeout))
        .set_connection_timeout(Some(config.connection_timeout))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(500));
    Ok((client, manager_config))
}

static RECORD_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("record.lua")));

/// A handle on the store; cheap to clone, share it between tasks.
#[derive(Clone)]
pub struct Store {
    pub(crate) conn: ConnectionManager,
    pub(crate) keys: Keys,
    retention_secs: u64,
    global_maxlen: u64,
    agent_maxlen: u64,
    /// The bound on one call: a response timeout plus a reconnect in progress.
    op_timeout: Duration,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// What [`Store::record`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordOutcome {
    /// The record is stored (now, or by an earlier call with the same `attempt_id`).
    Stored {
        /// Its entry id in the agent's stream (the id log cursors are made of).
        stream_id: String,
        /// True when an earlier call had stored it and this one appended nothing.
        duplicate: bool,
    },
    /// A delivery whose integration already has a recorded attempt for this job (a
    /// redelivered job, or two workers racing on one): nothing was appended. Holds the
    /// record already there.
    AlreadyRecorded(Box<AttemptRecord>),
}

/// Where an attempt lives: the value of `callhook:attempt:{<attempt_id>}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRef {
    /// The job it belongs to.
    pub job_id: String,
    /// The integration it was sent to.
    pub integration_id: String,
    /// The job's agent.
    pub agent_id: String,
    /// Its entry id in the agent's stream.
    pub stream_id: String,
}

impl Store {
    /// Connects now; fails if Redis cannot be reached within the connection timeout.
    pub async fn connect(config: StoreConfig) -> Result<Store> {
        let (client, manager_config) = client_and_config(&config)?;
        let op_timeout = op_timeout(&config);
        let conn = tokio::time::timeout(
            op_timeout,
            ConnectionManager::new_with_config(client, manager_config),
        )
        .await
        .map_err(|_| Error::Timeout {
            op: "connect",
            after: op_timeout,
        })?
        .map_err(|source| Error::Redis {
            op: "connect",
            source,
        })?;
        Ok(Self::from_parts(&config, conn))
    }

    /// Returns at once and connects on first use, so a worker can start (and report
    /// not ready) while Redis is down.
    pub fn connect_lazy(config: StoreConfig) -> Result<Store> {
        let (client, manager_config) = client_and_config(&config)?;
        let conn =
            ConnectionManager::new_lazy_with_config(client, manager_config).map_err(|source| {
                Error::Redis {
                    op: "connect",
                    source,
                }
            })?;
        Ok(Self::from_parts(&config, conn))
    }

    fn from_parts(config: &StoreConfig, conn: ConnectionManager) -> Store {
        Store {
            conn,
            keys: Keys::new(config.prefix.clone()),
            retention_secs: config.retention_secs(),
            global_maxlen: config.global_maxlen,
            agent_maxlen: config.agent_maxlen,
            op_timeout: op_timeout(config),
        }
    }

    /// The key names this store uses.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Runs one Redis call with the overall time bound.
    pub(crate) async fn run<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = RedisResult<T>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.op_timeout, call).await {
            Ok(r) => r.map_err(|source| Error::Redis { op, source }),
            Err(_) => Err(Error::Timeout {
                op,
                after: self.op_timeout,
            }),
        }
    }

    /// `PING`, for readiness checks.
    pub async fn ping(&self) -> Result<()> {
        let mut conn = self.conn.clone();
        let pong: String = self
            .run("ping", redis::cmd("PING").query_async(&mut conn))
            .await?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(Error::Script(format!("PING answered {pong:?}")))
        }
    }

    /// Keeps the raw job for the retention period (`SET … EX`), so it can be retried.
    pub async fn put_job(&self, job_id: &str, raw: &[u8]) -> Result<()> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("SET")
            .arg(self.keys.job(job_id))
            .arg(raw)
            .arg("EX")
            .arg(self.retention_secs)
            .to_owned();
        self.run("put_job", cmd.query_async::<()>(&mut conn)).await
    }

    /// The raw job, if it is still kept.
    pub async fn get_job(&self, job_id: &str) -> Result<Option<Vec<u8>>> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("GET").arg(self.keys.job(job_id)).to_owned();
        self.run("get_job", cmd.query_async(&mut conn)).await
    }

    /// [`Store::put_job`] and [`Store::job_state`] in one round trip: what a worker
    /// does first with every job it takes.
    pub async fn put_job_and_state(
        &self,
        job_id: &str,
        raw: &[u8],
    ) -> Result<HashMap<String, AttemptRecord>> {
        let mut conn = self.conn.clone();
        let key = self.keys.state(job_id);
        let pipe = redis::pipe()
            .cmd("SET")
            .arg(self.keys.job(job_id))
            .arg(raw)
            .arg("EX")
            .arg(self.retention_secs)
            .ignore()
            .cmd("HGETALL")
            .arg(&key)
            .to_owned();
        let (state,): (HashMap<String, Vec<u8>>,) = self
            .run("put_job_and_state", pipe.query_async(&mut conn))
            .await?;
        decode_state(&key, state)
    }

    /// integration_id → the latest attempt record of that integration for this job.
    pub async fn job_state(&self, job_id: &str) -> Result<HashMap<String, AttemptRecord>> {
        let mut conn = self.conn.clone();
        let key = self.keys.state(job_id);
        let cmd = redis::cmd("HGETALL").arg(&key).to_owned();
        let raw: HashMap<String, Vec<u8>> =
            self.run("job_state", cmd.query_async(&mut conn)).await?;
        decode_state(&key, raw)
    }

    /// The latest attempt record of one integration of a job.
    pub async fn latest_attempt(
        &self,
        job_id: &str,
        integration_id: &str,
    ) -> Result<Option<AttemptRecord>> {
        let mut conn = self.conn.clone();
        let key = self.keys.state(job_id);
        let cmd = redis::cmd("HGET").arg(&key).arg(integration_id).to_owned();
        let raw: Option<Vec<u8>> = self
            .run("latest_attempt", cmd.query_async(&mut conn))
            .await?;
        raw.map(|json| {
            serde_json::from_slice(&json).map_err(|source| Error::Decode {
                key: format!("{key} {integration_id}"),
                source,
            })
        })
        .transpose()
    }

    /// Where an attempt lives, for a retry by attempt id.
    pub async fn attempt_ref(&self, attempt_id: &str) -> Result<Option<AttemptRef>> {
        let mut conn = self.conn.clone();
        let key = self.keys.attempt(attempt_id);
        let cmd = redis::cmd("GET").arg(&key).to_owned();
        let raw: Option<Vec<u8>> = self.run("attempt_ref", cmd.query_async(&mut conn)).await?;
        raw.map(|json| {
            serde_json::from_slice(&json).map_err(|source| Error::Decode { key, source })
        })
        .transpose()
    }

    /// Stores one attempt record atomically with one Lua script: appends it to the
    /// global and the agent's stream (`MAXLEN ~`), sets it as the latest state of its
    /// job's integration, writes the attempt index, and refreshes the TTLs of the state,
    /// the index and the job.
    ///
    /// Idempotent per `attempt_id`: a second call (say, after a timeout left the first
    /// one's outcome unknown) appends nothing and answers `Stored { duplicate: true }`.
    /// A `delivery` whose integration already holds a delivery or retry record for the
    /// job appends nothing and answers [`RecordOutcome::AlreadyRecorded`].
    pub async fn record(&self, record: &AttemptRecord) -> Result<RecordOutcome> {
        let json = serde_json::to_string(record).map_err(Error::Encode)?;
        let trigger = match record.trigger {
            Trigger::Delivery => "delivery",
            Trigger::Retry => "retry",
            Trigger::Test => "test",
        };
        let mut invocation = RECORD_SCRIPT.prepare_invoke();
        invocation
            .key(self.keys.state(&record.job_id))
            .key(self.keys.attempt(&record.attempt_id))
            .key(self.keys.attempts())
            .key(self.keys.agent_attempts(&record.agent_id))
            .key(self.keys.job(&record.job_id))
            .arg(&record.integration_id)
            .arg(&json)
            .arg(record.outcome.as_str())
            .arg(&record.agent_id)
            .arg(&record.job_id)
            .arg(trigger)
            .arg(self.retention_secs)
            .arg(self.global_maxlen)
            .arg(self.agent_maxlen);
        let mut conn = self.conn.clone();
        let reply: Vec<String> = self
            .run("record", invocation.invoke_async(&mut conn))
            .await?;
        match reply.as_slice() {
            [tag, agent_sid, _global] if tag == "stored" => Ok(RecordOutcome::Stored {
                stream_id: agent_sid.clone(),
                duplicate: false,
            }),
            [tag, stream_id] if tag == "duplicate" => Ok(RecordOutcome::Stored {
                stream_id: stream_id.clone(),
                duplicate: true,
            }),
            [tag, existing] if tag == "exists" => {
                let rec = serde_json::from_str(existing).map_err(|source| Error::Decode {
                    key: format!(
                        "{} {}",
                        self.keys.state(&record.job_id),
                        record.integration_id
                    ),
                    source,
                })?;
                Ok(RecordOutcome::AlreadyRecorded(Box::new(rec)))
            }
            other => Err(Error::Script(format!("{other:?}"))),
        }
    }
}

/// Parses a state hash: integration_id → record JSON.
fn decode_state(
    key: &str,
    raw: HashMap<String, Vec<u8>>,
) -> Result<HashMap<String, AttemptRecord>> {
    raw.into_iter()
        .map(|(field, json)| {
            let rec = serde_json::from_slice(&json).map_err(|source| Error::Decode {
                key: format!("{key} {field}"),
                source,
            })?;
            Ok((field, rec))
        })
        .collect()
}
