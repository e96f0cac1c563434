//! Which [`ErrorKind`] a reqwest error is, with a message that names the cause.
//!
//! reqwest's own error is a shell around hyper's, hyper-util's, the resolver's,
//! rustls' and the OS's; the kind is read from the whole source chain, most specific
//! first:
//!
//! | found in the chain | kind |
//! |---|---|
//! | [`ResolveError::Blocked`] (our resolver refused every address) | `blocked` |
//! | [`ResolveError::NotFound`] (the name did not resolve) | `dns` |
//! | a `rustls::Error` (bad, expired or self-signed certificate, garbage instead of TLS) | `tls` |
//! | a timeout (reqwest's connect timeout, an OS `TimedOut`) | `timeout` |
//! | a connect error from hyper-util (refused, unreachable) | `connect` |
//! | a reqwest builder error | `invalid_request` |
//! | anything else once connected: invalid HTTP, closed or reset before the response was complete | `protocol` |
//!
//! Messages come from the chain, never from reqwest's top-level `Display`, which
//! prints the URL and with it any secret in the query.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use callhook_model::{ErrorKind, ErrorRecord};

use crate::resolve::ResolveError;

/// Every error in `err`'s chain, looking inside `io::Error`s (whose `source` skips
/// the error they wrap).
fn chain<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        if out.len() >= 32 {
            break;
        }
        out.push(e);
        next = match e.downcast_ref::<io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    out
}

/// The chain's messages joined by `: `, skipping the generic top level and repeats.
fn describe(errors: &[&(dyn StdError + 'static)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in errors.iter().skip(1) {
        let text = e.to_string();
        // hyper-util's "client error (Connect)" and the like say nothing new.
        if text.is_empty()
            || text.starts_with("client error (")
            || parts.last().is_some_and(|p| p.contains(&text))
        {
            continue;
        }
        parts.push(text);
    }
    if parts.is_empty() {
        // Only reqwest's own error: its Display, minus any URL, is all there is.
        return errors
            .first()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .split(" for url (")
            .next()
            .unwrap_or_default()
            .to_string();
    }
    parts.join(": ")
}

/// The record of a reqwest error met while sending to `target` (`host:port`).
///
/// `body_phase` is true when the response headers had already arrived.
pub(crate) fn classify(
    err: &reqwest::Error,
    target: &str,
    connect_timeout: Duration,
    body_phase: bool,
) -> ErrorRecord {
    let errors = chain(err);
    let detail = describe(&errors);
    let record = |kind, message: String| ErrorRecord { kind, message };

    for e in &errors {
        if let Some(resolve) = e.downcast_ref::<ResolveError>() {
            return match resolve {
                ResolveError::Blocked { .. } => record(ErrorKind::Blocked, resolve.to_string()),
                ResolveError::NotFound { .. } => record(ErrorKind::Dns, resolve.to_string()),
            };
        }
    }
    if let Some(tls) = errors
        .iter()
        .find_map(|e| e.downcast_ref::<rustls::Error>())
    {
        return record(ErrorKind::Tls, format!("TLS with {target} failed: {tls}"));
    }
    if err.is_timeout() {
        let message = if err.is_connect() {
            format!(
                "connecting to {target} timed out after {}",
                crate::dispatcher::human(connect_timeout)
            )
        } else {
            format!("timed out talking to {target}: {detail}")
        };
        return record(ErrorKind::Timeout, message);
    }
    if err.is_connect() {
        return record(
            ErrorKind::Connect,
            format!("could not connect to {target}: {detail}"),
        );
    }
    if err.is_builder() {
        return record(
            ErrorKind::InvalidRequest,
            format!("the request could not be built: {detail}"),
        );
    }
    let when = if body_phase {
        "while reading the response body"
    } else {
        "before a complete response"
    };
    let what = match errors.iter().find_map(|e| e.downcast_ref::<hyper::Error>()) {
        Some(h) if h.is_parse() || h.is_parse_status() || h.is_parse_too_large() => "invalid HTTP",
        Some(h) if h.is_incomplete_message() => "the connection closed",
        _ => match errors
            .iter()
            .find_map(|e| e.downcast_ref::<io::Error>())
            .map(io::Error::kind)
        {
            Some(
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe,
            ) => "the connection was reset",
            Some(io::ErrorKind::UnexpectedEof) => "the connection closed",
            _ => "the exchange failed",
        },
    };
    record(
        ErrorKind::Protocol,
        format!("{what} {when} from {target}: {detail}"),
    )
}
