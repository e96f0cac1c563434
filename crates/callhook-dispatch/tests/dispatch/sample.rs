//! The `callhook test` flow, end to end: an integration file's JSON, the built-in
//! sample call rendered by the renderer, sent signed, and the `test` record.

use callhook_dispatch::{RecordMeta, Signing, webhook_id};
use callhook_model::{Integration, Outcome, Trigger};

use crate::support::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[tokio::test]
async fn the_sample_call_reaches_an_integration_signed_and_is_recorded() {
    let rx = Receiver::answering(200, "thanks").await;
    let integration = Integration::from_value(serde_json::json!({
        "id": "int_crm",
        "name": "CRM sync",
        "url": format!("http://127.0.0.1:{}/leads/{{{{crm_id}}}}", rx.port()),
        "headers": {"Authorization": "Bearer s3cr3t", "Content-Type": "text/plain"},
        "signing_secret": SECRET,
    }))
    .unwrap();
    let job = callhook_render::sample_job();
    let request = callhook_render::render_integration(&job, &integration).unwrap();
    let id = webhook_id(&job.job_id, &integration.id);
    let signing = integration.signing_secret.as_ref().map(|key| Signing {
        key,
        webhook_id: &id,
    });
    let attempt = dispatcher(config()).send(&request, signing).await;
    assert_eq!(attempt.outcome, Outcome::Succeeded, "{attempt:?}");

    let got = rx.requests().pop().unwrap();
    standardwebhooks::Webhook::new(SECRET)
        .unwrap()
        .verify(&got.body, &got.headers)
        .unwrap();
    assert_eq!(got.headers["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(body["call_log_id"], job.call_info.call_log_id.as_str());
    assert!(!got.uri.path().contains("{{"), "{}", got.uri);

    let record = attempt.into_record(RecordMeta {
        attempt_id: "01JEXAMPLE0000000000000000".into(),
        job_id: job.job_id.clone(),
        agent_id: job.agent_id.clone(),
        call_log_id: job.call_info.call_log_id.clone(),
        integration_id: integration.id.clone(),
        integration_name: integration.name.clone(),
        trigger: Trigger::Test,
        attempt: 1,
        worker_id: "cli".into(),
    });
    let json = serde_json::to_value(&record).unwrap();
    assert_eq!(json["trigger"], "test");
    assert_eq!(json["outcome"], "succeeded");
    assert_eq!(json["integration_name"], "CRM sync");
    assert_eq!(json["request"]["headers"]["Authorization"], "[redacted]");
    assert_eq!(json["request"]["headers"]["webhook-id"], id.as_str());
    assert_eq!(json["request"]["body"], body);
    assert_eq!(json["response"]["body"], "thanks");
    assert!(!serde_json::to_string(&record).unwrap().contains("s3cr3t"));
}
