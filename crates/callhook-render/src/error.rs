//! Why a request could not be rendered.

/// A request that cannot be rendered. In attempt records this is the error kind
/// `invalid_request`; the message names the part of the integration at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The URL, after substitution, is not an absolute http(s) URL.
    #[error("url: {0}")]
    Url(String),
    /// A header name or value is not valid HTTP, or may not be configured.
    #[error("headers.{name}: {message}")]
    Header {
        /// The header as configured.
        name: String,
        /// What is wrong with it.
        message: String,
    },
}

/// Results of this crate.
pub type Result<T, E = RenderError> = std::result::Result<T, E>;
