//! Retry commands on the retries queue.

use callhook::worker::RetryCommand;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn publish_retry(app: &TestApp, command: &RetryCommand) {
    app.publisher
        .publish_job(
            &serde_json::to_vec(command).unwrap(),
            &command.retry_id,
            "retry",
        )
        .await
        .unwrap();
}

/// A failed delivery (500), retried: attempt 2 with trigger `retry`, the command's id
/// as its attempt id, the same `webhook-id`. The same command coming again (as a
/// redelivery would bring it) sends nothing: the attempt is already recorded, so the
/// worker only publishes its record again and acknowledges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_sends_the_next_attempt_once_with_the_same_webhook_id() {
    let app = spawn_app().await;
    let worker = app.spawn_worker();
    app.receiver.answer_with("/r", &[500, 200]);
    let job = app.job(vec![
        json!({"id": "r", "url": app.url("/r"), "signing_secret": SECRET}),
    ]);
    app.publish(&job).await;
    let first = app.wait_records(&job.id, 1).await;
    let first = &first[0].record;
    assert_eq!(first["outcome"], "failed");
    assert_eq!(first["error"]["kind"], "status");
    assert_eq!(first["response"]["status"], 500);
    assert_eq!(first["attempt"], 1);
    app.wait_jobs_acked().await;

    let command = RetryCommand {
        retry_id: ulid::Ulid::generate().to_string(),
        job_id: job.id.clone(),
        integration_id: "r".into(),
        batch_id: format!("batch-{}", job.id),
    };
    publish_retry(&app, &command).await;
    let entries = app.wait_records(&job.id, 2).await;
    let second = &entries[1].record;
    assert_eq!(second["attempt_id"], command.retry_id.as_str());
    assert_eq!(second["trigger"], "retry");
    assert_eq!(second["attempt"], 2);
    assert_eq!(second["outcome"], "succeeded");
    assert_eq!(second["integration_id"], "r");
    assert_eq!(entries[1].field("outcome"), "succeeded");
    let agent = app.stream(&app.agent_attempts_key()).await;
    assert_eq!(agent.len(), 2);

    let requests = app.receiver.requests_to("/r");
    assert_eq!(requests.len(), 2);
    let id = callhook_dispatch::webhook_id(&job.id, "r");
    for r in &requests {
        assert_eq!(r.header("webhook-id"), Some(id.as_str()));
        standardwebhooks::Webhook::new(SECRET)
            .unwrap()
            .verify(&r.body, &r.headers)
            .unwrap();
    }
    assert_eq!(requests[0].body, requests[1].body, "the same rendering");

    // The same command again.
    publish_retry(&app, &command).await;
    let results = crate::helpers::eventually("the retry's record published twice", || async {
        let all = app.results(2).await;
        (all.iter()
            .filter(|m| m.message_id == command.retry_id)
            .count()
            == 2)
            .then_some(all)
    })
    .await;
    app.wait_jobs_acked().await;
    assert_eq!(app.receiver.count("/r"), 2, "not sent again");
    assert_eq!(app.records_of(&job.id).await.len(), 2, "not recorded again");
    let keys: Vec<&str> = results.iter().map(|m| m.routing_key.as_str()).collect();
    assert_eq!(
        keys,
        [
            format!("failed.{}", app.agent_id),
            format!("succeeded.{}", app.agent_id),
            format!("succeeded.{}", app.agent_id),
        ]
    );
    assert_eq!(app.ready(&app.topology.dead_queue).await, 0);

    let (_, result) = worker.stop().await;
    result.unwrap();
    app.cleanup().await;
}

/// A retry of a job whose snapshot is gone is dead-lettered as `snapshot_expired`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_without_a_snapshot_is_dead_lettered() {
    let app = spawn_app().await;
    let worker = app.spawn_worker();
    let command = RetryCommand {
        retry_id: ulid::Ulid::generate().to_string(),
        job_id: format!("gone-{}", ulid::Ulid::generate()),
        integration_id: "r".into(),
        batch_id: "batch".into(),
    };
    publish_retry(&app, &command).await;
    let dead = app.dead_letters(1).await;
    assert_eq!(dead.len(), 1);
    let d = &dead[0];
    assert_eq!(d.message_id.as_deref(), Some(command.retry_id.as_str()));
    assert_eq!(d.header("x-callhook-error-kind"), "snapshot_expired");
    assert!(
        d.header("x-callhook-error")
            .starts_with("snapshot_expired: "),
        "{d:?}"
    );
    assert!(d.header("x-callhook-error").contains(&command.job_id));
    assert_eq!(d.header("x-callhook-queue"), app.topology.retries_queue);
    let body: RetryCommand = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(body, command);
    app.wait_jobs_acked().await;
    assert!(app.receiver.requests().is_empty());
    assert!(app.stream(&app.attempts_key()).await.is_empty());

    let (_, result) = worker.stop().await;
    result.unwrap();
    app.cleanup().await;
}
