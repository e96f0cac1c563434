//! No configured secret — header values, the signing secret, the API token — shows
//! up in the stored records, the published results or the log lines (callhook
//! crates at debug) and spans of a run with a delivery, a failure, a retry and a
//! test send.

use base64::Engine as _;
use callhook_consumer::lapin::{
    Connection, ConnectionProperties,
    options::{BasicGetOptions, QueueBindOptions, QueueDeclareOptions},
    types::FieldTable,
};
use serde_json::json;

use crate::helpers::{logs, spans, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_records_results_or_logs() {
    let app = spawn_app().await;
    let unique = ulid::Ulid::generate().to_string();
    let header_secret = format!("hdr{unique}");
    let key_secret = format!("key{unique}");
    let raw_key: Vec<u8> = unique.bytes().chain(*b"-signing-key").collect();
    let signing_b64 = base64::engine::general_purpose::STANDARD.encode(&raw_key);
    let signing = format!("whsec_{signing_b64}");

    // Every result the run publishes.
    let conn = Connection::connect(&crate::helpers::amqp_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = conn.create_channel().await.unwrap();
    let queue = channel
        .queue_declare(
            format!("{}.secrets-results", app.prefix).as_str().into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    channel
        .queue_bind(
            queue.name().clone(),
            app.topology.results_exchange.as_str().into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();

    app.receiver.set_status("/s", 500);
    let integration = json!({
        "id": "int_s", "url": format!("{}?api_key={key_secret}", app.receiver.url("/s")),
        "headers": {"Authorization": format!("Bearer {header_secret}"), "X-Api-Key": key_secret},
        "signing_secret": signing
    });
    let job = app.job(vec![integration.clone()]);
    app.publish(&job).await;
    let first = app.wait_attempt(&job.0, "int_s", 1).await;
    app.receiver.set_status("/s", 200);
    let r = app
        .post("/v1/retries", &json!({"attempt_ids": [first.attempt_id]}))
        .await;
    assert_eq!(r.body["queued"], 1);
    app.wait_attempt(&job.0, "int_s", 2).await;
    let t = app
        .post(
            "/v1/integrations/test",
            &json!({"agent_id": app.agent_id, "integration": integration}),
        )
        .await;
    assert_eq!(t.body["outcome"], "succeeded", "{}", t.text);
    // The secrets did go out: the receiver saw them.
    let sent = app.receiver.requests_to("/s");
    assert_eq!(sent.len(), 3);
    assert_eq!(
        sent[2].header("authorization"),
        Some(format!("Bearer {header_secret}").as_str())
    );

    let secrets = [
        header_secret.as_str(),
        key_secret.as_str(),
        signing_b64.as_str(),
        app.token.as_str(),
    ];
    let check = |what: &str, text: &str| {
        for s in secrets {
            assert!(!text.contains(s), "{what} contains a secret: {text}");
        }
    };
    // Records: both streams and the state hash (the job snapshot holds the secrets by
    // design, to re-send them).
    let mut redis = app.redis().await;
    for key in [
        format!("{}:attempts", app.prefix),
        format!("{}:attempts:{{{}}}", app.prefix, app.agent_id),
    ] {
        let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(&key)
            .arg("-")
            .arg("+")
            .query_async(&mut redis)
            .await
            .unwrap();
        assert_eq!(entries.ids.len(), 3, "{key}");
        for e in entries.ids {
            check(&key, &e.get::<String>("record").unwrap());
        }
    }
    let state: Vec<String> = redis::cmd("HVALS")
        .arg(format!("{}:state:{{{}}}", app.prefix, job.0))
        .query_async(&mut redis)
        .await
        .unwrap();
    check("state", &state.join("\n"));
    assert!(state[0].contains("[redacted]"));
    // Results: the three records, each published at least once.
    let mut results = 0;
    while let Some(m) = channel
        .basic_get(queue.name().clone(), BasicGetOptions { no_ack: true })
        .await
        .unwrap()
    {
        check("a result", &String::from_utf8_lossy(&m.data));
        results += 1;
    }
    assert!(results >= 3, "{results} results");
    // Logs and spans of the whole test binary.
    let lines = logs();
    assert!(lines.contains(&job.0), "the run was logged");
    check("the logs", &lines);
    for span in spans() {
        check("a span", &format!("{:?} {:?}", span.name, span.attributes));
    }
    let _ = conn.close(200, "done".into()).await;
    app.cleanup().await;
}
