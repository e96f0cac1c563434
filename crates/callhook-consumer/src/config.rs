//! Connection settings, with the contract's defaults.

use std::time::Duration;

use callhook_model::Secret;

use crate::{Error, Result};

/// How to reach RabbitMQ and how to behave on it.
#[derive(Debug, Clone)]
pub struct AmqpConfig {
    /// `amqp://user:password@host:port/vhost`; secret because it holds a password.
    pub url: Secret<String>,
    /// Base of the connection names shown by the broker (`callhook`); the consumer
    /// adds `-consumer`, the publisher `-publisher`.
    pub connection_name: String,
    /// Unacked deliveries per consumer (`basic.qos`, per consumer: the jobs and the
    /// retries queue each get this many).
    pub prefetch: u16,
    /// How long one connection attempt may take.
    pub connect_timeout: Duration,
    /// First reconnect delay.
    pub reconnect_min: Duration,
    /// Largest reconnect delay.
    pub reconnect_max: Duration,
    /// How long a publish waits for the broker's confirm.
    pub confirm_timeout: Duration,
    /// How many times a publish is tried, each on a fresh channel after a failure.
    pub publish_attempts: u32,
    /// Deliveries with a longer body are the worker's to refuse (1 MiB).
    pub max_message_bytes: usize,
}

impl Default for AmqpConfig {
    fn default() -> Self {
        Self {
            url: Secret::new("amqp://guest:guest@127.0.0.1:5672/%2f".into()),
            connection_name: "callhook".into(),
            prefetch: 32,
            connect_timeout: Duration::from_secs(5),
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(10),
            confirm_timeout: Duration::from_secs(10),
            publish_attempts: 5,
            max_message_bytes: 1024 * 1024,
        }
    }
}

impl AmqpConfig {
    /// The defaults with another URL.
    pub fn with_url(url: impl Into<String>) -> Self {
        Self {
            url: Secret::new(url.into()),
            ..Self::default()
        }
    }

    /// Checks the values, naming the setting that is wrong.
    pub fn validate(&self) -> Result<()> {
        if self.prefetch == 0 {
            return Err(Error::Config(
                "prefetch must be at least 1 (0 would mean unlimited)".into(),
            ));
        }
        if self.reconnect_min.is_zero() || self.reconnect_min > self.reconnect_max {
            return Err(Error::Config(
                "reconnect_min must be positive and at most reconnect_max".into(),
            ));
        }
        if self.connect_timeout.is_zero() || self.confirm_timeout.is_zero() {
            return Err(Error::Config("timeouts must be positive".into()));
        }
        if self.publish_attempts == 0 {
            return Err(Error::Config("publish_attempts must be at least 1".into()));
        }
        if self.connection_name.len() > 200 {
            return Err(Error::Config("connection_name is too long".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_hide_the_url() {
        let c = AmqpConfig::default();
        assert!(c.validate().is_ok());
        assert!(!format!("{c:?}").contains("guest"));
    }

    #[test]
    fn zero_prefetch_is_refused() {
        let c = AmqpConfig {
            prefetch: 0,
            ..AmqpConfig::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("prefetch"));
    }
}
