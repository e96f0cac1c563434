//! The store's settings, with the contract's defaults.

use std::time::Duration;

use callhook_model::Secret;

use crate::{Error, Result};

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "callhook";

/// How to reach Redis and how much to keep.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `redis://[user:password@]host:port[/db]`; secret because it may hold a password.
    pub url: Secret<String>,
    /// Prefix of every key (`callhook`); tests use a unique one.
    pub prefix: String,
    /// How long jobs, job state and the attempt index are kept (7 days).
    pub retention: Duration,
    /// `MAXLEN ~` of the global attempt stream (1,000,000).
    pub global_maxlen: u64,
    /// `MAXLEN ~` of each agent's attempt stream (100,000).
    pub agent_maxlen: u64,
    /// How long one command may wait for its answer (2 s; redis-rs' own default is 500 ms).
    pub response_timeout: Duration,
    /// How long one connection attempt may take (2 s).
    pub connection_timeout: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            url: Secret::new("redis://127.0.0.1:6379".into()),
            prefix: DEFAULT_PREFIX.into(),
            retention: Duration::from_secs(7 * 24 * 3600),
            global_maxlen: 1_000_000,
            agent_maxlen: 100_000,
            response_timeout: Duration::from_secs(2),
            connection_timeout: Duration::from_secs(2),
        }
    }
}

impl StoreConfig {
    /// The defaults with another URL.
    pub fn with_url(url: impl Into<String>) -> Self {
        Self {
            url: Secret::new(url.into()),
            ..Self::default()
        }
    }

    /// Checks the values, naming the setting that is wrong.
    pub fn validate(&self) -> Result<()> {
        if self.prefix.is_empty() {
            return Err(Error::Config("prefix must not be empty".into()));
        }
        if self.retention < Duration::from_secs(1) {
            return Err(Error::Config("retention must be at least 1 s".into()));
        }
        if self.global_maxlen == 0 || self.agent_maxlen == 0 {
            return Err(Error::Config("stream maxlen must be at least 1".into()));
        }
        if self.response_timeout.is_zero() || self.connection_timeout.is_zero() {
            return Err(Error::Config("timeouts must be positive".into()));
        }
        Ok(())
    }

    /// The retention in whole seconds, as `EX` and `EXPIRE` take it.
    pub(crate) fn retention_secs(&self) -> u64 {
        self.retention.as_secs().max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_contract_and_valid() {
        let c = StoreConfig::default();
        assert_eq!(c.prefix, "callhook");
        assert_eq!(c.retention_secs(), 604_800);
        assert!(c.validate().is_ok());
        assert_eq!(
            format!("{:?}", StoreConfig::with_url("redis://:pw@h").url),
            "[redacted]"
        );
    }

    #[test]
    fn validation_names_the_setting() {
        let c = StoreConfig {
            agent_maxlen: 0,
            ..StoreConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("maxlen"));
    }
}
