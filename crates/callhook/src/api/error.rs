//! The API's error answers: always JSON,
//! `{"error": {"message": "...", "errors": [{"path": "...", "message": "..."}]}}`.
//!
//! `errors` lists every field problem of a validation failure (422), each with its
//! path (`integration.method`, `since`); other errors have only `message`. Request
//! bodies that are not JSON, too large (413) or sent without
//! `Content-Type: application/json` (415) are answered the same way by [`ApiJson`].

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use callhook_model::{JobError, ValidationError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

/// One field problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Where, e.g. `integration.url` or `limit`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// An error answer: a status, a message and, for validation, the field problems.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong.
    pub message: String,
    /// Field problems (validation errors only).
    pub errors: Vec<FieldError>,
}

impl ApiError {
    /// An error with a status and a message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            errors: Vec::new(),
        }
    }

    /// A 422 with field problems.
    pub fn invalid(message: impl Into<String>, errors: Vec<FieldError>) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: message.into(),
            errors,
        }
    }

    /// A 422 about one field.
    pub fn field(path: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::invalid(
            format!("{path}: {message}"),
            vec![FieldError {
                path: path.into(),
                message,
            }],
        )
    }

    /// A 422 from a job or integration parse error, its paths under `prefix` (unless
    /// they already start with it).
    pub fn from_job_error(what: &str, prefix: &str, e: JobError) -> Self {
        let errors: Vec<FieldError> = match e {
            JobError::Json(m) => vec![FieldError {
                path: prefix.into(),
                message: m,
            }],
            JobError::Invalid(list) => list
                .into_iter()
                .map(|ValidationError { path, message }| FieldError {
                    path: join_path(prefix, &path),
                    message,
                })
                .collect(),
        };
        let summary = errors
            .iter()
            .map(|e| format!("{}: {}", e.path, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self::invalid(format!("invalid {what}: {summary}"), errors)
    }

    /// A store failure: 503 when it may pass (Redis unreachable), 500 otherwise.
    pub fn store(e: &callhook_store::Error) -> Self {
        tracing::warn!(error = %e, "admin API: Redis call failed");
        if e.is_retryable() {
            Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("Redis is unavailable, try again: {e}"),
            )
        } else {
            Self::new(StatusCode::INTERNAL_SERVER_ERROR, format!("Redis: {e}"))
        }
    }
}

fn join_path(prefix: &str, path: &str) -> String {
    let already = path
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']));
    if already {
        return path.into();
    }
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.into(),
        (false, true) => prefix.into(),
        (false, false) if path.starts_with('[') => format!("{prefix}{path}"),
        (false, false) => format!("{prefix}.{path}"),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"message": self.message});
        if !self.errors.is_empty() {
            error["errors"] = json!(self.errors);
        }
        (self.status, axum::Json(json!({ "error": error }))).into_response()
    }
}

/// `axum::Json` whose rejections are [`ApiError`]s with the same status (400, 413,
/// 415, 422).
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(from_rejection(&rejection)),
        }
    }
}

fn from_rejection(rejection: &JsonRejection) -> ApiError {
    let status = rejection.status();
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "the request body is larger than the {} bytes allowed",
            super::MAX_BODY_BYTES
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "the request body must be JSON with Content-Type: application/json".into()
        }
        _ => rejection.body_text(),
    };
    ApiError::new(status, message)
}
