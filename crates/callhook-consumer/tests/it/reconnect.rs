//! Connections closed by the broker: the consumer and the publisher come back.

use callhook_consumer::Error;

use crate::helpers::{TestBroker, connection_pids, eventually, rabbitmqctl};

fn force_close(name: &str) {
    let pids = connection_pids(name);
    assert!(!pids.is_empty(), "connection {name} not found");
    for pid in pids {
        rabbitmqctl(&["close_connection", &pid, "test: forced close"]);
    }
}

#[tokio::test]
async fn the_consumer_reconnects_and_resumes_after_a_forced_close() {
    let b = TestBroker::new().await;
    let publisher = b.publisher().await;
    let mut c = b.start_consumer();
    c.wait_connected(true).await;
    publisher
        .publish_job(b"{}", "j-before", "job")
        .await
        .unwrap();
    let held = c.next().await;

    let name = format!("{}-consumer", b.id);
    force_close(&name);
    c.wait_connected(false).await;
    c.wait_connected(true).await;

    // The delivery taken before the close cannot be acked any more, cleanly...
    let err = held.ack().await.unwrap_err();
    assert!(matches!(err, Error::ChannelClosed { .. }), "{err}");
    // ...and the broker delivers it again on the new session.
    let again = c.next().await;
    assert_eq!(again.message_id(), Some("j-before"));
    assert!(again.redelivered());
    again.ack().await.unwrap();

    publisher
        .publish_job(b"{}", "j-after", "job")
        .await
        .unwrap();
    let after = c.next().await;
    assert_eq!(after.message_id(), Some("j-after"));
    after.ack().await.unwrap();
    c.stop().await;
    b.cleanup().await;
}

#[tokio::test]
async fn the_publisher_reconnects_after_a_forced_close() {
    let b = TestBroker::new().await;
    let publisher = b.publisher().await;
    publisher.publish_job(b"{}", "j1", "job").await.unwrap();

    force_close(&format!("{}-publisher", b.id));
    eventually("the publisher to notice", || async {
        (!publisher.is_connected()).then_some(())
    })
    .await;
    publisher.publish_job(b"{}", "j2", "job").await.unwrap();
    assert!(publisher.is_connected());
    for id in ["j1", "j2"] {
        let msg = b.get(&b.topology.jobs_queue).await;
        assert_eq!(
            msg.delivery
                .properties
                .message_id()
                .as_ref()
                .map(|s| s.as_str()),
            Some(id)
        );
    }
    b.cleanup().await;
}

#[tokio::test]
async fn with_the_broker_unreachable_the_consumer_keeps_trying_until_shutdown() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = callhook_consumer::AmqpConfig {
        reconnect_min: std::time::Duration::from_millis(20),
        reconnect_max: std::time::Duration::from_millis(100),
        publish_attempts: 3,
        ..callhook_consumer::AmqpConfig::with_url(format!(
            "amqp://guest:guest@127.0.0.1:{port}/%2f"
        ))
    };
    let topology = callhook_consumer::Topology::with_prefix("t-unreachable");
    let c = crate::helpers::RunningConsumer::start(config.clone(), topology.clone());
    assert!(!*c.connected.borrow());
    assert!(!c.task.is_finished());
    c.stop().await;

    let publisher = callhook_consumer::Publisher::lazy(config, topology).unwrap();
    let err = publisher.publish_job(b"{}", "j", "job").await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(!publisher.is_connected());
}
