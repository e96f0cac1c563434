//! `POST /v1/integrations/test`: the Test button.
//!
//! Body: `{"integration": {...}, "sample": {...}?, "agent_id": "..."?}`. The
//! integration is validated as in a job (422 with every problem's path, under
//! `integration.`); the sample (see [`crate::testsend::sample_job`]) likewise under
//! `sample.`; `agent_id` puts the record in that agent's log (default: the
//! sample's, `agent_sample` for the built-in one). The sample is sent now, the
//! record (trigger `test`) is stored and published like any other, and answered
//! with 200 whatever the delivery's outcome: the record says how it went.

use axum::Json;
use axum::extract::State;
use callhook_model::{AttemptRecord, Integration};
use serde_json::Value;

use super::ApiState;
use super::error::{ApiError, ApiJson};

/// The handler.
pub async fn test_integration(
    State(state): State<ApiState>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<AttemptRecord>, ApiError> {
    let Value::Object(mut body) = body else {
        return Err(ApiError::field("", "the body must be a JSON object"));
    };
    let Some(integration) = body.remove("integration") else {
        return Err(ApiError::field("integration", "is required"));
    };
    let integration = Integration::from_value(integration)
        .map_err(|e| ApiError::from_job_error("integration", "integration", e))?;
    let sample = match body.remove("sample") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v),
    };
    let mut job = crate::testsend::sample_job(sample)
        .map_err(|e| ApiError::from_job_error("sample", "sample", e))?;
    match body.remove("agent_id") {
        None | Some(Value::Null) => {}
        Some(Value::String(a)) if valid_agent_id(&a) => job.agent_id = a,
        Some(_) => {
            return Err(ApiError::field(
                "agent_id",
                "must be a non-empty string without whitespace, control characters or . * # { }",
            ));
        }
    }
    let record =
        crate::testsend::send_test(&state.dispatcher, &integration, &job, &state.worker_id).await;
    state
        .store
        .record(&record)
        .await
        .map_err(|e| ApiError::store(&e))?;
    if let Err(e) = state.publisher.publish_result(&record).await {
        // Stored, so it is in the log; only live consumers miss it.
        tracing::warn!(attempt_id = %record.attempt_id, error = %e, "test record stored but not published");
    }
    Ok(Json(record))
}

/// The job schema's rule for agent ids (they become routing keys and hash tags).
fn valid_agent_id(a: &str) -> bool {
    !a.is_empty()
        && a.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !".*#{}".contains(c))
}
