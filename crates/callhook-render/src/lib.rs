//! Renders one HTTP request per active integration of a callhook job.
//!
//! Pure and synchronous: no I/O, no async runtime, no clock. The parts:
//! - [`render`]: the product rules of CONTRACT §2 — which integrations fire, and
//!   [`render_job`] / [`render_integration`] producing a [`RenderedRequest`].
//! - [`template`]: Custom Template bodies, compiled once into a [`Template`] plan of
//!   pre-serialized JSON chunks and expressions, then rendered straight to bytes.
//! - [`expr`]: `{{expression}}` parsing and resolution against a job's data.
//! - `auto`: the flat Auto body from the enabled sections.
//! - `url`: URL placeholders from `call_trigger_data`, percent-encoded.
//! - `headers`: header validation and the forced `Content-Type`.
//! - [`sample`]: the built-in sample call the Test button sends.
//! - [`error`]: [`RenderError`], why a request could not be rendered.
//!
//! # Template decisions
//! - Whitespace inside the braces is ignored: `{{ data_capture.name }}`.
//! - Text that is not a well-formed placeholder stays literal: `{{ unclosed`, `}}`,
//!   `{{}}`, `{{ not an expression! }}`. Only `{{source}}` or `{{source.path}}`, where
//!   `source` is an identifier, is a placeholder.
//! - Placeholders in object keys are not substituted; keys are always literal.
//! - An unknown source (`{{foo.bar}}`) never resolves, so it renders as null like
//!   any unresolved expression; [`Template::warnings`] lists it so `callhook render`
//!   can point it out.
//! - A path segment is looked up as written; when an object has no such key, the
//!   segment joined by dots with the following ones is tried, longest first, so a key
//!   with dots in it (`{{data_capture.order.id}}` for a label `order.id`) resolves.
//!   Numeric segments index arrays.

pub mod error;
pub mod expr;
pub mod render;
pub mod sample;
pub mod template;

mod auto;
mod headers;
mod json;
mod url;

pub use callhook_model::RenderedRequest;
pub use error::RenderError;
pub use render::{IntegrationRender, Rendered, SkipReason, render_integration, render_job};
pub use sample::sample_job;
pub use template::Template;
