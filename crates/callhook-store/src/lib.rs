//! Redis persistence of callhook (CONTRACT §3).
//!
//! The parts:
//! - [`config`]: [`StoreConfig`], the URL, the key prefix, the retention and the caps.
//! - [`keys`]: [`Keys`], every Redis key name, built from the prefix.
//! - [`store`]: [`Store`], a clone-able handle on one `ConnectionManager`: jobs kept for
//!   retries, per-job state, the attempt index and [`Store::record`], which stores an
//!   attempt atomically and idempotently with one Lua script (`record.lua`).
//! - [`log`]: [`LogQuery`] and [`LogPage`], an agent's attempts newest first, with
//!   filters and a cursor, in bounded work per call.
//! - [`error`]: [`Error`], which tells retryable causes (connection, I/O, timeouts)
//!   from permanent ones.

pub mod config;
pub mod error;
pub mod keys;
pub mod log;
pub mod store;

pub use config::StoreConfig;
pub use error::{Error, Result};
pub use keys::Keys;
pub use log::{LogPage, LogQuery};
pub use store::{AttemptRef, RecordOutcome, Store};
