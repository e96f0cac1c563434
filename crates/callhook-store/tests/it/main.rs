//! Integration tests of the store against the real Redis (127.0.0.1:6379, or
//! `CALLHOOK_TEST_REDIS_URL`). Every test works under its own unique key prefix and
//! deletes its keys at the end; the outage test runs a private `redis-server`.

#![allow(clippy::unwrap_used, missing_docs)]

mod helpers;
mod log;
mod outage;
mod record;
