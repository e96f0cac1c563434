//! Every exchange and queue callhook uses (CONTRACT §1), and their declaration.
//!
//! - jobs exchange `callhook.jobs` (durable, direct) → quorum queue `callhook.jobs`
//!   (key `job`) and quorum queue `callhook.retries` (key `retry`). Both dead-letter to
//!   `callhook.dlx` and carry `x-delivery-limit` (20), so a message that keeps failing
//!   (say, one that crashes the worker) is dead-lettered by the broker with reason
//!   `delivery_limit` instead of looping forever.
//! - dead letters: `callhook.dlx` is a durable **fanout** exchange, so every dead
//!   letter reaches `callhook.dead` whatever its routing key (the broker's own dead
//!   letters keep the original key); `callhook.dead` is a durable quorum queue with no
//!   cap, because nothing in it may be dropped silently.
//! - results: `callhook.results` (durable topic, key `<outcome>.<agent_id>`) → the
//!   delivery log, a durable classic queue bound with `#` and capped by `x-max-length`
//!   (1,000,000) with `x-overflow: drop-head`: the oldest results go first.

use lapin::{
    Channel, ExchangeKind,
    options::{
        ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
        QueueDeleteOptions,
    },
    types::{AMQPValue, FieldTable, LongString},
};

use crate::{Error, Result, connection::short};

/// The names and limits of callhook's exchanges and queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// Direct exchange jobs and retry commands are published to.
    pub jobs_exchange: String,
    /// Quorum queue of jobs.
    pub jobs_queue: String,
    /// Key binding the jobs queue (`job`).
    pub job_routing_key: String,
    /// Quorum queue of retry commands.
    pub retries_queue: String,
    /// Key binding the retries queue (`retry`).
    pub retry_routing_key: String,
    /// Fanout exchange of dead letters.
    pub dead_letter_exchange: String,
    /// Queue of dead letters.
    pub dead_queue: String,
    /// Topic exchange of attempt records.
    pub results_exchange: String,
    /// Capped queue bound to the results exchange with `#`.
    pub delivery_log_queue: String,
    /// `x-delivery-limit` of the jobs and retries queues (20).
    pub delivery_limit: u32,
    /// `x-max-length` of the delivery log (1,000,000).
    pub delivery_log_max_length: u64,
}

impl Default for Topology {
    fn default() -> Self {
        Self {
            jobs_exchange: "callhook.jobs".into(),
            jobs_queue: "callhook.jobs".into(),
            job_routing_key: "job".into(),
            retries_queue: "callhook.retries".into(),
            retry_routing_key: "retry".into(),
            dead_letter_exchange: "callhook.dlx".into(),
            dead_queue: "callhook.dead".into(),
            results_exchange: "callhook.results".into(),
            delivery_log_queue: "callhook.delivery-log".into(),
            delivery_limit: 20,
            delivery_log_max_length: 1_000_000,
        }
    }
}

fn quorum_args(dlx: &str, delivery_limit: Option<u32>) -> FieldTable {
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), long_string("quorum"));
    if let Some(limit) = delivery_limit {
        args.insert("x-dead-letter-exchange".into(), long_string(dlx));
        args.insert(
            "x-delivery-limit".into(),
            AMQPValue::LongLongInt(i64::from(limit)),
        );
    }
    args
}

fn long_string(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s))
}

const DURABLE_EXCHANGE: ExchangeDeclareOptions = ExchangeDeclareOptions {
    passive: false,
    durable: true,
    auto_delete: false,
    internal: false,
    nowait: false,
};

const DURABLE_QUEUE: QueueDeclareOptions = QueueDeclareOptions {
    passive: false,
    durable: true,
    exclusive: false,
    auto_delete: false,
    nowait: false,
};

impl Topology {
    /// Every name prefixed with `<prefix>.` (routing keys unchanged), for tests and
    /// benches that need a topology of their own: `with_prefix("t-01J…")`.
    pub fn with_prefix(prefix: &str) -> Self {
        let d = Self::default();
        let p = |name: String| format!("{prefix}.{name}");
        Self {
            jobs_exchange: p(d.jobs_exchange),
            jobs_queue: p(d.jobs_queue),
            retries_queue: p(d.retries_queue),
            dead_letter_exchange: p(d.dead_letter_exchange),
            dead_queue: p(d.dead_queue),
            results_exchange: p(d.results_exchange),
            delivery_log_queue: p(d.delivery_log_queue),
            ..d
        }
    }

    /// Declares every exchange, queue and binding. Idempotent: declaring again with the
    /// same settings changes nothing. Declaring a queue that exists with other
    /// arguments fails with `PRECONDITION_FAILED` (and closes the channel).
    pub async fn declare(&self, channel: &Channel) -> Result<()> {
        let none = FieldTable::default;
        for (name, kind) in [
            (&self.jobs_exchange, ExchangeKind::Direct),
            (&self.dead_letter_exchange, ExchangeKind::Fanout),
            (&self.results_exchange, ExchangeKind::Topic),
        ] {
            channel
                .exchange_declare(short("exchange", name)?, kind, DURABLE_EXCHANGE, none())
                .await
                .map_err(Error::amqp("exchange.declare"))?;
        }

        let limit = Some(self.delivery_limit);
        let mut log_args = FieldTable::default();
        log_args.insert(
            "x-max-length".into(),
            AMQPValue::LongLongInt(i64::try_from(self.delivery_log_max_length).unwrap_or(i64::MAX)),
        );
        log_args.insert("x-overflow".into(), long_string("drop-head"));
        for (name, args) in [
            (
                &self.jobs_queue,
                quorum_args(&self.dead_letter_exchange, limit),
            ),
            (
                &self.retries_queue,
                quorum_args(&self.dead_letter_exchange, limit),
            ),
            (
                &self.dead_queue,
                quorum_args(&self.dead_letter_exchange, None),
            ),
            (&self.delivery_log_queue, log_args),
        ] {
            channel
                .queue_declare(short("queue", name)?, DURABLE_QUEUE, args)
                .await
                .map_err(Error::amqp("queue.declare"))?;
        }

        for (queue, exchange, key) in [
            (
                &self.jobs_queue,
                &self.jobs_exchange,
                self.job_routing_key.as_str(),
            ),
            (
                &self.retries_queue,
                &self.jobs_exchange,
                self.retry_routing_key.as_str(),
            ),
            (&self.dead_queue, &self.dead_letter_exchange, ""),
            (&self.delivery_log_queue, &self.results_exchange, "#"),
        ] {
            channel
                .queue_bind(
                    short("queue", queue)?,
                    short("exchange", exchange)?,
                    short("routing key", key)?,
                    QueueBindOptions::default(),
                    none(),
                )
                .await
                .map_err(Error::amqp("queue.bind"))?;
        }
        Ok(())
    }

    /// Deletes every queue and exchange of this topology (for tests and benches).
    pub async fn delete(&self, channel: &Channel) -> Result<()> {
        for queue in [
            &self.jobs_queue,
            &self.retries_queue,
            &self.dead_queue,
            &self.delivery_log_queue,
        ] {
            channel
                .queue_delete(short("queue", queue)?, QueueDeleteOptions::default())
                .await
                .map_err(Error::amqp("queue.delete"))?;
        }
        for exchange in [
            &self.jobs_exchange,
            &self.dead_letter_exchange,
            &self.results_exchange,
        ] {
            channel
                .exchange_delete(
                    short("exchange", exchange)?,
                    ExchangeDeleteOptions::default(),
                )
                .await
                .map_err(Error::amqp("exchange.delete"))?;
        }
        Ok(())
    }

    /// The queue name of a [`crate::Source`].
    pub fn queue_of(&self, source: crate::Source) -> &str {
        match source {
            crate::Source::Jobs => &self.jobs_queue,
            crate::Source::Retries => &self.retries_queue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_contract_and_prefixes_keep_routing_keys() {
        let d = Topology::default();
        assert_eq!(d.jobs_queue, "callhook.jobs");
        assert_eq!(d.delivery_log_queue, "callhook.delivery-log");
        let t = Topology::with_prefix("t-1");
        assert_eq!(t.jobs_exchange, "t-1.callhook.jobs");
        assert_eq!(t.dead_queue, "t-1.callhook.dead");
        assert_eq!(
            (t.job_routing_key.as_str(), t.retry_routing_key.as_str()),
            ("job", "retry")
        );
        assert_eq!(t.delivery_limit, 20);
    }
}
