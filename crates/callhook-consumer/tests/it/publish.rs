//! Publishing with confirms: results to the delivery log, jobs, unroutable keys.

use callhook_consumer::{Error, Publisher};
use callhook_model::{AttemptRecord, Outcome, Trigger};

use crate::helpers::TestBroker;

fn sample(agent: &str, outcome: Outcome) -> AttemptRecord {
    AttemptRecord {
        attempt_id: ulid::Ulid::generate().to_string(),
        job_id: "job-1".into(),
        agent_id: agent.into(),
        call_log_id: "call-1".into(),
        integration_id: "int_crm".into(),
        integration_name: "CRM".into(),
        trigger: Trigger::Delivery,
        attempt: 1,
        outcome,
        request: None,
        response: None,
        error: None,
        started_at: "2026-12-03T09:00:00.123Z".into(),
        duration_ms: 3,
        worker_id: "w".into(),
    }
}

#[tokio::test]
async fn a_result_lands_in_the_delivery_log_with_its_routing_key() {
    let b = TestBroker::new().await;
    let publisher = b.publisher().await;
    assert!(publisher.is_connected());
    let rec = sample("agent_IsZ3Q6Sf", Outcome::Failed);
    publisher.publish_result(&rec).await.unwrap();

    let msg = b.get(&b.topology.delivery_log_queue).await;
    let d = &msg.delivery;
    assert_eq!(d.exchange.as_str(), b.topology.results_exchange);
    assert_eq!(d.routing_key.as_str(), "failed.agent_IsZ3Q6Sf");
    assert_eq!(
        d.properties.message_id().as_ref().map(|s| s.as_str()),
        Some(rec.attempt_id.as_str())
    );
    assert_eq!(
        d.properties.content_type().as_ref().map(|s| s.as_str()),
        Some("application/json")
    );
    assert_eq!(d.properties.delivery_mode(), &Some(2));
    let back: AttemptRecord = serde_json::from_slice(&d.data).unwrap();
    assert_eq!(back, rec);
    b.cleanup().await;
}

#[tokio::test]
async fn an_unroutable_job_is_a_permanent_error() {
    let b = TestBroker::new().await;
    let publisher = b.publisher().await;
    let err = publisher
        .publish_job(b"{}", "j", "no-such-key")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unroutable { .. }), "{err}");
    assert!(!err.is_retryable());
    // The channel is still good.
    publisher.publish_job(b"{}", "j", "job").await.unwrap();
    assert_eq!(b.get(&b.topology.jobs_queue).await.delivery.data, b"{}");

    let long = "x".repeat(300);
    let err = publisher
        .publish_job(b"{}", &long, "job")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    b.cleanup().await;
}

#[tokio::test]
async fn a_lazy_publisher_connects_on_first_publish() {
    let b = TestBroker::new().await;
    let publisher = Publisher::lazy(b.config.clone(), b.topology.clone()).unwrap();
    assert!(!publisher.is_connected());
    publisher
        .publish_result(&sample("a", Outcome::Succeeded))
        .await
        .unwrap();
    assert!(publisher.is_connected());
    assert_eq!(
        b.get(&b.topology.delivery_log_queue)
            .await
            .delivery
            .routing_key
            .as_str(),
        "succeeded.a"
    );
    publisher.close().await;
    assert!(!publisher.is_connected());
    b.cleanup().await;
}
