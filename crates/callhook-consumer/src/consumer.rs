//! [`Consumer`]: the supervisor that keeps the jobs and retries queues consumed.
//!
//! One session is one connection with one channel: declare the topology, set the
//! prefetch, consume both queues with manual acks, and hand each delivery to the worker
//! through a bounded channel (a permit is reserved *before* the next delivery is taken,
//! so a busy worker holds messages in the broker, not in memory). When the connection
//! or the channel is lost, or a consumer is cancelled by the broker, the session ends:
//! the supervisor closes what is left, waits a capped, jittered exponential backoff
//! (reset once a session has lived at least `reconnect_max`) and starts a new session.
//! Every loss and reconnect is logged; [`Consumer::connected`] follows it for /readyz.
//!
//! On shutdown the consumers are cancelled, deliveries prefetched but not handed over
//! are requeued, and `run` returns; deliveries the worker holds keep their channel
//! open until they are acked or dropped.

use std::{
    pin::Pin,
    time::{Duration, Instant},
};

use futures_util::{Stream, StreamExt, stream};
use lapin::{
    Channel, Connection,
    options::{BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions},
    types::{FieldTable, ShortString},
};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::{
    AmqpConfig, Delivery, Error, Result, Source, Topology,
    backoff::Backoff,
    connection::{self, short},
};

/// How often a session waiting for the worker checks that its connection still lives.
const LIVENESS_CHECK: Duration = Duration::from_secs(1);
/// How long shutdown waits for the broker to confirm the cancels.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(2);

/// Consumes the jobs and the retries queues, reconnecting for as long as it runs.
#[derive(Debug)]
pub struct Consumer {
    config: AmqpConfig,
    topology: Topology,
    connected: watch::Sender<bool>,
}

/// Why a session ended.
enum SessionEnd {
    /// The shutdown token fired.
    Shutdown,
    /// The worker dropped its receiver: nobody takes deliveries any more.
    ReceiverGone,
    /// The connection, channel or a consumer was lost.
    Lost(String),
}

type Item = (Source, Option<lapin::Result<lapin::message::Delivery>>);
type Tagged = Pin<Box<dyn Stream<Item = Item> + Send>>;

impl Consumer {
    /// A consumer of `topology`'s jobs and retries queues; nothing connects before
    /// [`Consumer::run`].
    pub fn new(config: AmqpConfig, topology: Topology) -> Result<Self> {
        config.validate()?;
        let (connected, _) = watch::channel(false);
        Ok(Self {
            config,
            topology,
            connected,
        })
    }

    /// Follows whether a session is up and consuming (for /readyz).
    pub fn connected(&self) -> watch::Receiver<bool> {
        self.connected.subscribe()
    }

    /// Consumes until `shutdown` fires or `deliveries`' receiver is dropped, then
    /// returns `Ok(())`. Connection failures never end it: it reconnects.
    pub async fn run(
        self,
        deliveries: mpsc::Sender<Delivery>,
        shutdown: CancellationToken,
    ) -> Result<()> {
        let mut backoff = Backoff::new(self.config.reconnect_min, self.config.reconnect_max);
        loop {
            if shutdown.is_cancelled() {
                return Ok(());
            }
            let started = Instant::now();
            let end = self.session(&deliveries, &shutdown).await;
            self.connected.send_replace(false);
            match end {
                Ok(SessionEnd::Shutdown) => {
                    tracing::info!("amqp consumer stopped");
                    return Ok(());
                }
                Ok(SessionEnd::ReceiverGone) => {
                    tracing::info!("amqp consumer stopped: the worker takes no more deliveries");
                    return Ok(());
                }
                Ok(SessionEnd::Lost(reason)) => {
                    tracing::warn!(%reason, "amqp consumer session lost")
                }
                Err(error) if error.is_retryable() => {
                    tracing::warn!(%error, "amqp consumer session failed to start")
                }
                // Say, a queue declared elsewhere with other arguments: it needs an
                // operator, but may be fixed while we wait, so keep trying.
                Err(error) => tracing::error!(%error, "amqp consumer cannot start"),
            }
            if started.elapsed() >= self.config.reconnect_max {
                backoff.reset();
            }
            let delay = backoff.next_delay();
            tracing::info!(
                delay_ms = delay.as_millis() as u64,
                attempt = backoff.attempt(),
                "amqp consumer reconnecting"
            );
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shutdown.cancelled() => return Ok(()),
            }
        }
    }

    /// One connection's life.
    async fn session(
        &self,
        deliveries: &mpsc::Sender<Delivery>,
        shutdown: &CancellationToken,
    ) -> Result<SessionEnd> {
        // Setting up can take a connect timeout: shutdown must not wait for it. (A
        // half-built connection is closed when dropped.)
        let setup = async {
            let conn = connection::open(&self.config, "consumer").await?;
            let consuming = self.setup(&conn).await?;
            Ok::<_, Error>((conn, consuming))
        };
        let (conn, (channel, tags, streams)) = tokio::select! {
            biased;
            _ = shutdown.cancelled() => return Ok(SessionEnd::Shutdown),
            setup = setup => setup?,
        };
        let result = self
            .pump(&conn, channel, tags, streams, deliveries, shutdown)
            .await;
        if matches!(result, SessionEnd::Lost(_)) {
            // Whatever is left of this connection goes; its deliveries come back.
            connection::close(&conn, "reconnecting").await;
        }
        Ok(result)
    }

    /// Channel, topology, prefetch and the two consumers.
    async fn setup(&self, conn: &Connection) -> Result<(Channel, Vec<ShortString>, Vec<Tagged>)> {
        let channel = conn
            .create_channel()
            .await
            .map_err(Error::amqp("channel.open"))?;
        self.topology.declare(&channel).await?;
        channel
            .basic_qos(self.config.prefetch, BasicQosOptions { global: false })
            .await
            .map_err(Error::amqp("basic.qos"))?;
        let mut tags = Vec::new();
        let mut streams = Vec::new();
        for source in [Source::Jobs, Source::Retries] {
            let queue = self.topology.queue_of(source);
            let consumer = channel
                .basic_consume(
                    short("queue", queue)?,
                    "".into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(Error::amqp("basic.consume"))?;
            tags.push(consumer.tag());
            streams.push(tagged(source, consumer));
        }
        Ok((channel, tags, streams))
    }

    /// Hands deliveries to the worker until the session ends.
    async fn pump(
        &self,
        conn: &Connection,
        channel: Channel,
        tags: Vec<ShortString>,
        streams: Vec<Tagged>,
        deliveries: &mpsc::Sender<Delivery>,
        shutdown: &CancellationToken,
    ) -> SessionEnd {
        let mut merged = stream::select_all(streams);
        self.connected.send_replace(true);
        tracing::info!(
            jobs = %self.topology.jobs_queue,
            retries = %self.topology.retries_queue,
            prefetch = self.config.prefetch,
            "amqp consumer consuming"
        );

        loop {
            // Room in the worker first, so unprocessed messages stay with the broker.
            let permit = loop {
                tokio::select! {
                    biased;
                    _ = shutdown.cancelled() => {
                        stop(&channel, tags, &mut merged).await;
                        return SessionEnd::Shutdown;
                    }
                    permit = deliveries.reserve() => match permit {
                        Ok(p) => break p,
                        Err(_) => {
                            stop(&channel, tags, &mut merged).await;
                            return SessionEnd::ReceiverGone;
                        }
                    },
                    _ = tokio::time::sleep(LIVENESS_CHECK) => {
                        if !conn.status().connected() || !channel.status().connected() {
                            return SessionEnd::Lost("connection closed".into());
                        }
                    }
                }
            };
            let item = tokio::select! {
                biased;
                _ = shutdown.cancelled() => {
                    drop(permit);
                    stop(&channel, tags, &mut merged).await;
                    return SessionEnd::Shutdown;
                }
                item = merged.next() => item,
            };
            match item {
                Some((source, Some(Ok(delivery)))) => {
                    permit.send(Delivery::new(delivery, source, channel.clone()));
                }
                Some((source, Some(Err(e)))) => {
                    return SessionEnd::Lost(format!("{} consumer: {e}", source.as_str()));
                }
                Some((source, None)) => {
                    let source = source.as_str();
                    return SessionEnd::Lost(format!("{source} consumer was cancelled"));
                }
                None => return SessionEnd::Lost("the consumers ended".into()),
            }
        }
    }
}

/// A consumer's deliveries tagged with their source, ending with one `(source, None)`
/// so the session notices when either consumer ends.
fn tagged(source: Source, consumer: lapin::Consumer) -> Tagged {
    Box::pin(
        consumer
            .map(move |d| (source, Some(d)))
            .chain(stream::once(async move { (source, None) })),
    )
}

/// Cancels the consumers and requeues what they prefetched but the worker never got.
async fn stop(channel: &Channel, tags: Vec<ShortString>, merged: &mut stream::SelectAll<Tagged>) {
    for tag in tags {
        let cancel = channel.basic_cancel(tag, BasicCancelOptions::default());
        if let Err(error) = tokio::time::timeout(CANCEL_TIMEOUT, cancel)
            .await
            .unwrap_or(Ok(()))
        {
            tracing::warn!(%error, "amqp basic.cancel failed");
        }
    }
    let mut requeued = 0u32;
    let mut ended = 0;
    while ended < 2 {
        match tokio::time::timeout(Duration::from_millis(500), merged.next()).await {
            Ok(Some((_, Some(Ok(delivery))))) => {
                let nack = BasicNackOptions {
                    multiple: false,
                    requeue: true,
                };
                if delivery.acker.nack(nack).await.is_ok() {
                    requeued += 1;
                }
            }
            Ok(Some((_, None))) => ended += 1,
            Ok(Some((_, Some(Err(_))))) => {}
            Ok(None) | Err(_) => break,
        }
    }
    tracing::info!(requeued, "amqp consumers cancelled");
}
