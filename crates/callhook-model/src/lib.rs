//! Shared message types of callhook.
//!
//! Every stage speaks these types, and nothing here does I/O:
//! - [`job`]: the job the analysis pipeline enqueues, its call data and its
//!   integrations, parsed and validated by [`Job::from_slice`] with an error per
//!   offending field path ([`JobError`]).
//! - [`request`]: [`RenderedRequest`], what the renderer hands the dispatcher.
//! - [`record`]: [`AttemptRecord`], the record of one delivery attempt (CONTRACT §3).
//! - [`redact`]: which headers carry secrets and how they are shown.
//! - [`secret`]: [`Secret`], a wrapper whose `Debug` and `Display` never print the value.

pub mod job;
mod parse;
pub mod record;
pub mod redact;
pub mod request;
pub mod secret;

pub use job::{
    Body, CallInfo, Integration, Job, JobError, Method, Section, SigningKey, ValidationError,
};
pub use record::{
    AttemptRecord, ErrorKind, ErrorRecord, Outcome, RequestRecord, ResponseRecord, Trigger,
};
pub use request::RenderedRequest;
pub use secret::Secret;
