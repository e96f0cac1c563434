//! The Test button: one sample call sent to one integration now.
//!
//! Both `POST /v1/integrations/test` and `callhook test` go through [`send_test`],
//! which renders the sample for the integration and sends it through the shared
//! attempt path ([`crate::worker::attempt`]), so a test is signed and recorded the
//! way a delivery would be. A test send is what the user asked for: it goes out
//! whatever the sample's `call_status` and the integration's `active` flag say.
//!
//! Every test send gets a job id of its own (`test_<ulid>`) unless the sample names
//! one, so its `webhook-id` differs from earlier tests' and a receiver that
//! deduplicates Standard Webhooks ids does not drop it.

use callhook_dispatch::{Dispatcher, RecordMeta};
use callhook_model::{AttemptRecord, Integration, Job, JobError, Trigger};
use serde_json::Value;

/// The sample call to send: the built-in one for `None`, else a job-shaped object
/// with `call_info` (`call_log_id`, `call_status`) and any of the data sections.
/// In a given sample `job_id` defaults to `test_<ulid>`, `agent_id` to
/// `agent_sample`, and `integrations` are ignored (a whole job works as a sample).
pub fn sample_job(sample: Option<Value>) -> Result<Job, JobError> {
    let Some(value) = sample else {
        let mut job = callhook_render::sample_job();
        job.job_id = fresh_job_id();
        return Ok(job);
    };
    let Value::Object(mut call) = value else {
        return Err(JobError::Invalid(vec![callhook_model::ValidationError {
            path: String::new(),
            message: "a sample must be a JSON object".into(),
        }]));
    };
    call.entry("job_id")
        .or_insert_with(|| fresh_job_id().into());
    call.entry("agent_id")
        .or_insert_with(|| "agent_sample".into());
    call.insert("integrations".into(), Value::Array(Vec::new()));
    Job::from_value(Value::Object(call))
}

fn fresh_job_id() -> String {
    format!("test_{}", ulid::Ulid::generate())
}

/// Sends `sample` to `integration` now and returns the attempt record (trigger
/// `test`, attempt 1). It never fails: a request that cannot be rendered, or a
/// failed delivery, is a failed record saying why.
pub async fn send_test(
    dispatcher: &Dispatcher,
    integration: &Integration,
    sample: &Job,
    worker_id: &str,
) -> AttemptRecord {
    let meta = RecordMeta {
        attempt_id: ulid::Ulid::generate().to_string(),
        job_id: sample.job_id.clone(),
        agent_id: sample.agent_id.clone(),
        call_log_id: sample.call_info.call_log_id.clone(),
        integration_id: integration.id.clone(),
        integration_name: integration.name.clone(),
        trigger: Trigger::Test,
        attempt: 1,
        worker_id: worker_id.into(),
    };
    let span = tracing::info_span!(
        "attempt",
        job_id = %sample.job_id,
        agent_id = %sample.agent_id,
        integration_id = %integration.id,
        attempt_id = %meta.attempt_id,
        trigger = "test",
        attempt = 1,
    );
    let rendered = callhook_render::render_integration(sample, integration);
    tracing::Instrument::instrument(
        crate::worker::attempt(dispatcher, &sample.job_id, integration, rendered, meta),
        span,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn samples_get_defaults_and_a_fresh_job_id() {
        let a = sample_job(None).unwrap();
        let b = sample_job(None).unwrap();
        assert!(a.job_id.starts_with("test_"));
        assert_ne!(a.job_id, b.job_id);
        let given = sample_job(Some(json!({
            "call_info": {"call_log_id": "c1", "call_status": "picked"},
            "integrations": [{"bogus": true}]
        })))
        .unwrap();
        assert_eq!(given.agent_id, "agent_sample");
        assert!(given.integrations.is_empty());
        assert!(sample_job(Some(json!([1]))).is_err());
        match sample_job(Some(json!({"call_info": {}}))) {
            Err(JobError::Invalid(errors)) => {
                assert!(
                    errors.iter().any(|e| e.path.starts_with("call_info")),
                    "{errors:?}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
}
