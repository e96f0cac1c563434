//! The topology declares idempotently, with the contract's arguments.

use serde_json::{Value, json};

use crate::helpers::{TestBroker, arguments, rabbitmqctl_json};

fn find<'a>(rows: &'a [Value], name: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{name} not listed"))
}

#[tokio::test]
async fn declare_is_idempotent_and_sets_the_arguments() {
    let b = TestBroker::new().await;
    // Declared once by TestBroker::new; twice more on the same channel is fine.
    b.topology.declare(&b.channel).await.unwrap();
    b.topology.declare(&b.channel).await.unwrap();
    let t = &b.topology;

    let queues = rabbitmqctl_json(&["list_queues", "name", "type", "durable", "arguments"]);
    for name in [&t.jobs_queue, &t.retries_queue] {
        let q = find(&queues, name);
        assert_eq!(q["type"], "quorum", "{q}");
        assert_eq!(q["durable"], true);
        let args = arguments(q);
        assert_eq!(
            args["x-dead-letter-exchange"],
            json!(t.dead_letter_exchange)
        );
        assert_eq!(args["x-delivery-limit"], 20);
        assert_eq!(args["x-queue-type"], "quorum");
    }
    let dead = find(&queues, &t.dead_queue);
    assert_eq!(
        (&dead["type"], &dead["durable"]),
        (&json!("quorum"), &json!(true))
    );
    let log = find(&queues, &t.delivery_log_queue);
    assert_eq!(log["type"], "classic");
    assert_eq!(log["durable"], true);
    assert_eq!(arguments(log)["x-max-length"], 1_000_000);
    assert_eq!(arguments(log)["x-overflow"], "drop-head");

    let exchanges = rabbitmqctl_json(&["list_exchanges", "name", "type", "durable"]);
    for (name, kind) in [
        (&t.jobs_exchange, "direct"),
        (&t.dead_letter_exchange, "fanout"),
        (&t.results_exchange, "topic"),
    ] {
        let e = find(&exchanges, name);
        assert_eq!(
            (&e["type"], &e["durable"]),
            (&json!(kind), &json!(true)),
            "{e}"
        );
    }

    let bindings = rabbitmqctl_json(&[
        "list_bindings",
        "source_name",
        "destination_name",
        "routing_key",
    ]);
    for (source, dest, key) in [
        (&t.jobs_exchange, &t.jobs_queue, "job"),
        (&t.jobs_exchange, &t.retries_queue, "retry"),
        (&t.dead_letter_exchange, &t.dead_queue, ""),
        (&t.results_exchange, &t.delivery_log_queue, "#"),
    ] {
        assert!(
            bindings.iter().any(|r| r["source_name"] == json!(source)
                && r["destination_name"] == json!(dest)
                && r["routing_key"] == key),
            "binding {source} -> {dest} ({key})"
        );
    }
    b.cleanup().await;
}

#[tokio::test]
async fn declaring_with_other_arguments_is_refused() {
    let b = TestBroker::new().await;
    let mut other = b.topology.clone();
    other.delivery_limit = 5;
    let channel = b.conn.create_channel().await.unwrap();
    let err = other.declare(&channel).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    b.cleanup().await;
}
