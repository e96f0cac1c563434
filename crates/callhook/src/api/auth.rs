//! The `API-Token` check of every `/v1` route.
//!
//! The header is compared with every configured token (`CALLHOOK_API_TOKENS`) in
//! constant time (`subtle`), and all of them are compared whatever matched, so the
//! answer's timing tells neither which token nor how much of one matched. Without a
//! valid token: 401. With no token configured the routes are closed: 403, saying so.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use callhook_model::Secret;
use subtle::ConstantTimeEq as _;

use super::error::ApiError;

/// The header the token travels in.
pub const HEADER: &str = "API-Token";

/// The configured tokens.
#[derive(Clone)]
pub struct Tokens(Arc<Vec<Secret<String>>>);

impl Tokens {
    /// Wraps the configured tokens.
    pub fn new(tokens: Vec<Secret<String>>) -> Self {
        Tokens(Arc::new(tokens))
    }

    /// Whether `given` is one of the tokens, compared in constant time.
    pub fn accepts(&self, given: &[u8]) -> bool {
        let mut ok = subtle::Choice::from(0);
        for token in self.0.iter() {
            ok |= token.expose().as_bytes().ct_eq(given);
        }
        bool::from(ok)
    }

    /// Whether any token is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Middleware: lets the request through only with a valid `API-Token`.
pub async fn require_token(State(tokens): State<Tokens>, req: Request, next: Next) -> Response {
    if tokens.is_empty() {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "the admin API is closed: no API tokens are configured (set CALLHOOK_API_TOKENS)",
        )
        .into_response();
    }
    match req.headers().get(HEADER) {
        None => ApiError::new(StatusCode::UNAUTHORIZED, "missing API-Token header").into_response(),
        Some(v) if tokens.accepts(v.as_bytes()) => next.run(req).await,
        Some(_) => ApiError::new(StatusCode::UNAUTHORIZED, "invalid API token").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_configured_tokens_are_accepted() {
        let t = Tokens::new(vec![
            Secret::new("aaaaaaaaaaaaaaaa".into()),
            Secret::new("bbbbbbbbbbbbbbbb".into()),
        ]);
        assert!(t.accepts(b"aaaaaaaaaaaaaaaa"));
        assert!(t.accepts(b"bbbbbbbbbbbbbbbb"));
        assert!(!t.accepts(b"aaaaaaaaaaaaaaa"));
        assert!(!t.accepts(b"aaaaaaaaaaaaaaaaa"));
        assert!(!t.accepts(b""));
        assert!(!Tokens::new(Vec::new()).accepts(b""));
    }
}
