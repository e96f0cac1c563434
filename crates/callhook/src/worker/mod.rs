//! The worker: RabbitMQ in, HTTP out, Redis and the results exchange for records.
//!
//! [`Worker::run`] starts the [`Consumer`] supervisor, which hands deliveries over a
//! bounded channel; each delivery becomes a task that validates the job, renders and
//! sends every integration concurrently, stores each attempt record in Redis (one
//! atomic Lua call that also marks the integration as attempted), publishes it to the
//! results exchange with confirms, and only then acknowledges the message. Nothing is
//! acknowledged while Redis or the broker is unreachable: the task waits with capped
//! backoff and carries on when the dependency is back.
//!
//! Shutdown (the token passed to `run`): stop consuming, let in-flight jobs finish
//! for the grace period, hand the rest back to the broker unacknowledged, return.

mod attempt;
mod job;
mod retry;
mod wait;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use callhook_consumer::{AmqpConfig, Consumer, Delivery, Publisher, Source, Topology};
use callhook_dispatch::{DispatchConfig, Dispatcher};
use callhook_store::{Store, StoreConfig};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

use crate::config::Config;

pub use attempt::attempt;
pub use retry::RetryCommand;

/// Everything a worker needs, built from [`Config`] without connecting yet.
#[derive(Clone)]
pub struct Worker {
    inner: Arc<Inner>,
}

struct Inner {
    amqp: AmqpConfig,
    topology: Topology,
    store: Store,
    publisher: Publisher,
    dispatcher: Dispatcher,
    worker_id: String,
    max_message_bytes: usize,
    shutdown_grace: Duration,
    jobs_in_flight: AtomicUsize,
    consumer_connected: watch::Sender<bool>,
}

/// The connection settings of a configuration, for the parts that need them alone.
pub fn amqp_config(config: &Config) -> AmqpConfig {
    AmqpConfig {
        url: config.amqp_url.clone(),
        connection_name: format!("callhook-{}", config.worker_id()),
        prefetch: config.prefetch,
        max_message_bytes: config.max_message_bytes,
        ..AmqpConfig::default()
    }
}

/// The Redis settings of a configuration.
pub fn store_config(config: &Config) -> StoreConfig {
    StoreConfig {
        url: config.redis_url.clone(),
        prefix: config.prefix.clone(),
        retention: config.retention(),
        ..StoreConfig::default()
    }
}

/// The HTTP delivery settings of a configuration.
pub fn dispatch_config(config: &Config) -> DispatchConfig {
    DispatchConfig {
        timeout: config.timeout(),
        connect_timeout: config.connect_timeout(),
        max_in_flight: config.max_in_flight,
        max_per_host: config.max_per_host,
        max_queued_per_host: config.max_queued_per_host,
        max_response_body: config.max_response_body,
        allowed_targets: config.allowed_targets.clone(),
        ..DispatchConfig::default()
    }
}

/// The queue and exchange names of a configuration.
pub fn topology(config: &Config) -> Topology {
    if config.prefix == "callhook" {
        Topology::default()
    } else {
        Topology::with_prefix(&config.prefix)
    }
}

impl Worker {
    /// Builds a worker. Nothing connects yet, so a worker starts while RabbitMQ or
    /// Redis is down and becomes ready when they answer.
    pub fn new(config: &Config) -> anyhow::Result<Worker> {
        let amqp = amqp_config(config);
        let topology = topology(config);
        let store = Store::connect_lazy(store_config(config))?;
        let publisher = Publisher::lazy(amqp.clone(), topology.clone())?;
        let dispatcher = Dispatcher::new(dispatch_config(config))?;
        let (consumer_connected, _) = watch::channel(false);
        Ok(Worker {
            inner: Arc::new(Inner {
                amqp,
                topology,
                store,
                publisher,
                dispatcher,
                worker_id: config.worker_id(),
                max_message_bytes: config.max_message_bytes,
                shutdown_grace: config.shutdown_grace(),
                jobs_in_flight: AtomicUsize::new(0),
                consumer_connected,
            }),
        })
    }

    /// The Redis store, for the API and readiness.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The results and jobs publisher.
    pub fn publisher(&self) -> &Publisher {
        &self.inner.publisher
    }

    /// The HTTP dispatcher (the Test route sends through it).
    pub fn dispatcher(&self) -> &Dispatcher {
        &self.inner.dispatcher
    }

    /// The queue and exchange names.
    pub fn topology(&self) -> &Topology {
        &self.inner.topology
    }

    /// This replica's id, as written in records.
    pub fn worker_id(&self) -> &str {
        &self.inner.worker_id
    }

    /// Whether the consumer currently has a live session with the broker.
    pub fn consumer_connected(&self) -> bool {
        *self.inner.consumer_connected.borrow()
    }

    /// Jobs and retry commands being processed now.
    pub fn jobs_in_flight(&self) -> usize {
        self.inner.jobs_in_flight.load(Ordering::Relaxed)
    }

    /// Consumes until `shutdown` fires, then drains as described in the module docs.
    pub async fn run(&self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let inner = &self.inner;
        let consumer = Consumer::new(inner.amqp.clone(), inner.topology.clone())?;
        let mut connected = consumer.connected();
        let mirror = inner.consumer_connected.clone();
        let stop_consuming = CancellationToken::new();
        let (tx, mut rx) = mpsc::channel::<Delivery>(usize::from(inner.amqp.prefetch).max(1));
        let consumer_task = tokio::spawn(consumer.run(tx, stop_consuming.clone()));
        let mirror_task = tokio::spawn(async move {
            loop {
                let up = *connected.borrow_and_update();
                mirror.send_replace(up);
                if connected.changed().await.is_err() {
                    mirror.send_replace(false);
                    return;
                }
            }
        });

        // Fired when the grace period is over: tasks hand their delivery back.
        let abort = CancellationToken::new();
        let tracker = TaskTracker::new();
        tracing::info!(worker_id = %inner.worker_id, queue = %inner.topology.jobs_queue, "worker started");
        loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                next = rx.recv() => match next {
                    Some(delivery) => {
                        let worker = self.clone();
                        let abort = abort.clone();
                        tracker.spawn(async move { worker.handle(delivery, abort).await });
                    }
                    None => break,
                },
            }
        }

        tracing::info!(
            in_flight = self.jobs_in_flight(),
            "shutting down: no new jobs"
        );
        stop_consuming.cancel();
        // Deliveries handed over but not started go straight back to the queue.
        rx.close();
        while let Some(delivery) = rx.recv().await {
            let _ = delivery.nack(true).await;
            metrics::counter!("callhook_jobs_total", "source" => delivery.source().as_str(), "outcome" => "handed_back").increment(1);
        }
        tracker.close();
        if tokio::time::timeout(inner.shutdown_grace, tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                in_flight = self.jobs_in_flight(),
                grace_secs = inner.shutdown_grace.as_secs_f64(),
                "grace period over: handing the remaining jobs back unacknowledged"
            );
            abort.cancel();
            tracker.wait().await;
        }
        match consumer_task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "consumer ended with an error"),
            Err(e) => tracing::warn!(error = %e, "consumer task failed"),
        }
        mirror_task.abort();
        // The mirror may be aborted before it saw the consumer's last `false`.
        inner.consumer_connected.send_replace(false);
        inner.publisher.close().await;
        tracing::info!("worker stopped");
        Ok(())
    }

    async fn handle(&self, delivery: Delivery, abort: CancellationToken) {
        let inner = &self.inner;
        inner.jobs_in_flight.fetch_add(1, Ordering::Relaxed);
        metrics::gauge!("callhook_jobs_in_flight").increment(1.0);
        let source = delivery.source();
        let span = tracing::info_span!(
            "message",
            source = source.as_str(),
            message_id = delivery.message_id().unwrap_or(""),
            redelivered = delivery.redelivered(),
        );
        crate::telemetry::continue_trace(&span, delivery.traceparent());
        let outcome = async {
            tokio::select! {
                outcome = self.process(&delivery, &abort) => outcome,
                _ = abort.cancelled() => None,
            }
        }
        .instrument(span)
        .await;
        let outcome = match outcome {
            Some(outcome) => outcome,
            None => {
                // Shutdown ran out of time (or a dependency never came back while
                // shutting down): the message returns to the queue; whatever was
                // recorded is not sent again.
                let _ = delivery.nack(true).await;
                "handed_back"
            }
        };
        metrics::counter!("callhook_jobs_total", "source" => source.as_str(), "outcome" => outcome)
            .increment(1);
        metrics::gauge!("callhook_jobs_in_flight").decrement(1.0);
        inner.jobs_in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// Processes one message to its end; `None` when it was abandoned.
    async fn process(
        &self,
        delivery: &Delivery,
        abort: &CancellationToken,
    ) -> Option<&'static str> {
        match delivery.source() {
            Source::Jobs => job::process(self, delivery, abort).await,
            Source::Retries => retry::process(self, delivery, abort).await,
        }
    }

    /// Moves a message to the dead-letter queue with its reason, waiting out outages.
    async fn dead_letter(
        &self,
        delivery: &Delivery,
        kind: &str,
        message: &str,
        abort: &CancellationToken,
    ) -> Option<&'static str> {
        tracing::warn!(reason = kind, error = message, "dead-lettering the message");
        metrics::counter!("callhook_dead_letters_total", "reason" => kind.to_string()).increment(1);
        wait::until_ok("dead_letter", abort, || {
            self.inner.publisher.dead_letter(delivery, kind, message)
        })
        .await?;
        Some("dead_lettered")
    }
}
