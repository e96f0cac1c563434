//! One retry command: re-render a failed job-integration from the stored snapshot,
//! send it again with the same `webhook-id`, and record it as the next attempt.

use callhook_consumer::Delivery;
use callhook_dispatch::RecordMeta;
use callhook_model::{Job, Trigger};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use super::{Worker, job::store_and_publish, wait};

/// The body of a message on the retries queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryCommand {
    /// Becomes the new attempt's `attempt_id`, so a redelivered command is done once.
    pub retry_id: String,
    /// The job to retry.
    pub job_id: String,
    /// Its integration to send again.
    pub integration_id: String,
    /// The request that asked for it (one bulk request, or one single retry).
    pub batch_id: String,
}

pub(super) async fn process(
    worker: &Worker,
    delivery: &Delivery,
    abort: &CancellationToken,
) -> Option<&'static str> {
    let inner = &worker.inner;
    if let Some((kind, message)) = super::job::check_envelope(delivery, inner.max_message_bytes) {
        return worker.dead_letter(delivery, kind, &message, abort).await;
    }
    let command: RetryCommand = match serde_json::from_slice(delivery.body()) {
        Ok(c) => c,
        Err(e) => {
            return worker
                .dead_letter(
                    delivery,
                    "invalid_retry",
                    &format!("not a retry command: {e}"),
                    abort,
                )
                .await;
        }
    };
    let span = tracing::info_span!("retry", job_id = %command.job_id, integration_id = %command.integration_id, batch_id = %command.batch_id, attempt_id = %command.retry_id);
    async {
        let Some(raw) = wait::until_ok("get_job", abort, || inner.store.get_job(&command.job_id)).await? else {
            return worker
                .dead_letter(delivery, "snapshot_expired", &format!("job {} is no longer kept; it cannot be retried", command.job_id), abort)
                .await;
        };
        let job = match Job::from_slice(&raw) {
            Ok(job) => job,
            Err(e) => return worker.dead_letter(delivery, e.kind(), &e.to_string(), abort).await,
        };
        let Some(integration) = job.integrations.iter().find(|i| i.id == command.integration_id) else {
            return worker
                .dead_letter(delivery, "unknown_integration", &format!("job {} has no integration {:?}", job.job_id, command.integration_id), abort)
                .await;
        };
        let state = wait::until_ok("job_state", abort, || inner.store.job_state(&job.job_id)).await?;
        let latest = state.get(&integration.id);
        if let Some(latest) = latest.filter(|r| r.attempt_id == command.retry_id) {
            // This command was carried out before the message came back.
            wait::until_ok("publish_result", abort, || inner.publisher.publish_result(latest)).await?;
        } else {
            let attempt = latest.map_or(1, |r| r.attempt.saturating_add(1));
            let meta = RecordMeta {
                attempt_id: command.retry_id.clone(),
                job_id: job.job_id.clone(),
                agent_id: job.agent_id.clone(),
                call_log_id: job.call_info.call_log_id.clone(),
                integration_id: integration.id.clone(),
                integration_name: integration.name.clone(),
                trigger: Trigger::Retry,
                attempt,
                worker_id: inner.worker_id.clone(),
            };
            let rendered = callhook_render::render_integration(&job, integration);
            let record = super::attempt(&inner.dispatcher, &job.job_id, integration, rendered, meta).await;
            store_and_publish(worker, record, abort).await?;
        }
        if let Err(e) = delivery.ack().await {
            tracing::warn!(error = %e, "ack failed; the retry will be redelivered and deduplicated");
        }
        Some("processed")
    }
    .instrument(span)
    .await
}
