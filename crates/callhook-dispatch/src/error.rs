//! Errors of this crate: only building a [`crate::Dispatcher`] can fail.
//!
//! Deliveries never return an error: every problem of a delivery becomes a failed
//! [`crate::Attempt`] with an [`callhook_model::ErrorKind`] (see `classify`).

/// Why a dispatcher could not be built. Both are permanent: fix the configuration.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is out of range; the message names it.
    #[error("invalid dispatch configuration: {0}")]
    Config(String),
    /// The HTTP client could not be built (TLS roots, a bad root certificate...).
    #[error("could not build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
