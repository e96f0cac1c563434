//! The store's errors, split into retryable and permanent causes.

use std::time::Duration;

use redis::{ErrorKind, RedisError, ServerErrorKind};

/// A `Result` with the store's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong talking to Redis.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Redis answered with an error, or the connection failed.
    #[error("redis {op}: {source}")]
    Redis {
        /// The operation, e.g. `record` or `get_job`.
        op: &'static str,
        /// The client's error.
        #[source]
        source: RedisError,
    },
    /// No answer within the configured time (the outcome is unknown).
    #[error("redis {op}: no answer within {after:?}")]
    Timeout {
        /// The operation.
        op: &'static str,
        /// How long we waited.
        after: Duration,
    },
    /// A stored value is not what this version writes.
    #[error("redis value at {key} is not valid: {source}")]
    Decode {
        /// The key (and hash field) that held it.
        key: String,
        /// Why it did not parse.
        #[source]
        source: serde_json::Error,
    },
    /// A record could not be serialized.
    #[error("attempt record could not be serialized: {0}")]
    Encode(#[source] serde_json::Error),
    /// The record script answered something it never answers.
    #[error("record script answered unexpectedly: {0}")]
    Script(String),
    /// A log cursor that this store did not hand out.
    #[error("invalid log cursor {0:?}")]
    InvalidCursor(String),
    /// The configuration is unusable.
    #[error("invalid store configuration: {0}")]
    Config(String),
}

impl Error {
    /// Whether trying again later may succeed: connection, I/O and timeout errors, and
    /// server states that pass (loading, failover, cluster down). Script, decoding and
    /// configuration errors are permanent.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Redis { source, .. } => redis_is_retryable(source),
            Error::Timeout { .. } => true,
            Error::Decode { .. }
            | Error::Encode(_)
            | Error::Script(_)
            | Error::InvalidCursor(_)
            | Error::Config(_) => false,
        }
    }
}

fn redis_is_retryable(e: &RedisError) -> bool {
    if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal() {
        return true;
    }
    matches!(
        e.kind(),
        ErrorKind::Server(
            ServerErrorKind::BusyLoading
                | ServerErrorKind::TryAgain
                | ServerErrorKind::ClusterDown
                | ServerErrorKind::MasterDown
                | ServerErrorKind::ReadOnly
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_are_retryable_and_script_errors_are_not() {
        let io = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(
            Error::Redis {
                op: "x",
                source: io
            }
            .is_retryable()
        );
        let script = RedisError::from((ErrorKind::Client, "bad"));
        assert!(
            !Error::Redis {
                op: "x",
                source: script
            }
            .is_retryable()
        );
        assert!(
            Error::Timeout {
                op: "x",
                after: Duration::from_secs(1)
            }
            .is_retryable()
        );
        assert!(!Error::Script("?".into()).is_retryable());
    }
}
