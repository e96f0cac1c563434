//! The worker against the real RabbitMQ (127.0.0.1:5672, or `CALLHOOK_TEST_AMQP_URL`)
//! and Redis (127.0.0.1:6379, or `CALLHOOK_TEST_REDIS_URL`): issue #4's "what it must
//! show". Every test gets its own prefix `t<ulid>` for queues, exchanges and keys
//! (`spawn_app`), an HTTP receiver on 127.0.0.1:0, and cleans up after itself, so the
//! tests run in parallel beside the rest of the workspace's. They wait for conditions
//! with deadlines, never for fixed sleeps.
//!
//! `rabbitmqctl` (run as root) counts unacknowledged messages and closes connections;
//! `redis-server` runs private instances for the outage tests; the crash test runs the
//! real binary. `CALLHOOK_TEST_CHILD_LOG=<filter>` shows the binary's logs, and
//! `RUST_LOG` the in-process workers' (on failure).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "worker/broker.rs"]
mod broker;
#[path = "worker/helpers.rs"]
mod helpers;
#[path = "worker/receiver.rs"]
mod receiver;
#[path = "worker/redis_server.rs"]
mod redis_server;
#[path = "worker/workers.rs"]
mod workers;

#[path = "worker/crash.rs"]
mod crash;
#[path = "worker/delivery.rs"]
mod delivery;
#[path = "worker/ops.rs"]
mod ops;
#[path = "worker/outage.rs"]
mod outage;
#[path = "worker/retry.rs"]
mod retry;
#[path = "worker/scale.rs"]
mod scale;
#[path = "worker/shutdown.rs"]
mod shutdown;
