//! The consumer crate's errors, split into retryable and permanent causes.

use std::time::Duration;

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong talking to RabbitMQ.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The broker or the connection failed an operation.
    #[error("amqp {op}: {source}")]
    Amqp {
        /// The operation, e.g. `basic.publish`.
        op: &'static str,
        /// lapin's error.
        #[source]
        source: lapin::Error,
    },
    /// No connection within the connect timeout.
    #[error("amqp connect: no connection within {0:?}")]
    ConnectTimeout(Duration),
    /// The broker did not confirm a publish in time (it may or may not have it).
    #[error("no publisher confirm from {exchange:?} within {after:?}")]
    ConfirmTimeout {
        /// The exchange published to.
        exchange: String,
        /// How long we waited.
        after: Duration,
    },
    /// The broker refused a publish (`basic.nack`).
    #[error("the broker nacked a publish to {exchange:?} with key {routing_key:?}")]
    Nacked {
        /// The exchange.
        exchange: String,
        /// The routing key.
        routing_key: String,
    },
    /// A mandatory publish matched no queue and came back (`basic.return`).
    #[error("publish to {exchange:?} with key {routing_key:?} was returned: {reply}")]
    Unroutable {
        /// The exchange.
        exchange: String,
        /// The routing key.
        routing_key: String,
        /// The broker's reason.
        reply: String,
    },
    /// The delivery's channel is closed: it cannot be acked any more, and the broker
    /// will deliver the message again.
    #[error(
        "cannot {op} delivery {delivery_tag}: its channel is closed; the message will be redelivered"
    )]
    ChannelClosed {
        /// `ack` or `nack`.
        op: &'static str,
        /// The delivery's tag on that channel.
        delivery_tag: u64,
    },
    /// The delivery was already acked or nacked.
    #[error("delivery {0} was already settled")]
    AlreadySettled(u64),
    /// A name or value does not fit AMQP (a short string over 255 bytes, ...).
    #[error("invalid amqp value: {0}")]
    Invalid(String),
    /// A record could not be serialized.
    #[error("record could not be serialized: {0}")]
    Encode(#[source] serde_json::Error),
    /// The configuration is unusable.
    #[error("invalid amqp configuration: {0}")]
    Config(String),
}

impl Error {
    /// Whether trying again (on a fresh connection) may succeed: I/O, connection and
    /// channel failures, timeouts and nacks. Unroutable publishes, invalid values and
    /// configuration errors are permanent; so is acking a delivery twice.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Amqp { source, .. } => amqp_is_retryable(source),
            Error::ConnectTimeout(_)
            | Error::ConfirmTimeout { .. }
            | Error::Nacked { .. }
            | Error::ChannelClosed { .. } => true,
            Error::Unroutable { .. }
            | Error::AlreadySettled(_)
            | Error::Invalid(_)
            | Error::Encode(_)
            | Error::Config(_) => false,
        }
    }

    pub(crate) fn amqp(op: &'static str) -> impl FnOnce(lapin::Error) -> Error {
        move |source| Error::Amqp { op, source }
    }
}

fn amqp_is_retryable(e: &lapin::Error) -> bool {
    use lapin::ErrorKind as K;
    match e.kind() {
        // A channel-level refusal (PRECONDITION_FAILED, NOT_FOUND, ACCESS_REFUSED) will
        // be refused again; a connection-level one (forced close, ...) may pass.
        K::ProtocolError(_) => !e.is_amqp_soft_error(),
        K::InvalidProtocolVersion(_) | K::AuthProviderError(_) | K::NoDefaultRuntime => false,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_and_permanent_causes_are_apart() {
        assert!(Error::ConnectTimeout(Duration::from_secs(1)).is_retryable());
        assert!(
            Error::ChannelClosed {
                op: "ack",
                delivery_tag: 1
            }
            .is_retryable()
        );
        assert!(!Error::AlreadySettled(1).is_retryable());
        let unroutable = Error::Unroutable {
            exchange: "x".into(),
            routing_key: "k".into(),
            reply: "NO_ROUTE".into(),
        };
        assert!(!unroutable.is_retryable());
        let io = lapin::Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(
            Error::Amqp {
                op: "x",
                source: io
            }
            .is_retryable()
        );
    }
}
