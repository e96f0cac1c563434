//! The rendered request: what the renderer produces and the dispatcher sends.

use bytes::Bytes;

use crate::job::Method;

/// One HTTP request, fully rendered and validated, ready to send.
///
/// The URL is an absolute `http` or `https` URL; header names and values are valid
/// HTTP tokens; `body` is `None` for GET and DELETE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedRequest {
    /// The HTTP method.
    pub method: Method,
    /// The final URL, placeholders substituted and normalized.
    pub url: String,
    /// Headers in the order they are sent, names as configured.
    pub headers: Vec<(String, String)>,
    /// The JSON body bytes, absent for GET and DELETE.
    pub body: Option<Bytes>,
}

/// Headers that frame the message or belong to the connection, set by the HTTP
/// client itself: configuring one could desynchronize the connection or misroute the
/// request, so an integration that sets one cannot be rendered (`invalid_request`).
/// Lower case.
pub const RESERVED_HEADERS: [&str; 9] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
];

/// Whether a header name is one of [`RESERVED_HEADERS`], ignoring case.
pub fn is_reserved_header(name: &str) -> bool {
    RESERVED_HEADERS
        .iter()
        .any(|r| name.eq_ignore_ascii_case(r))
}
