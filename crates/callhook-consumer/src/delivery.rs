//! [`Delivery`]: one message from the jobs or the retries queue, with its ack handle.
//!
//! The worker acks only after every record of the job is stored. A delivery keeps its
//! channel open, so in-flight deliveries can still be acked after the consumer stopped
//! taking new ones (graceful shutdown). After a reconnect the old channel is closed:
//! acking fails with [`Error::ChannelClosed`] and the broker delivers the message again.

use lapin::{
    Acker, BasicProperties, Channel,
    options::{BasicAckOptions, BasicNackOptions},
    types::{AMQPValue, FieldTable},
};

use crate::{Error, Result};

/// Which queue a delivery came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The jobs queue.
    Jobs,
    /// The retry commands queue.
    Retries,
}

impl Source {
    /// `jobs` or `retries`, for logs and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Jobs => "jobs",
            Source::Retries => "retries",
        }
    }
}

/// One message, with what the worker needs to judge it and the handle to settle it.
#[derive(Debug)]
pub struct Delivery {
    inner: lapin::message::Delivery,
    source: Source,
    /// Keeps the channel (and its connection) open while the delivery is in flight.
    _channel: Channel,
}

impl Delivery {
    pub(crate) fn new(inner: lapin::message::Delivery, source: Source, channel: Channel) -> Self {
        Self {
            inner,
            source,
            _channel: channel,
        }
    }

    /// The queue it came from.
    pub fn source(&self) -> Source {
        self.source
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.inner.data
    }

    /// The body's length in bytes (compare with `AmqpConfig::max_message_bytes`).
    pub fn body_len(&self) -> usize {
        self.inner.data.len()
    }

    /// The exchange it was published to.
    pub fn exchange(&self) -> &str {
        self.inner.exchange.as_str()
    }

    /// Its routing key.
    pub fn routing_key(&self) -> &str {
        self.inner.routing_key.as_str()
    }

    /// Whether the broker delivered it before (to this or another consumer).
    pub fn redelivered(&self) -> bool {
        self.inner.redelivered
    }

    /// The delivery tag on its channel.
    pub fn delivery_tag(&self) -> u64 {
        self.inner.delivery_tag
    }

    /// All AMQP properties.
    pub fn properties(&self) -> &BasicProperties {
        &self.inner.properties
    }

    /// `content_type`, e.g. `application/json`.
    pub fn content_type(&self) -> Option<&str> {
        self.inner
            .properties
            .content_type()
            .as_ref()
            .map(|s| s.as_str())
    }

    /// `message_id` (the job id, by contract).
    pub fn message_id(&self) -> Option<&str> {
        self.inner
            .properties
            .message_id()
            .as_ref()
            .map(|s| s.as_str())
    }

    /// The headers table.
    pub fn headers(&self) -> Option<&FieldTable> {
        self.inner.properties.headers().as_ref()
    }

    /// A header's value when it is a UTF-8 string.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        match self.headers()?.inner().get(name)? {
            AMQPValue::LongString(s) => std::str::from_utf8(s.as_bytes()).ok(),
            AMQPValue::ShortString(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The W3C `traceparent` header, if the publisher set one.
    pub fn traceparent(&self) -> Option<&str> {
        self.header_str("traceparent")
    }

    /// `x-delivery-count`: how many times a quorum queue delivered it before and got it
    /// back (absent on a first delivery).
    pub fn delivery_count(&self) -> Option<u64> {
        header_u64(self.headers()?.inner().get("x-delivery-count")?)
    }

    /// Whether it can still be acked (not settled, channel open).
    pub fn is_settleable(&self) -> bool {
        self.inner.acker.usable()
    }

    /// Acknowledges it: the broker forgets the message.
    pub async fn ack(&self) -> Result<()> {
        let acker = &self.inner.acker;
        self.settled("ack", acker.ack(BasicAckOptions::default()).await, acker)
    }

    /// Hands it back: `requeue` puts it back in its queue (counting against the
    /// delivery limit), otherwise the broker dead-letters it with reason `rejected`.
    pub async fn nack(&self, requeue: bool) -> Result<()> {
        let acker = &self.inner.acker;
        let options = BasicNackOptions {
            multiple: false,
            requeue,
        };
        self.settled("nack", acker.nack(options).await, acker)
    }

    fn settled(&self, op: &'static str, r: lapin::Result<bool>, acker: &Acker) -> Result<()> {
        let delivery_tag = self.inner.delivery_tag;
        match r {
            Ok(true) => Ok(()),
            Ok(false) if acker.poisoned() => Err(Error::ChannelClosed { op, delivery_tag }),
            Ok(false) => Err(Error::AlreadySettled(delivery_tag)),
            Err(source) => {
                tracing::debug!(op, delivery_tag, error = %source, "settling a delivery failed");
                Err(Error::ChannelClosed { op, delivery_tag })
            }
        }
    }
}

fn header_u64(v: &AMQPValue) -> Option<u64> {
    match *v {
        AMQPValue::ShortShortUInt(n) => Some(n.into()),
        AMQPValue::ShortUInt(n) => Some(n.into()),
        AMQPValue::LongUInt(n) => Some(n.into()),
        AMQPValue::ShortShortInt(n) => u64::try_from(n).ok(),
        AMQPValue::ShortInt(n) => u64::try_from(n).ok(),
        AMQPValue::LongInt(n) => u64::try_from(n).ok(),
        AMQPValue::LongLongInt(n) => u64::try_from(n).ok(),
        AMQPValue::Timestamp(n) => Some(n),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_counts_read_from_any_integer_type() {
        assert_eq!(header_u64(&AMQPValue::LongLongInt(3)), Some(3));
        assert_eq!(header_u64(&AMQPValue::LongInt(-1)), None);
        assert_eq!(header_u64(&AMQPValue::ShortShortUInt(7)), Some(7));
        assert_eq!(header_u64(&AMQPValue::Boolean(true)), None);
    }
}
