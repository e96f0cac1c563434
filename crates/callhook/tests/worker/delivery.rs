//! The happy path, bad messages, and jobs that fire no webhook.

use std::collections::HashSet;

use callhook_consumer::lapin::BasicProperties;
use serde_json::{Value, json};

use crate::helpers::{integration, spawn_app, spawn_app_with};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_reaches_every_integration_and_its_records_are_stored_and_published() {
    let app = spawn_app().await;
    let worker = app.spawn_worker();
    let job = app.job(vec![
        json!({
            "id": "int_auto", "name": "CRM sync",
            "url": app.url("/auto/{{crm_id}}"),
            "headers": {"X-Test": "yes", "Content-Type": "text/plain"},
            "signing_secret": SECRET
        }),
        json!({
            "id": "int_custom", "method": "PUT", "url": app.url("/custom"),
            "body": {"mode": "custom", "template": {
                "customer_name": "{{data_capture.customer_name}}",
                "slot_date": "{{structured_output.appointment.date}}",
                "all_output": "{{structured_output}}",
                "line": "Call {{call_info.call_log_id}} ended: {{call_info.call_status}}",
                "missing": "{{data_capture.nope}}",
                "source": "osvi"}}
        }),
        json!({
            "id": "int_get", "method": "GET",
            "url": app.url("/get/{{crm_id}}?campaign={{meta.campaign_id}}")
        }),
    ]);
    app.publish(&job).await;

    let entries = app.wait_records(&job.id, 3).await;

    // The requests, each with its method and body.
    let auto = app.receiver.requests_to("/auto/lead_42");
    assert_eq!(auto.len(), 1);
    let auto = &auto[0];
    assert_eq!(auto.method, "POST");
    assert_eq!(auto.header("content-type"), Some("application/json"));
    assert_eq!(auto.header("x-test"), Some("yes"));
    let call = job.body.clone();
    assert_eq!(
        auto.json(),
        json!({
            "call_log_id": call["call_info"]["call_log_id"],
            "phone_number": "+919876543210",
            "agent_name": "Renewals agent",
            "call_status": "picked",
            "call_type": "outbound",
            "call_summary": call["call_summary"],
            "data_capture": call["data_capture"],
            "structured_output": call["structured_output"],
            "call_trigger_data": call["call_trigger_data"],
        })
    );
    let wh = standardwebhooks::Webhook::new(SECRET).unwrap();
    wh.verify(&auto.body, &auto.headers)
        .expect("a valid Standard Webhooks signature");
    assert_eq!(
        auto.header("webhook-id").unwrap(),
        callhook_dispatch::webhook_id(&job.id, "int_auto")
    );

    let custom = app.receiver.requests_to("/custom");
    assert_eq!(custom.len(), 1);
    assert_eq!(custom[0].method, "PUT");
    assert_eq!(custom[0].header("content-type"), Some("application/json"));
    assert!(custom[0].header("webhook-id").is_none(), "unsigned");
    assert_eq!(
        custom[0].json(),
        json!({
            "customer_name": "John Doe",
            "slot_date": "2026-06-12",
            "all_output": call["structured_output"],
            "line": format!("Call call-{} ended: picked", job.id),
            "missing": null,
            "source": "osvi",
        })
    );

    let get = app
        .receiver
        .requests_to("/get/lead_42?campaign=june-renewals");
    assert_eq!(get.len(), 1);
    assert_eq!(get[0].method, "GET");
    assert!(get[0].body.is_empty(), "GET carries no body");
    assert_eq!(app.receiver.requests().len(), 3);

    // The records, in both streams with the contract's fields.
    assert_eq!(entries.len(), 3);
    let agent_entries = app.stream(&app.agent_attempts_key()).await;
    assert_eq!(agent_entries.len(), 3);
    for stream in [&entries, &agent_entries] {
        let ids: HashSet<&str> = stream.iter().map(|e| e.field("integration_id")).collect();
        assert_eq!(ids, HashSet::from(["int_auto", "int_custom", "int_get"]));
        for e in stream {
            let mut names: Vec<&str> = e.fields.keys().map(String::as_str).collect();
            names.sort_unstable();
            assert_eq!(
                names,
                ["agent_id", "integration_id", "job_id", "outcome", "record"]
            );
            assert_eq!(e.field("outcome"), "succeeded");
            assert_eq!(e.field("agent_id"), app.agent_id);
            assert_eq!(e.field("job_id"), job.id);
            let r = &e.record;
            assert_eq!(r["integration_id"], e.field("integration_id"));
            assert_eq!(r["job_id"], job.id.as_str());
            assert_eq!(r["agent_id"], app.agent_id.as_str());
            assert_eq!(r["call_log_id"], call["call_info"]["call_log_id"]);
            assert_eq!(r["trigger"], "delivery");
            assert_eq!(r["attempt"], 1);
            assert_eq!(r["outcome"], "succeeded");
            assert_eq!(r["response"]["status"], 200);
            assert_eq!(r["error"], Value::Null);
            assert_eq!(r["worker_id"], worker.worker.worker_id());
        }
    }
    let auto_record = &entries
        .iter()
        .find(|e| e.field("integration_id") == "int_auto")
        .unwrap()
        .record;
    assert_eq!(auto_record["integration_name"], "CRM sync");
    assert_eq!(auto_record["request"]["method"], "POST");
    assert_eq!(auto_record["request"]["url"], app.url("/auto/lead_42"));
    let get_record = &entries
        .iter()
        .find(|e| e.field("integration_id") == "int_get")
        .unwrap()
        .record;
    assert_eq!(
        get_record["integration_name"], "int_get",
        "name defaults to id"
    );
    assert_eq!(get_record["request"]["method"], "GET");

    // The same records on the results exchange, keyed `<outcome>.<agent_id>`.
    let results = app.results(3).await;
    assert_eq!(results.len(), 3);
    let key = format!("succeeded.{}", app.agent_id);
    for m in &results {
        assert_eq!(m.routing_key, key);
        assert_eq!(m.message_id, m.record["attempt_id"].as_str().unwrap());
    }
    let published: HashSet<&str> = results
        .iter()
        .map(|m| m.record["attempt_id"].as_str().unwrap())
        .collect();
    let stored: HashSet<&str> = entries
        .iter()
        .map(|e| e.record["attempt_id"].as_str().unwrap())
        .collect();
    assert_eq!(published, stored);

    // Kept for retries, and acknowledged.
    assert!(app.key_exists(&app.job_key(&job.id)).await);
    app.wait_jobs_acked().await;

    let (_, result) = worker.stop().await;
    result.unwrap();
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_are_dead_lettered_with_their_reason_and_good_ones_still_go_out() {
    let app = spawn_app_with(|c| c.max_message_bytes = 2048).await;
    let worker = app.spawn_worker();

    let good1 = app.job(vec![integration("i", &app.url("/good1"))]);
    let bad_method = app.job(vec![json!({
        "id": "i", "method": "FETCH", "url": app.url("/fetch")
    })]);
    let mut too_large = app.job(vec![integration("i", &app.url("/too-large"))]);
    too_large.body["call_summary"] = Value::String("x".repeat(3000));
    let text_plain = app.job(vec![integration("i", &app.url("/text-plain"))]);
    let good2 = app.job(vec![integration("i", &app.url("/good2"))]);

    app.publish(&good1).await;
    app.publisher
        .publish_job(b"{\"job_id\": \"not-json\",", "bad-json", "job")
        .await
        .unwrap();
    app.publish(&bad_method).await;
    app.publish(&too_large).await;
    app.publish_raw(
        "job",
        &text_plain.bytes(),
        BasicProperties::default()
            .with_content_type("text/plain".into())
            .with_message_id(text_plain.id.as_str().into())
            .with_delivery_mode(2),
    )
    .await;
    app.publish(&good2).await;

    let dead = app.dead_letters(4).await;
    assert_eq!(dead.len(), 4, "{dead:?}");
    let find = |id: &str| {
        dead.iter()
            .find(|d| d.message_id.as_deref() == Some(id))
            .unwrap_or_else(|| panic!("no dead letter for {id}: {dead:?}"))
    };
    for (id, kind, detail) in [
        ("bad-json", "invalid_json", "invalid JSON"),
        (
            bad_method.id.as_str(),
            "invalid_job",
            "integrations[0].method",
        ),
        (too_large.id.as_str(), "too_large", "2048"),
        (
            text_plain.id.as_str(),
            "unsupported_content_type",
            "text/plain",
        ),
    ] {
        let d = find(id);
        assert_eq!(d.header("x-callhook-error-kind"), kind, "{id}");
        let error = d.header("x-callhook-error");
        assert!(error.starts_with(&format!("{kind}: ")), "{id}: {error}");
        assert!(error.contains(detail), "{id}: {error}");
        assert_eq!(d.header("x-callhook-queue"), app.topology.jobs_queue);
    }
    // A dead letter is the original message.
    assert_eq!(find("bad-json").body, b"{\"job_id\": \"not-json\",");
    assert_eq!(find(&too_large.id).body, too_large.bytes());
    let plain = find(&text_plain.id);
    assert_eq!(plain.content_type.as_deref(), Some("text/plain"));
    assert_eq!(plain.body, text_plain.bytes());

    // The good jobs around them went out; the bad ones sent and recorded nothing.
    app.wait_records(&good1.id, 1).await;
    app.wait_records(&good2.id, 1).await;
    app.wait_jobs_acked().await;
    assert_eq!(app.receiver.count("/good1"), 1);
    assert_eq!(app.receiver.count("/good2"), 1);
    assert_eq!(app.receiver.requests().len(), 2);
    let all = app.stream(&app.attempts_key()).await;
    assert_eq!(all.len(), 2, "only the good jobs are recorded");
    assert_eq!(app.ready(&app.topology.dead_queue).await, 0);

    let (_, result) = worker.stop().await;
    result.unwrap();
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_that_fire_nothing_leave_one_skipped_record_per_active_integration() {
    let app = spawn_app().await;
    let worker = app.spawn_worker();
    let integrations = |tag: &str| {
        vec![
            integration("a", &app.url(&format!("/{tag}/a"))),
            json!({"id": "b", "method": "PUT", "url": app.url(&format!("/{tag}/b"))}),
            json!({"id": "off", "active": false, "url": app.url(&format!("/{tag}/off"))}),
        ]
    };
    let mut not_picked = app.job(integrations("np"));
    not_picked.body["call_info"]["call_status"] = json!("not_picked");
    let mut disabled = app.job(integrations("ad"));
    disabled.body["post_call_analysis_enabled"] = json!(false);
    // A picked call whose only integration is inactive: nothing at all.
    let inactive_only = app.job(vec![json!({
        "id": "off", "active": false, "url": app.url("/inactive/off")
    })]);
    // Published last, so once it is recorded the others have been taken.
    let marker = app.job(vec![integration("m", &app.url("/marker"))]);
    for job in [&not_picked, &disabled, &inactive_only, &marker] {
        app.publish(job).await;
    }

    for (job, kind) in [
        (&not_picked, "not_picked"),
        (&disabled, "analysis_disabled"),
    ] {
        let entries = app.wait_records(&job.id, 2).await;
        assert_eq!(entries.len(), 2, "{kind}: no record for the inactive one");
        let ids: HashSet<&str> = entries.iter().map(|e| e.field("integration_id")).collect();
        assert_eq!(ids, HashSet::from(["a", "b"]), "{kind}");
        for e in &entries {
            assert_eq!(e.field("outcome"), "skipped");
            assert_eq!(e.record["outcome"], "skipped");
            assert_eq!(e.record["error"]["kind"], kind);
            assert_eq!(e.record["trigger"], "delivery");
            assert_eq!(e.record["request"], Value::Null, "not sent");
        }
    }
    app.wait_records(&marker.id, 1).await;
    app.wait_jobs_acked().await;
    assert!(app.records_of(&inactive_only.id).await.is_empty());
    let all = app.stream(&app.agent_attempts_key()).await;
    assert_eq!(all.len(), 5);

    // Only the marker was sent.
    let paths: Vec<String> = app
        .receiver
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(paths, ["/marker"]);
    let results = app.results(5).await;
    let skipped_key = format!("skipped.{}", app.agent_id);
    assert_eq!(
        results
            .iter()
            .filter(|m| m.routing_key == skipped_key)
            .count(),
        4
    );
    assert_eq!(app.ready(&app.topology.dead_queue).await, 0);

    let (_, result) = worker.stop().await;
    result.unwrap();
    app.cleanup().await;
}
