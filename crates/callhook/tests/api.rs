//! The admin API (issue #5) against a running worker with the real RabbitMQ
//! (127.0.0.1:5672, or `CALLHOOK_TEST_AMQP_URL`) and Redis (127.0.0.1:6379, or
//! `CALLHOOK_TEST_REDIS_URL`). Every test has its own prefix `a<ulid>` for queues,
//! exchanges and keys, an HTTP receiver and the API on 127.0.0.1:0, and waits for
//! conditions with deadlines.
//!
//! One global tracing subscriber serves the whole binary: it writes every log line
//! (callhook crates at debug) to a buffer the secret check reads, and exports spans
//! to an in-memory exporter the trace test reads.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "api/helpers.rs"]
mod helpers;
#[path = "api/receiver.rs"]
mod receiver;

#[path = "api/auth.rs"]
mod auth;
#[path = "api/cli.rs"]
mod cli;
#[path = "api/logs.rs"]
mod logs;
#[path = "api/openapi.rs"]
mod openapi;
#[path = "api/retries.rs"]
mod retries;
#[path = "api/secrets.rs"]
mod secrets;
#[path = "api/telemetry.rs"]
mod telemetry;
#[path = "api/test_route.rs"]
mod test_route;
