//! Tailing attempt records as they are stored, the way a log consumer would:
//! `XREAD BLOCK` on `<prefix>:attempts` (or one agent's stream) from the newest
//! entry on.
//!
//! The read runs on a connection of its own without a response timeout: the store's
//! `ConnectionManager` answers within seconds by design, and a blocking read must
//! be allowed to wait. Each block lasts at most [`BLOCK_MS`], so a cancelled follow
//! ends promptly.

use std::time::Duration;

use callhook_model::AttemptRecord;
use callhook_store::Keys;
use redis::AsyncConnectionConfig;
use redis::streams::StreamReadReply;
use tokio_util::sync::CancellationToken;

/// The longest one `XREAD` blocks.
pub const BLOCK_MS: u64 = 2_000;

/// What to follow.
#[derive(Debug, Clone)]
pub struct Follow {
    /// `redis://...`.
    pub redis_url: String,
    /// The key names.
    pub keys: Keys,
    /// Only this agent's records (reads the agent's own stream).
    pub agent_id: Option<String>,
    /// Start after this stream id instead of after the newest entry.
    pub from_id: Option<String>,
}

impl Follow {
    /// The stream read.
    pub fn stream_key(&self) -> String {
        match &self.agent_id {
            Some(a) => self.keys.agent_attempts(a),
            None => self.keys.attempts(),
        }
    }

    /// Calls `each` with every record stored from now on, in order, until `stop`
    /// fires (then `Ok`) or Redis fails (then the error). `on_ready` is called with
    /// the stream key once the starting point is fixed: records stored after that
    /// are all seen. Entries whose record does not parse are skipped with a warning.
    pub async fn run(
        &self,
        stop: CancellationToken,
        on_ready: impl FnOnce(&str),
        mut each: impl FnMut(AttemptRecord),
    ) -> anyhow::Result<()> {
        let client = redis::Client::open(self.redis_url.as_str())?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(None);
        let mut conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        let key = self.stream_key();
        // A concrete id rather than `$`, so nothing stored between two reads is missed.
        let mut last = match &self.from_id {
            Some(id) => id.clone(),
            None => {
                let newest: redis::streams::StreamRangeReply = redis::cmd("XREVRANGE")
                    .arg(&key)
                    .arg("+")
                    .arg("-")
                    .arg("COUNT")
                    .arg(1)
                    .query_async(&mut conn)
                    .await?;
                newest
                    .ids
                    .first()
                    .map_or_else(|| "0-0".to_string(), |e| e.id.clone())
            }
        };
        on_ready(&key);
        loop {
            let cmd = redis::cmd("XREAD")
                .arg("COUNT")
                .arg(500)
                .arg("BLOCK")
                .arg(BLOCK_MS)
                .arg("STREAMS")
                .arg(&key)
                .arg(&last)
                .to_owned();
            let reply: Option<StreamReadReply> = tokio::select! {
                _ = stop.cancelled() => return Ok(()),
                r = cmd.query_async(&mut conn) => r?,
            };
            for stream in reply.map(|r| r.keys).unwrap_or_default() {
                for entry in stream.ids {
                    last = entry.id.clone();
                    match entry
                        .get::<Vec<u8>>("record")
                        .map(|json| serde_json::from_slice::<AttemptRecord>(&json))
                    {
                        Some(Ok(rec)) => each(rec),
                        _ => {
                            tracing::warn!(stream = %key, id = %entry.id, "skipping an entry without a readable record")
                        }
                    }
                }
            }
        }
    }
}
