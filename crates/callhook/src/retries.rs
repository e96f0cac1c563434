//! Manual retries, shared by `POST /v1/retries` and `callhook retry`.
//!
//! A retry is queued as a [`RetryCommand`] on the retries queue (the jobs exchange
//! with the retry routing key) and carried out by a worker, which re-renders the
//! stored job snapshot and records the next attempt with trigger `retry` and the
//! same `webhook-id`. Here, at request time, every candidate is checked so that the
//! answer says at once what will not be retried and why:
//! - an attempt id that is unknown (never recorded, or its index expired);
//! - a job-integration whose latest attempt did not fail (it succeeded, was skipped,
//!   or is a test send, which has no job to re-send);
//! - a job whose snapshot is no longer kept (older than the retention period).
//!
//! Each job-integration pair is queued at most once per request. Two requests sent
//! before the worker ran the first one's retry do both queue it: the worker records
//! both as attempts.
//!
//! A bulk retry scans the agent's log newest first within `since`/`until` (and the
//! integration filter), examining at most [`MAX_BULK_SCAN`] entries — the answer
//! says when that bound cut the scan short — and collects the distinct pairs seen.

use std::collections::HashSet;

use callhook_consumer::{Publisher, Topology};
use callhook_model::{Outcome, Trigger};
use callhook_store::{LogQuery, Store};
use futures_util::{StreamExt as _, stream};
use serde::Serialize;

pub use crate::worker::RetryCommand;

/// The most log entries one bulk retry examines.
pub const MAX_BULK_SCAN: usize = 100_000;
/// The most attempt ids one request may name.
pub const MAX_ATTEMPT_IDS: usize = 1_000;
/// How many pairs are checked and queued concurrently.
const CONCURRENCY: usize = 16;

/// What to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryRequest {
    /// The job-integrations of these attempts.
    Attempts(Vec<String>),
    /// Every pair of the agent, seen in the window, whose latest attempt failed.
    Bulk {
        /// The agent whose log is scanned.
        agent_id: String,
        /// Only this integration.
        integration_id: Option<String>,
        /// Attempts recorded at or after this time (ms since the epoch).
        since_ms: Option<i64>,
        /// Attempts recorded at or before this time (ms since the epoch).
        until_ms: Option<i64>,
    },
}

/// One candidate that was not queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryItemError {
    /// The attempt named in the request, or for a bulk retry the pair's latest attempt.
    pub attempt_id: String,
    /// Why it was not queued.
    pub message: String,
}

/// The answer to a retry request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetryOutcome {
    /// How many retries were queued.
    pub queued: usize,
    /// Names this request; every queued command carries it.
    pub batch_id: String,
    /// The candidates that were not queued, with the reason.
    pub errors: Vec<RetryItemError>,
    /// The queued commands (their `retry_id` becomes the new attempt's id).
    pub retries: Vec<QueuedRetry>,
    /// Bulk only: log entries examined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub examined: Option<usize>,
    /// Bulk only: true when [`MAX_BULK_SCAN`] stopped the scan before the window's end
    /// (send another request with an earlier `until` for the rest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan_limit_reached: Option<bool>,
}

/// One queued retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuedRetry {
    /// The new attempt's id.
    pub attempt_id: String,
    /// The job.
    pub job_id: String,
    /// The integration.
    pub integration_id: String,
    /// The failed attempt being retried.
    pub retries_attempt_id: String,
}

/// A pair to check, and the attempt id to name in its error.
struct Candidate {
    attempt_id: String,
    job_id: String,
    integration_id: String,
}

/// Checks and queues the retries a request asks for. Fails only when Redis cannot
/// be read; per-candidate problems (including a failed publish) are error items.
pub async fn retry(
    store: &Store,
    publisher: &Publisher,
    topology: &Topology,
    request: &RetryRequest,
) -> Result<RetryOutcome, callhook_store::Error> {
    let batch_id = ulid::Ulid::generate().to_string();
    let mut errors = Vec::new();
    let mut candidates = Vec::new();
    let mut examined = None;
    let mut scan_limit_reached = None;
    let mut seen = HashSet::new();
    match request {
        RetryRequest::Attempts(ids) => {
            for id in ids {
                match store.attempt_ref(id).await? {
                    None => errors.push(RetryItemError {
                        attempt_id: id.clone(),
                        message: "unknown attempt id (never recorded, or no longer kept)".into(),
                    }),
                    Some(r) => {
                        if seen.insert((r.job_id.clone(), r.integration_id.clone())) {
                            candidates.push(Candidate {
                                attempt_id: id.clone(),
                                job_id: r.job_id,
                                integration_id: r.integration_id,
                            });
                        } else {
                            errors.push(RetryItemError {
                                attempt_id: id.clone(),
                                message: format!(
                                    "job {} integration {} is already retried by this request",
                                    r.job_id, r.integration_id
                                ),
                            });
                        }
                    }
                }
            }
        }
        RetryRequest::Bulk {
            agent_id,
            integration_id,
            since_ms,
            until_ms,
        } => {
            let (pairs, n, cut) =
                scan_pairs(store, agent_id, integration_id, *since_ms, *until_ms).await?;
            examined = Some(n);
            scan_limit_reached = Some(cut);
            // For a bulk retry only failed pairs are asked for: others are left
            // out silently rather than reported.
            candidates = pairs;
        }
    }
    let bulk = matches!(request, RetryRequest::Bulk { .. });
    let results: Vec<Result<Option<QueuedRetry>, RetryItemError>> = stream::iter(candidates)
        .map(|c| check_and_queue(store, publisher, topology, &batch_id, c, bulk))
        .buffered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, callhook_store::Error>>()?;
    let mut retries = Vec::new();
    for r in results {
        match r {
            Ok(Some(q)) => retries.push(q),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    tracing::info!(
        batch_id = %batch_id,
        queued = retries.len(),
        errors = errors.len(),
        "retries queued"
    );
    Ok(RetryOutcome {
        queued: retries.len(),
        batch_id,
        errors,
        retries,
        examined,
        scan_limit_reached,
    })
}

/// The distinct (job, integration) pairs of the agent's log in the window, newest
/// first, skipping test sends; with the number of entries examined and whether the
/// bound stopped the scan.
async fn scan_pairs(
    store: &Store,
    agent_id: &str,
    integration_id: &Option<String>,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
) -> Result<(Vec<Candidate>, usize, bool), callhook_store::Error> {
    let mut query = LogQuery {
        integration_id: integration_id.clone(),
        since_ms,
        until_ms,
        limit: callhook_store::log::MAX_LIMIT,
        ..LogQuery::default()
    };
    let mut seen = HashSet::new();
    let mut pairs = Vec::new();
    let mut examined = 0;
    loop {
        let page = store.agent_log(agent_id, &query).await?;
        examined += page.examined;
        for rec in page.items {
            if rec.trigger == Trigger::Test {
                continue;
            }
            if seen.insert((rec.job_id.clone(), rec.integration_id.clone())) {
                pairs.push(Candidate {
                    attempt_id: rec.attempt_id,
                    job_id: rec.job_id,
                    integration_id: rec.integration_id,
                });
            }
        }
        match page.next_cursor {
            None => return Ok((pairs, examined, false)),
            Some(_) if examined >= MAX_BULK_SCAN => return Ok((pairs, examined, true)),
            Some(c) => query.cursor = Some(c),
        }
    }
}

/// `Ok(Ok(Some))` queued, `Ok(Ok(None))` left out (bulk, latest did not fail),
/// `Ok(Err)` an error item, `Err` Redis could not be read.
async fn check_and_queue(
    store: &Store,
    publisher: &Publisher,
    topology: &Topology,
    batch_id: &str,
    c: Candidate,
    bulk: bool,
) -> Result<Result<Option<QueuedRetry>, RetryItemError>, callhook_store::Error> {
    let item = |attempt_id: &str, message: String| {
        Ok(Err(RetryItemError {
            attempt_id: attempt_id.into(),
            message,
        }))
    };
    let Some(latest) = store.latest_attempt(&c.job_id, &c.integration_id).await? else {
        return item(
            &c.attempt_id,
            format!(
                "job {} integration {} has no attempt state any more (older than the retention period): it cannot be retried",
                c.job_id, c.integration_id
            ),
        );
    };
    if latest.trigger == Trigger::Test {
        return item(
            &c.attempt_id,
            "a test send cannot be retried: send the test again".into(),
        );
    }
    if latest.outcome != Outcome::Failed {
        if bulk {
            return Ok(Ok(None));
        }
        return item(
            &c.attempt_id,
            format!(
                "the latest attempt of job {} integration {} ({}, attempt {}) {}: only failed deliveries are retried",
                c.job_id,
                c.integration_id,
                latest.attempt_id,
                latest.attempt,
                match latest.outcome {
                    Outcome::Succeeded => "succeeded",
                    _ => "was skipped",
                }
            ),
        );
    }
    // A request by id names its attempt; a bulk one the pair's latest.
    let named = if bulk {
        &latest.attempt_id
    } else {
        &c.attempt_id
    };
    if store.get_job(&c.job_id).await?.is_none() {
        return item(
            named,
            format!(
                "the snapshot of job {} has expired (jobs are kept for the retention period): it cannot be retried",
                c.job_id
            ),
        );
    }
    let command = RetryCommand {
        retry_id: ulid::Ulid::generate().to_string(),
        job_id: c.job_id.clone(),
        integration_id: c.integration_id.clone(),
        batch_id: batch_id.into(),
    };
    let body = match serde_json::to_vec(&command) {
        Ok(b) => b,
        Err(e) => return item(named, format!("could not encode the retry: {e}")),
    };
    if let Err(e) = publisher
        .publish_job(&body, &command.retry_id, &topology.retry_routing_key)
        .await
    {
        return item(named, format!("could not queue the retry: {e}"));
    }
    Ok(Ok(Some(QueuedRetry {
        attempt_id: command.retry_id,
        job_id: c.job_id,
        integration_id: c.integration_id,
        retries_attempt_id: latest.attempt_id,
    })))
}
