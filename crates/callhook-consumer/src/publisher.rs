//! [`Publisher`]: results, jobs and dead letters, each confirmed by the broker.
//!
//! One connection and one confirm-mode channel, shared by every caller (publishes on
//! one channel pipeline; each waits for its own confirm). A publish that fails for a
//! retryable reason (connection or channel lost, nack, confirm timeout) drops the
//! channel and is tried again on a fresh connection, up to `publish_attempts` times
//! with backoff, so a broker blip does not lose a record. That makes publishing
//! at-least-once: after a confirm timeout the broker may hold the first copy too.
//! Consumers dedupe by `message_id` (the attempt id for results, the job id for jobs).

use std::{
    sync::{Arc, RwLock},
    time::{SystemTime, UNIX_EPOCH},
};

use callhook_model::AttemptRecord;
use lapin::{
    BasicProperties, Channel, ChannelStatus, Confirmation, Connection,
    options::{BasicPublishOptions, ConfirmSelectOptions},
    types::{AMQPValue, FieldTable, LongString, ShortString},
};
use tokio::sync::Mutex;

use crate::{
    AmqpConfig, Delivery, Error, Result, Topology,
    backoff::Backoff,
    connection::{self, short},
};

/// Publishes with confirms, reconnecting by itself. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Publisher {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: AmqpConfig,
    topology: Topology,
    link: Mutex<Option<Link>>,
    /// The current channel's status, readable without waiting for a reconnect.
    status: RwLock<Option<ChannelStatus>>,
}

#[derive(Debug)]
struct Link {
    conn: Connection,
    channel: Channel,
    generation: u64,
    /// A publish failed on it: replace it before the next one.
    broken: bool,
}

const JSON: &str = "application/json";
const PERSISTENT: u8 = 2;

impl Publisher {
    /// Connects, declares the topology and enables confirms now.
    pub async fn connect(config: AmqpConfig, topology: Topology) -> Result<Publisher> {
        let publisher = Self::lazy(config, topology)?;
        publisher.channel().await?;
        Ok(publisher)
    }

    /// Connects on first publish.
    pub fn lazy(config: AmqpConfig, topology: Topology) -> Result<Publisher> {
        config.validate()?;
        Ok(Publisher {
            inner: Arc::new(Inner {
                config,
                topology,
                link: Mutex::new(None),
                status: RwLock::new(None),
            }),
        })
    }

    /// The topology it publishes to.
    pub fn topology(&self) -> &Topology {
        &self.inner.topology
    }

    /// Whether its channel is open now (for /readyz). False before the first publish
    /// of a lazy publisher.
    pub fn is_connected(&self) -> bool {
        self.inner
            .status
            .read()
            .ok()
            .and_then(|s| s.as_ref().map(ChannelStatus::connected))
            .unwrap_or(false)
    }

    /// Publishes an attempt record to the results exchange with routing key
    /// `<outcome>.<agent_id>`: persistent, `application/json`, `message_id` = attempt id.
    /// Not mandatory: a topic exchange may route some keys nowhere, by the operator's
    /// choice (the delivery log binds `#`).
    pub async fn publish_result(&self, record: &AttemptRecord) -> Result<()> {
        let body = serde_json::to_vec(record).map_err(Error::Encode)?;
        let routing_key = format!("{}.{}", record.outcome.as_str(), record.agent_id);
        let props = json_props(&record.attempt_id)?;
        let exchange = self.inner.topology.results_exchange.clone();
        self.publish(&exchange, &routing_key, &body, props, false)
            .await
    }

    /// Publishes a job (or a retry command) to the jobs exchange: persistent,
    /// `application/json`, `message_id` = `job_id`. Mandatory: a key that reaches no
    /// queue is an [`Error::Unroutable`].
    pub async fn publish_job(&self, raw: &[u8], job_id: &str, routing_key: &str) -> Result<()> {
        self.publish_job_with_headers(raw, job_id, routing_key, &[])
            .await
    }

    /// [`Publisher::publish_job`] with extra string headers, e.g. `traceparent`.
    pub async fn publish_job_with_headers(
        &self,
        raw: &[u8],
        job_id: &str,
        routing_key: &str,
        headers: &[(&str, &str)],
    ) -> Result<()> {
        let mut table = FieldTable::default();
        for (name, value) in headers {
            table.insert(short("header name", name)?, string_value(value));
        }
        let props = json_props(job_id)?.with_headers(table);
        let exchange = self.inner.topology.jobs_exchange.clone();
        self.publish(&exchange, routing_key, raw, props, true).await
    }

    /// Moves a delivery to the dead letters: publishes a copy (same body and properties,
    /// persistent, plus headers `x-callhook-error: <kind>: <message>`,
    /// `x-callhook-error-kind: <kind>` and `x-callhook-queue: <its queue>`) to the
    /// dead-letter exchange, waits for the confirm, then acks the original. If the copy
    /// is not confirmed, the original is not acked (the error says why). If the ack
    /// fails after the confirm, the message comes back and may be dead-lettered twice.
    pub async fn dead_letter(&self, delivery: &Delivery, kind: &str, message: &str) -> Result<()> {
        let mut headers = delivery.headers().cloned().unwrap_or_default();
        headers.insert(
            "x-callhook-error".into(),
            string_value(&format!("{kind}: {message}")),
        );
        headers.insert("x-callhook-error-kind".into(), string_value(kind));
        headers.insert(
            "x-callhook-queue".into(),
            string_value(self.inner.topology.queue_of(delivery.source())),
        );
        let props = delivery
            .properties()
            .clone()
            .with_delivery_mode(PERSISTENT)
            .with_headers(headers);
        let exchange = self.inner.topology.dead_letter_exchange.clone();
        self.publish(
            &exchange,
            delivery.routing_key(),
            delivery.body(),
            props,
            true,
        )
        .await?;
        delivery.ack().await
    }

    /// Closes the connection (the next publish opens a new one).
    pub async fn close(&self) {
        let mut link = self.inner.link.lock().await;
        if let Some(old) = link.take() {
            connection::close(&old.conn, "closing").await;
        }
    }

    /// Publishes and waits for the confirm, retrying on a fresh channel.
    async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        props: BasicProperties,
        mandatory: bool,
    ) -> Result<()> {
        let exchange_name = short("exchange", exchange)?;
        let key = short("routing key", routing_key)?;
        let config = &self.inner.config;
        let mut backoff = Backoff::new(config.reconnect_min, config.reconnect_max);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = match self.channel().await {
                Ok((channel, generation)) => {
                    let r = self
                        .publish_once(
                            &channel,
                            &exchange_name,
                            &key,
                            body,
                            props.clone(),
                            mandatory,
                        )
                        .await;
                    if r.as_ref().is_err_and(Error::is_retryable) {
                        self.invalidate(generation).await;
                    }
                    r
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => return Ok(()),
                Err(e) if e.is_retryable() && attempt < config.publish_attempts => {
                    let delay = backoff.next_delay();
                    tracing::warn!(
                        exchange, routing_key, attempt, error = %e,
                        delay_ms = delay.as_millis() as u64,
                        "amqp publish failed; retrying on a fresh channel"
                    );
                    tokio::time::sleep(delay).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn publish_once(
        &self,
        channel: &Channel,
        exchange: &ShortString,
        routing_key: &ShortString,
        body: &[u8],
        props: BasicProperties,
        mandatory: bool,
    ) -> Result<()> {
        let options = BasicPublishOptions {
            mandatory,
            immediate: false,
        };
        let confirm = channel
            .basic_publish(exchange.clone(), routing_key.clone(), options, body, props)
            .await
            .map_err(Error::amqp("basic.publish"))?;
        let after = self.inner.config.confirm_timeout;
        let confirmation = tokio::time::timeout(after, confirm)
            .await
            .map_err(|_| Error::ConfirmTimeout {
                exchange: exchange.to_string(),
                after,
            })?
            .map_err(Error::amqp("publisher confirm"))?;
        let names = || (exchange.to_string(), routing_key.to_string());
        match confirmation {
            Confirmation::Ack(None) => Ok(()),
            Confirmation::Ack(Some(returned)) | Confirmation::Nack(Some(returned)) => {
                let (exchange, routing_key) = names();
                Err(Error::Unroutable {
                    exchange,
                    routing_key,
                    reply: returned.reply_text.to_string(),
                })
            }
            Confirmation::Nack(None) => {
                let (exchange, routing_key) = names();
                Err(Error::Nacked {
                    exchange,
                    routing_key,
                })
            }
            Confirmation::NotRequested => Err(Error::Invalid(
                "publisher confirms are not enabled on the channel".into(),
            )),
        }
    }

    /// The open channel, or a new connection with a declared topology and confirms.
    async fn channel(&self) -> Result<(Channel, u64)> {
        let mut link = self.inner.link.lock().await;
        if let Some(l) = link.as_ref()
            && !l.broken
            && l.channel.status().connected()
        {
            return Ok((l.channel.clone(), l.generation));
        }
        let generation = link.as_ref().map_or(0, |l| l.generation + 1);
        if let Some(old) = link.take() {
            connection::close(&old.conn, "reconnecting").await;
        }
        let conn = connection::open(&self.inner.config, "publisher").await?;
        let channel = conn
            .create_channel()
            .await
            .map_err(Error::amqp("channel.open"))?;
        self.inner.topology.declare(&channel).await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(Error::amqp("confirm.select"))?;
        if let Ok(mut status) = self.inner.status.write() {
            *status = Some(channel.status().clone());
        }
        if generation > 0 {
            tracing::info!(generation, "amqp publisher reconnected");
        }
        *link = Some(Link {
            conn,
            channel: channel.clone(),
            generation,
            broken: false,
        });
        Ok((channel, generation))
    }

    /// Marks the link of `generation` broken and closes it (unless a newer one replaced
    /// it already); the next call opens a new one.
    async fn invalidate(&self, generation: u64) {
        let mut link = self.inner.link.lock().await;
        if let Some(l) = link.as_mut()
            && l.generation == generation
            && !l.broken
        {
            l.broken = true;
            connection::close(&l.conn, "reconnecting").await;
        }
    }
}

fn json_props(message_id: &str) -> Result<BasicProperties> {
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Ok(BasicProperties::default()
        .with_content_type(JSON.into())
        .with_delivery_mode(PERSISTENT)
        .with_message_id(short("message_id", message_id)?)
        .with_timestamp(timestamp))
}

fn string_value(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s))
}
