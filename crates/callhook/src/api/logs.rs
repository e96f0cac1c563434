//! `GET /v1/agents/{agent_id}/logs`: an agent's attempt records, newest first.
//!
//! Query: `integration_id`, `outcome` (`succeeded`, `failed`, `skipped`), `since` and
//! `until` (RFC 3339, inclusive, compared with the time the record was stored),
//! `limit` (1–500, default 50) and `cursor` (the previous page's `next_cursor`,
//! opaque). Answer: `{"items": [records], "next_cursor": "…" | null}`. A page may
//! hold fewer than `limit` items while `next_cursor` is set: each call examines a
//! bounded number of entries (see `callhook_store::log`), so keep following the
//! cursor until it is null. Invalid parameters: 422 with the parameter as path.

use axum::Json;
use axum::extract::{Path, Query, State};
use callhook_model::{AttemptRecord, Outcome};
use callhook_store::LogQuery;
use serde::{Deserialize, Serialize};

use super::ApiState;
use super::error::ApiError;

/// The default page size.
pub const DEFAULT_LIMIT: usize = 50;
/// The largest page.
pub const MAX_LIMIT: usize = 500;

/// The query string, every value as text so each problem names its parameter.
#[derive(Debug, Default, Deserialize)]
pub struct LogParams {
    /// Only this integration.
    pub integration_id: Option<String>,
    /// Only this outcome.
    pub outcome: Option<String>,
    /// RFC 3339 lower bound.
    pub since: Option<String>,
    /// RFC 3339 upper bound.
    pub until: Option<String>,
    /// Page size.
    pub limit: Option<String>,
    /// Continue after the previous page.
    pub cursor: Option<String>,
}

/// One page.
#[derive(Debug, Serialize)]
pub struct LogsResponse {
    /// Records, newest first.
    pub items: Vec<AttemptRecord>,
    /// Pass as `cursor` for the next page; null at the end.
    pub next_cursor: Option<String>,
}

/// Parses an outcome name.
pub fn parse_outcome(s: &str) -> Option<Outcome> {
    match s {
        "succeeded" => Some(Outcome::Succeeded),
        "failed" => Some(Outcome::Failed),
        "skipped" => Some(Outcome::Skipped),
        _ => None,
    }
}

/// Parses an optional RFC 3339 time, naming `field` when it is not one.
pub fn parse_time(field: &str, value: Option<&str>) -> Result<Option<i64>, ApiError> {
    value
        .filter(|s| !s.is_empty())
        .map(|s| {
            callhook_model::record::parse_timestamp_ms(s).ok_or_else(|| {
                ApiError::field(
                    field,
                    format!("{s:?} is not an RFC 3339 time such as 2026-12-03T09:00:00Z"),
                )
            })
        })
        .transpose()
}

impl LogParams {
    /// The store query these parameters ask for.
    pub fn to_query(&self) -> Result<LogQuery, ApiError> {
        let outcome = match self.outcome.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(parse_outcome(s).ok_or_else(|| {
                ApiError::field(
                    "outcome",
                    format!("expected one of succeeded, failed, skipped, got {s:?}"),
                )
            })?),
        };
        let limit = match self.limit.as_deref() {
            None | Some("") => DEFAULT_LIMIT,
            Some(s) => match s.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    return Err(ApiError::field(
                        "limit",
                        format!("expected a whole number from 1 to {MAX_LIMIT}, got {s:?}"),
                    ));
                }
            },
        };
        Ok(LogQuery {
            integration_id: self.integration_id.clone().filter(|s| !s.is_empty()),
            outcome,
            since_ms: parse_time("since", self.since.as_deref())?,
            until_ms: parse_time("until", self.until.as_deref())?,
            limit,
            cursor: self.cursor.clone().filter(|s| !s.is_empty()),
        })
    }
}

/// The handler.
pub async fn agent_logs(
    State(state): State<ApiState>,
    Path(agent_id): Path<String>,
    params: Result<Query<LogParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<LogsResponse>, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::field("", e.body_text()))?;
    let query = params.to_query()?;
    let page = state
        .store
        .agent_log(&agent_id, &query)
        .await
        .map_err(|e| match e {
            callhook_store::Error::InvalidCursor(_) => {
                ApiError::field("cursor", "not a cursor this API handed out")
            }
            e => ApiError::store(&e),
        })?;
    Ok(Json(LogsResponse {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}
