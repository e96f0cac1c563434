//! One attempt: a rendered request (or why there is none) sent and turned into its
//! record. Deliveries, retries and the Test button all go through [`attempt`].

use callhook_dispatch::{Dispatcher, RecordMeta, Signing, webhook_id};
use callhook_model::{
    AttemptRecord, ErrorKind, ErrorRecord, Integration, Outcome, RenderedRequest,
};
use callhook_render::RenderError;

/// Sends `rendered` for `integration` of job `job_id` (signed when the integration
/// has a secret, with the job-integration's stable `webhook-id`) and returns the
/// record. A request that could not be rendered becomes a failed `invalid_request`
/// record without sending anything.
pub async fn attempt(
    dispatcher: &Dispatcher,
    job_id: &str,
    integration: &Integration,
    rendered: Result<RenderedRequest, RenderError>,
    meta: RecordMeta,
) -> AttemptRecord {
    let request = match rendered {
        Ok(request) => request,
        Err(e) => {
            return meta.unsent_record(
                Outcome::Failed,
                ErrorRecord {
                    kind: ErrorKind::InvalidRequest,
                    message: e.to_string(),
                },
            );
        }
    };
    let id = webhook_id(job_id, &integration.id);
    let signing = integration.signing_secret.as_ref().map(|key| Signing {
        key,
        webhook_id: &id,
    });
    let sent = dispatcher.send(&request, signing).await;
    metrics::histogram!("callhook_delivery_duration_seconds", "outcome" => sent.outcome.as_str())
        .record(sent.duration.as_secs_f64());
    sent.into_record(meta)
}
