//! Integration tests of the consumer crate against the real RabbitMQ (127.0.0.1:5672,
//! or `CALLHOOK_TEST_AMQP_URL`). Every test declares its own topology under a unique
//! prefix, names its connections uniquely, and deletes the topology at the end.
//! `rabbitmqctl` (run as root) inspects arguments and closes connections.

#![allow(clippy::unwrap_used, missing_docs)]

mod consume;
mod helpers;
mod publish;
mod reconnect;
mod topology;
