//! One job message: check, deliver every active integration, record, acknowledge.

use std::collections::HashMap;
use std::time::Instant;

use callhook_consumer::Delivery;
use callhook_dispatch::RecordMeta;
use callhook_model::{AttemptRecord, ErrorKind, ErrorRecord, Job, Outcome, Trigger};
use callhook_render::{IntegrationRender, Rendered, render_job};
use callhook_store::RecordOutcome;
use futures_util::future::join_all;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use super::{Worker, wait};

/// Why a message is refused before its body is read as a job, if it is.
pub(super) fn check_envelope(
    delivery: &Delivery,
    max_bytes: usize,
) -> Option<(&'static str, String)> {
    if delivery.body_len() > max_bytes {
        return Some((
            "too_large",
            format!(
                "the message is {} bytes, more than the {max_bytes} allowed",
                delivery.body_len()
            ),
        ));
    }
    match delivery.content_type() {
        None => None,
        Some(ct)
            if ct
                .split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")) =>
        {
            None
        }
        Some(ct) => Some((
            "unsupported_content_type",
            format!("content type {ct:?} is not application/json"),
        )),
    }
}

pub(super) async fn process(
    worker: &Worker,
    delivery: &Delivery,
    abort: &CancellationToken,
) -> Option<&'static str> {
    let inner = &worker.inner;
    if let Some((kind, message)) = check_envelope(delivery, inner.max_message_bytes) {
        return worker.dead_letter(delivery, kind, &message, abort).await;
    }
    let job = match Job::from_slice(delivery.body()) {
        Ok(job) => job,
        Err(e) => {
            return worker
                .dead_letter(delivery, e.kind(), &e.to_string(), abort)
                .await;
        }
    };
    let span = tracing::info_span!("job", job_id = %job.job_id, agent_id = %job.agent_id, call_log_id = %job.call_info.call_log_id);
    async {
        let started = Instant::now();
        let renders = render_job(&job);
        let active: Vec<IntegrationRender<'_>> = renders
            .into_iter()
            .filter(|r| r.integration.active)
            .collect();
        let skipped = job.skip_reason().is_some();

        // What an earlier, interrupted processing of this job already recorded; a job
        // that fires is also kept, so failed deliveries can be retried by hand.
        let state = if active.is_empty() {
            HashMap::new()
        } else if skipped {
            wait::until_ok("job_state", abort, || inner.store.job_state(&job.job_id)).await?
        } else {
            wait::until_ok("put_job", abort, || {
                inner.store.put_job_and_state(&job.job_id, delivery.body())
            })
            .await?
        };

        let results = join_all(active.into_iter().map(|r| {
            let existing = state
                .get(&r.integration.id)
                .filter(|rec| rec.trigger != Trigger::Test);
            deliver_one(worker, &job, r, existing, abort)
        }))
        .await;
        if results.iter().any(Option::is_none) {
            return None;
        }
        match delivery.ack().await {
            Ok(()) => {}
            // Everything is recorded: a redelivery will send nothing again.
            Err(e) => tracing::warn!(error = %e, "ack failed; the job will be redelivered and deduplicated"),
        }
        tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "job done");
        Some(if skipped { "skipped" } else { "processed" })
    }
    .instrument(span)
    .await
}

/// Delivers (or skips) one integration and stores its record. `None` if abandoned.
async fn deliver_one(
    worker: &Worker,
    job: &Job,
    render: IntegrationRender<'_>,
    existing: Option<&AttemptRecord>,
    abort: &CancellationToken,
) -> Option<()> {
    let inner = &worker.inner;
    let integration = render.integration;
    if let Some(record) = existing {
        // Attempted before this message came back: don't send again, but make sure
        // log consumers have the record (they deduplicate by attempt_id).
        tracing::info!(integration_id = %integration.id, attempt_id = %record.attempt_id, "already recorded; not sending again");
        return publish(worker, record, abort).await;
    }
    let meta = RecordMeta {
        attempt_id: ulid::Ulid::generate().to_string(),
        job_id: job.job_id.clone(),
        agent_id: job.agent_id.clone(),
        call_log_id: job.call_info.call_log_id.clone(),
        integration_id: integration.id.clone(),
        integration_name: integration.name.clone(),
        trigger: Trigger::Delivery,
        attempt: 1,
        worker_id: inner.worker_id.clone(),
    };
    let span = tracing::info_span!("attempt", integration_id = %integration.id, attempt_id = %meta.attempt_id, trigger = "delivery", attempt = 1);
    let record = async {
        match render.rendered {
            Rendered::Skipped(reason) => {
                let kind = reason.error_kind().unwrap_or(ErrorKind::NotPicked);
                meta.unsent_record(
                    Outcome::Skipped,
                    ErrorRecord {
                        kind,
                        message: reason.message().into(),
                    },
                )
            }
            Rendered::Invalid(e) => {
                super::attempt(&inner.dispatcher, &job.job_id, integration, Err(e), meta).await
            }
            Rendered::Ready(request) => {
                super::attempt(
                    &inner.dispatcher,
                    &job.job_id,
                    integration,
                    Ok(request),
                    meta,
                )
                .await
            }
        }
    }
    .instrument(span.clone())
    .await;
    store_and_publish(worker, record, abort)
        .instrument(span)
        .await
}

/// Stores a record (waiting out Redis outages), then publishes it.
pub(super) async fn store_and_publish(
    worker: &Worker,
    record: AttemptRecord,
    abort: &CancellationToken,
) -> Option<()> {
    let inner = &worker.inner;
    let stored = wait::until_ok("record", abort, || inner.store.record(&record)).await?;
    let record = match stored {
        RecordOutcome::Stored { .. } => record,
        RecordOutcome::AlreadyRecorded(existing) => {
            // Another worker got this integration first (the job was redelivered
            // while we were sending). Ours is not recorded; theirs stands.
            tracing::warn!(attempt_id = %existing.attempt_id, "another worker recorded this integration first");
            *existing
        }
    };
    let error_kind = record.error.as_ref().map_or("none", |e| e.kind.as_str());
    metrics::counter!(
        "callhook_attempts_total",
        "trigger" => trigger_str(record.trigger),
        "outcome" => record.outcome.as_str(),
        "error_kind" => error_kind
    )
    .increment(1);
    // Failures are worth a line at the default level; successes only when debugging
    // (the record itself is the log of every attempt).
    let status = record.response.as_ref().map(|r| r.status);
    if record.outcome == Outcome::Failed {
        tracing::info!(
            outcome = "failed",
            error_kind,
            status,
            duration_ms = record.duration_ms,
            "attempt recorded"
        );
    } else {
        tracing::debug!(
            outcome = record.outcome.as_str(),
            error_kind,
            status,
            duration_ms = record.duration_ms,
            "attempt recorded"
        );
    }
    publish(worker, &record, abort).await
}

async fn publish(worker: &Worker, record: &AttemptRecord, abort: &CancellationToken) -> Option<()> {
    wait::until_ok("publish_result", abort, || {
        worker.inner.publisher.publish_result(record)
    })
    .await
}

fn trigger_str(t: Trigger) -> &'static str {
    match t {
        Trigger::Delivery => "delivery",
        Trigger::Retry => "retry",
        Trigger::Test => "test",
    }
}
