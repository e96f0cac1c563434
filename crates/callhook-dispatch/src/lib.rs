//! Delivers rendered callhook requests over HTTP and reports each attempt.
//!
//! The dispatcher knows HTTP and nothing of RabbitMQ or Redis. Its parts:
//! - [`dispatcher`]: [`Dispatcher`], one shared reqwest client under a global
//!   in-flight cap and a per-host cap, sending a [`RenderedRequest`] and returning
//!   an [`Attempt`] — it never fails.
//! - [`attempt`]: [`Attempt`] and [`RecordMeta`], joined into an
//!   [`callhook_model::AttemptRecord`] by [`Attempt::into_record`].
//! - [`policy`]: the network policy ([`is_blocked`], [`Policy`]): private, loopback,
//!   link-local and other special ranges refused unless allow-listed.
//! - [`resolve`]: the DNS resolver that applies the policy to the addresses it
//!   hands the connection.
//! - [`mod@sign`]: Standard Webhooks signatures ([`sign()`], [`webhook_id`]).
//! - [`body`]: response bodies kept up to a cap, recorded as text or base64.
//! - `wire`: the checked URL, headers and body of a request, and its signature.
//! - `classify`: which [`callhook_model::ErrorKind`] a transport error is.
//! - `hosts`: the per-host semaphores, in a map that never outgrows the work.
//! - [`config`]: [`DispatchConfig`] and its defaults.
//! - [`error`]: [`Error`], why a dispatcher could not be built.
//!
//! # Decisions
//! - Success is a 2xx whose body was read (up to the cap) within the timeout.
//!   Redirects are not followed: a 3xx is a `status` failure, its `Location`
//!   (redacted) in the message.
//! - The timeout covers the whole attempt from the moment a global permit is held:
//!   waiting for a host slot, connecting, the response headers, the body. Waiting for
//!   the global permit is back-pressure and is not counted. A delivery that gets
//!   its host slot with less than a tenth of its timeout left fails at once as
//!   `timeout` ("never got a slot"): it could only start a request bound to time
//!   out, so the queue of a saturated host drains in bounded time.
//! - Error kinds, and what produces them:
//!
//!   | kind | when |
//!   |---|---|
//!   | `status` | a response with a non-2xx status (3xx included); status and body are recorded |
//!   | `timeout` | no host slot in time ("never got a slot"), the connect timeout (default 5 s), or no response headers within the timeout — the message says which |
//!   | `response_too_slow` | a 2xx whose body did not finish within the timeout (partial body recorded) |
//!   | `connect` | the TCP connection could not be made (refused, unreachable) |
//!   | `dns` | the name did not resolve (the resolver's error, or no address) |
//!   | `tls` | a `rustls::Error` in the chain: untrusted, expired or mismatched certificate, or garbage instead of TLS |
//!   | `blocked` | an IP literal or every resolved address is in a blocked range; the message names the address and the range |
//!   | `protocol` | connected, but the response was not valid HTTP, or the connection closed or was reset before the response (headers or body) was complete |
//!   | `invalid_request` | a URL that is not absolute http(s), an invalid or reserved header (`Host`, `Content-Length`, `Transfer-Encoding`, `Connection`, ...) |
//!
//!   Errors are classified from reqwest's whole source chain (see `classify`);
//!   messages never include reqwest's own `Display`, which prints the URL.
//! - Response bodies: at most `max_response_body` bytes (default 64 KiB) are read;
//!   at the first byte past it reading stops, the response is dropped (closing the
//!   connection instead of draining it) and `body_truncated` is true. The kept bytes
//!   are recorded as text when they are UTF-8 (a character cut in two by the cap is
//!   dropped), otherwise as standard padded base64 with `body_encoding: "base64"`.
//! - Network policy ([`policy`]): checked on IP literals in the URL (after the url
//!   crate normalized `127.1`, `2130706433`, `0x7f000001`) and, for names, inside
//!   the resolver on the very addresses the connection will use. No proxy, no
//!   redirects. `allowed_targets` exempts networks (and their IPv4-mapped forms).
//! - Headers: the configured ones in order, then `User-Agent: callhook/<version>`
//!   unless the integration sets its own (it wins: some receivers filter on it),
//!   then `Content-Type: application/json`, which replaces any configured one; then,
//!   when signed, `webhook-id`, `webhook-timestamp`, `webhook-signature`, replacing
//!   configured headers of those names. Records show these names and values with
//!   secrets redacted ([`callhook_model::redact`]); headers the HTTP stack adds
//!   itself (`Host`, `Content-Length`, `Accept`) are not recorded.
//! - GET and DELETE never carry a body (one in the request is ignored) and sign the
//!   empty string.
//! - A name that resolves to some blocked and some allowed addresses connects only
//!   to the allowed ones; when all are blocked the delivery is `blocked`.
//! - One reqwest client for the dispatcher: connection pooling (idle connections
//!   kept per host up to `max_per_host`), HTTP/1.1, and HTTP/2 when a TLS receiver
//!   offers it by ALPN. reqwest's default retry of HTTP/2 refused streams (requests
//!   the server provably did not process) is kept; nothing else is retried.
//! - The per-host cap is keyed by `host:port` as written in the URL; the map of
//!   per-host semaphores drops a host when its last delivery leaves, so it holds at
//!   most one entry per delivery in flight.

pub mod attempt;
pub mod body;
mod classify;
pub mod config;
pub mod dispatcher;
pub mod error;
mod hosts;
pub mod policy;
pub mod resolve;
pub mod sign;
mod wire;

pub use attempt::{Attempt, RecordMeta};
pub use callhook_model::RenderedRequest;
pub use config::{DispatchConfig, parse_allowed_targets};
pub use dispatcher::{Dispatcher, Signing, USER_AGENT_VALUE};
pub use error::{Error, Result};
pub use policy::{Blocked, Policy, is_blocked};
pub use resolve::{Lookup, LookupFuture, SystemLookup};
pub use sign::{sign, webhook_id};
