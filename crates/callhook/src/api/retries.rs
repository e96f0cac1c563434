//! `POST /v1/retries`: queue manual retries (the logic is [`crate::retries`]).
//!
//! Body: `{"attempt_ids": ["...", ...]}` (1 to 1000 ids), or
//! `{"agent_id": "...", "integration_id": "..."?, "since": "..."?, "until": "..."?}`
//! for every job-integration pair of the agent seen in the window whose latest
//! attempt failed. Not both. Answer 202:
//! `{"queued": N, "batch_id": "…", "errors": [{"attempt_id": "…", "message": "…"}],
//! "retries": [{"attempt_id", "job_id", "integration_id", "retries_attempt_id"}]}`,
//! plus `examined` and `scan_limit_reached` for a bulk retry.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;

use super::ApiState;
use super::error::{ApiError, ApiJson};
use super::logs::parse_time;
use crate::retries::{MAX_ATTEMPT_IDS, RetryOutcome, RetryRequest};

/// The handler.
pub async fn queue_retries(
    State(state): State<ApiState>,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<RetryOutcome>), ApiError> {
    let request = parse_request(body)?;
    let outcome = crate::retries::retry(&state.store, &state.publisher, &state.topology, &request)
        .await
        .map_err(|e| ApiError::store(&e))?;
    Ok((StatusCode::ACCEPTED, Json(outcome)))
}

fn string_field(
    body: &serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<String>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::field(name, "must be a non-empty string")),
    }
}

/// Reads the body into a [`RetryRequest`], naming each field that is wrong.
pub fn parse_request(body: Value) -> Result<RetryRequest, ApiError> {
    let Value::Object(body) = body else {
        return Err(ApiError::field("", "the body must be a JSON object"));
    };
    if let Some(unknown) = body.keys().find(|k| {
        ![
            "attempt_ids",
            "agent_id",
            "integration_id",
            "since",
            "until",
        ]
        .contains(&k.as_str())
    }) {
        return Err(ApiError::field(unknown, "unknown field"));
    }
    let agent_id = string_field(&body, "agent_id")?;
    match (body.get("attempt_ids"), agent_id) {
        (Some(_), Some(_)) => Err(ApiError::field(
            "attempt_ids",
            "give either attempt_ids or agent_id, not both",
        )),
        (None, None) => Err(ApiError::field(
            "attempt_ids",
            "give attempt_ids, or agent_id for a bulk retry",
        )),
        (Some(ids), None) => {
            for name in ["integration_id", "since", "until"] {
                if body.contains_key(name) {
                    return Err(ApiError::field(
                        name,
                        "only a bulk retry (by agent_id) takes this filter",
                    ));
                }
            }
            let Value::Array(ids) = ids else {
                return Err(ApiError::field(
                    "attempt_ids",
                    "must be an array of attempt ids",
                ));
            };
            if ids.is_empty() || ids.len() > MAX_ATTEMPT_IDS {
                return Err(ApiError::field(
                    "attempt_ids",
                    format!("must hold 1 to {MAX_ATTEMPT_IDS} attempt ids"),
                ));
            }
            let mut out = Vec::with_capacity(ids.len());
            let mut errors = Vec::new();
            for (i, id) in ids.iter().enumerate() {
                match id {
                    Value::String(s) if !s.is_empty() => out.push(s.clone()),
                    _ => errors.push(super::FieldError {
                        path: format!("attempt_ids[{i}]"),
                        message: "must be a non-empty string".into(),
                    }),
                }
            }
            if errors.is_empty() {
                Ok(RetryRequest::Attempts(out))
            } else {
                Err(ApiError::invalid("invalid attempt_ids", errors))
            }
        }
        (None, Some(agent_id)) => {
            let since = string_field(&body, "since")?;
            let until = string_field(&body, "until")?;
            Ok(RetryRequest::Bulk {
                agent_id,
                integration_id: string_field(&body, "integration_id")?,
                since_ms: parse_time("since", since.as_deref())?,
                until_ms: parse_time("until", until.as_deref())?,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path_of(body: Value) -> String {
        parse_request(body).unwrap_err().errors[0].path.clone()
    }

    #[test]
    fn requests_are_one_kind_or_the_other() {
        assert_eq!(
            parse_request(json!({"attempt_ids": ["a", "b"]})).unwrap(),
            RetryRequest::Attempts(vec!["a".into(), "b".into()])
        );
        assert!(matches!(
            parse_request(json!({"agent_id": "ag", "since": "2026-12-03T09:00:00Z"})).unwrap(),
            RetryRequest::Bulk {
                since_ms: Some(_),
                until_ms: None,
                ..
            }
        ));
        assert_eq!(path_of(json!({})), "attempt_ids");
        assert_eq!(
            path_of(json!({"attempt_ids": ["a"], "agent_id": "x"})),
            "attempt_ids"
        );
        assert_eq!(path_of(json!({"attempt_ids": ["a", 3]})), "attempt_ids[1]");
        assert_eq!(
            path_of(json!({"agent_id": "x", "since": "yesterday"})),
            "since"
        );
        assert_eq!(
            path_of(json!({"attempt_ids": ["a"], "since": "x"})),
            "since"
        );
        assert_eq!(path_of(json!({"agent": "x"})), "agent");
    }
}
