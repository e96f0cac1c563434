//! A job published with a W3C `traceparent` is processed in that trace: the
//! `message` span's parent is the remote span, and `job` and `attempt` follow with
//! their ids as attributes.

use opentelemetry::trace::{SpanId, TraceId};
use serde_json::json;

use crate::helpers::{eventually, spans, spawn_app};

fn attr(span: &opentelemetry_sdk::trace::SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str().into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_continue_the_trace_of_the_incoming_traceparent() {
    let app = spawn_app().await;
    let trace_id = format!("{:032x}", u128::from(ulid::Ulid::generate()));
    let parent_id = "00f067aa0ba902b7";
    let traceparent = format!("00-{trace_id}-{parent_id}-01");
    let job = app.job(vec![
        json!({"id": "int_t", "url": app.receiver.url("/traced")}),
    ]);
    app.publisher
        .publish_job_with_headers(
            &serde_json::to_vec(&job.1).unwrap(),
            &job.0,
            "job",
            &[("traceparent", &traceparent)],
        )
        .await
        .unwrap();
    let record = app.wait_attempt(&job.0, "int_t", 1).await;

    let want = TraceId::from_hex(&trace_id).unwrap();
    let ours = eventually("the message, job and attempt spans", || async {
        let ours: Vec<_> = spans()
            .into_iter()
            .filter(|s| s.span_context.trace_id() == want)
            .collect();
        let names: Vec<&str> = ours.iter().map(|s| s.name.as_ref()).collect();
        (["message", "job", "attempt"]
            .iter()
            .all(|n| names.contains(n)))
        .then_some(ours)
    })
    .await;
    let by_name = |n: &str| ours.iter().find(|s| s.name == n).unwrap();
    let message = by_name("message");
    assert_eq!(message.parent_span_id, SpanId::from_hex(parent_id).unwrap());
    assert_eq!(attr(message, "message_id").as_deref(), Some(job.0.as_str()));
    let job_span = by_name("job");
    assert_eq!(job_span.parent_span_id, message.span_context.span_id());
    assert_eq!(attr(job_span, "job_id").as_deref(), Some(job.0.as_str()));
    assert_eq!(
        attr(job_span, "agent_id").as_deref(),
        Some(app.agent_id.as_str())
    );
    let attempt = by_name("attempt");
    assert_eq!(attempt.parent_span_id, job_span.span_context.span_id());
    assert_eq!(
        attr(attempt, "attempt_id").as_deref(),
        Some(record.attempt_id.as_str())
    );
    assert_eq!(attr(attempt, "integration_id").as_deref(), Some("int_t"));

    // Without a traceparent, a job starts a trace of its own.
    let plain = app.job(vec![
        json!({"id": "int_t", "url": app.receiver.url("/traced")}),
    ]);
    app.publish(&plain).await;
    app.wait_attempt(&plain.0, "int_t", 1).await;
    assert!(callhook::telemetry::remote_context(Some("garbage")).is_none());
    assert!(callhook::telemetry::remote_context(None).is_none());
    app.cleanup().await;
}
