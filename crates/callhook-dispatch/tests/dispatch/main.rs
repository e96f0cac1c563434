//! Integration tests of the dispatcher against real HTTP servers on 127.0.0.1.
//!
//! No test sends traffic anywhere but 127.0.0.0/8 and ::1: blocked ranges other
//! than loopback are only ever refused before connecting, and each test that sends
//! to one first proves that the refusal path is wired (see `policy`).
#![allow(clippy::unwrap_used, missing_docs)]

mod body;
mod caps;
mod outcomes;
mod policy;
mod request;
mod sample;
mod support;
mod tls;
