//! Deliveries: handed over with their properties, acked, redelivered, dead-lettered.

use callhook_consumer::{Error, Source};
use lapin::types::AMQPValue;

use crate::helpers::{TestBroker, eventually, header_string};

#[tokio::test]
async fn a_published_job_is_delivered_with_its_properties_and_acked() {
    let b = TestBroker::new().await;
    let publisher = b.publisher().await;
    let mut c = b.start_consumer();
    c.wait_connected(true).await;

    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    publisher
        .publish_job_with_headers(br#"{"job_id":"j1"}"#, "j1", "job", &[("traceparent", tp)])
        .await
        .unwrap();
    let d = c.next().await;
    assert_eq!(d.body(), br#"{"job_id":"j1"}"#);
    assert_eq!(d.body_len(), 15);
    assert_eq!(d.source(), Source::Jobs);
    assert_eq!(d.content_type(), Some("application/json"));
    assert_eq!(d.message_id(), Some("j1"));
    assert_eq!(d.traceparent(), Some(tp));
    assert_eq!(d.properties().delivery_mode(), &Some(2));
    assert_eq!(d.routing_key(), "job");
    assert!(!d.redelivered());
    assert_eq!(d.delivery_count(), None);
    d.ack().await.unwrap();
    assert!(matches!(d.ack().await, Err(Error::AlreadySettled(_))));

    publisher.publish_job(b"{}", "r1", "retry").await.unwrap();
    let r = c.next().await;
    assert_eq!((r.source(), r.message_id()), (Source::Retries, Some("r1")));
    r.ack().await.unwrap();
    drop((d, r));

    c.stop().await;
    b.wait_connection_gone("consumer").await;
    // Acked: nothing came back to the queues.
    assert_eq!(b.ready(&b.topology.jobs_queue).await, 0);
    assert_eq!(b.ready(&b.topology.retries_queue).await, 0);
    b.cleanup().await;
}

#[tokio::test]
async fn an_unacked_delivery_returns_when_the_consumer_goes() {
    let b = TestBroker::new().await;
    let publisher = b.publisher().await;
    let mut first = b.start_consumer();
    publisher
        .publish_job(b"{\"n\":1}", "j-unacked", "job")
        .await
        .unwrap();
    let d = first.next().await;
    assert!(!d.redelivered());

    // The consumer dies with the delivery unacked.
    first.task.abort();
    drop(d);
    drop(first.rx);
    b.wait_connection_gone("consumer").await;

    let mut second = b.start_consumer();
    let again = second.next().await;
    assert_eq!(again.message_id(), Some("j-unacked"));
    assert!(again.redelivered());
    assert_eq!(again.delivery_count(), Some(1));
    again.ack().await.unwrap();
    second.stop().await;
    b.cleanup().await;
}

#[tokio::test]
async fn shutdown_hands_back_what_the_worker_did_not_take() {
    let b = TestBroker::new().await;
    let publisher = b.publisher().await;
    for i in 0..6 {
        publisher
            .publish_job(b"{}", &format!("j{i}"), "job")
            .await
            .unwrap();
    }
    let mut c = b.start_consumer();
    let held = c.next().await;
    c.stop().await;
    // The held delivery's channel stays open after shutdown: it can still be acked.
    held.ack().await.unwrap();
    drop(held);
    b.wait_connection_gone("consumer").await;
    assert_eq!(b.ready(&b.topology.jobs_queue).await, 5);
    b.cleanup().await;
}

#[tokio::test]
async fn dead_letter_moves_the_message_with_the_reason() {
    let b = TestBroker::new().await;
    let publisher = b.publisher().await;
    let mut c = b.start_consumer();
    publisher
        .publish_job_with_headers(b"not json", "j-bad", "job", &[("traceparent", "tp")])
        .await
        .unwrap();
    let d = c.next().await;
    publisher
        .dead_letter(&d, "invalid_job", "expected value at line 1")
        .await
        .unwrap();
    assert!(!d.is_settleable(), "the original is acked");

    let dead = b.get(&b.topology.dead_queue).await;
    assert_eq!(dead.delivery.data, b"not json");
    let props = &dead.delivery.properties;
    assert_eq!(
        props.message_id().as_ref().map(|s| s.as_str()),
        Some("j-bad")
    );
    assert_eq!(
        props.content_type().as_ref().map(|s| s.as_str()),
        Some("application/json")
    );
    let headers = props.headers().as_ref().unwrap();
    assert_eq!(
        header_string(headers, "x-callhook-error"),
        "invalid_job: expected value at line 1"
    );
    assert_eq!(
        header_string(headers, "x-callhook-error-kind"),
        "invalid_job"
    );
    assert_eq!(
        header_string(headers, "x-callhook-queue"),
        b.topology.jobs_queue
    );
    assert_eq!(header_string(headers, "traceparent"), "tp");

    drop(d);
    c.stop().await;
    b.wait_connection_gone("consumer").await;
    assert_eq!(b.ready(&b.topology.jobs_queue).await, 0);
    b.cleanup().await;
}

#[tokio::test]
async fn a_message_over_the_delivery_limit_is_dead_lettered_by_the_broker() {
    let b = TestBroker::with(|t| t.delivery_limit = 1).await;
    let publisher = b.publisher().await;
    let mut c = b.start_consumer();
    publisher
        .publish_job(b"{}", "j-poison", "job")
        .await
        .unwrap();
    // Returned twice (more than the limit of 1): the broker dead-letters it.
    for _ in 0..2 {
        let d = c.next().await;
        assert_eq!(d.message_id(), Some("j-poison"));
        d.nack(true).await.unwrap();
    }
    let dead = b.get(&b.topology.dead_queue).await;
    assert_eq!(
        dead.delivery
            .properties
            .message_id()
            .as_ref()
            .map(|s| s.as_str()),
        Some("j-poison")
    );
    let headers = dead.delivery.properties.headers().as_ref().unwrap();
    let deaths = match headers.inner().get("x-death") {
        Some(AMQPValue::FieldArray(a)) => a.as_slice().to_vec(),
        other => panic!("x-death is {other:?}"),
    };
    let AMQPValue::FieldTable(first) = &deaths[0] else {
        panic!("x-death entry {:?}", deaths[0]);
    };
    assert_eq!(header_string(first, "reason"), "delivery_limit");
    c.stop().await;
    eventually("the jobs queue to be empty", || async {
        (b.ready(&b.topology.jobs_queue).await == 0).then_some(())
    })
    .await;
    b.cleanup().await;
}
