//! RabbitMQ in and out for callhook (CONTRACT §1 and §3). It knows nothing of HTTP.
//!
//! The parts:
//! - [`config`]: [`AmqpConfig`], the URL, connection name, prefetch, reconnect and
//!   confirm timings, and the message size limit.
//! - [`topology`]: [`Topology`], every exchange and queue name with the contract's
//!   defaults, and its idempotent [`Topology::declare`].
//! - [`consumer`]: [`Consumer`], a supervisor that consumes the jobs and the retries
//!   queues with manual acks and rebuilds connection, channel, topology and consumers
//!   after any loss, with capped, jittered exponential backoff.
//! - [`delivery`]: [`Delivery`], one message with its ack handle and the properties a
//!   worker needs (size, content type, message id, `traceparent`, delivery count).
//! - [`publisher`]: [`Publisher`], publishes results, jobs and dead letters with
//!   publisher confirms, reconnecting and retrying on a fresh channel.
//! - [`error`]: [`Error`], which tells retryable causes from permanent ones.
//!
//! lapin's own auto-recovery is not used (its maintainer does not call it production
//! ready): every connection here is plain, and the supervisor and the publisher rebuild
//! their own. Redeliveries after a reconnect are normal; the worker dedupes them.

mod backoff;
pub mod config;
mod connection;
pub mod consumer;
pub mod delivery;
pub mod error;
pub mod publisher;
pub mod topology;

pub use config::AmqpConfig;
pub use consumer::Consumer;
pub use delivery::{Delivery, Source};
pub use error::{Error, Result};
pub use publisher::Publisher;
pub use topology::Topology;

/// lapin, re-exported for the types that appear in this API (`FieldTable`, ...).
pub use lapin;
