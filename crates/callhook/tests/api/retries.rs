//! `POST /v1/retries`: one failed attempt retried after the receiver was fixed
//! (attempt 2, trigger retry, same webhook-id); error items for unknown ids,
//! duplicates, succeeded pairs and expired snapshots; a bulk retry over a window
//! with failed and succeeded pairs that retries exactly the failed ones, once.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{now_ms, rfc3339, spawn_app};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_attempt_is_retried_as_attempt_two_with_the_same_webhook_id() {
    let app = spawn_app().await;
    app.receiver.set_status("/flaky", 503);
    app.receiver.set_status("/gone", 500);
    let job = app.job(vec![
        json!({"id": "int_f", "url": app.receiver.url("/flaky"), "signing_secret": SECRET}),
        json!({"id": "int_ok", "url": app.receiver.url("/fine")}),
    ]);
    app.publish(&job).await;
    let first = app.wait_attempt(&job.0, "int_f", 1).await;
    assert_eq!(first.outcome, callhook_model::Outcome::Failed);
    let ok = app.wait_attempt(&job.0, "int_ok", 1).await;
    app.receiver.set_status("/flaky", 200);

    let a = app
        .post("/v1/retries", &json!({"attempt_ids": [first.attempt_id, first.attempt_id, "01NOSUCHATTEMPT", ok.attempt_id]}))
        .await;
    assert_eq!(a.status, 202, "{}", a.text);
    assert_eq!(a.body["queued"], 1, "{}", a.text);
    assert!(a.body["batch_id"].as_str().is_some_and(|b| !b.is_empty()));
    let errors = a.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 3, "{}", a.text);
    let message_of = |id: &str| -> Vec<String> {
        errors
            .iter()
            .filter(|e| e["attempt_id"] == id)
            .map(|e| e["message"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(message_of(&first.attempt_id)[0].contains("already retried by this request"));
    assert!(message_of("01NOSUCHATTEMPT")[0].contains("unknown attempt"));
    assert!(message_of(&ok.attempt_id)[0].contains("succeeded"));
    let retry_id = a.body["retries"][0]["attempt_id"]
        .as_str()
        .unwrap()
        .to_string();

    let second = app.wait_attempt(&job.0, "int_f", 2).await;
    assert_eq!(second.attempt_id, retry_id);
    assert_eq!(second.trigger, callhook_model::Trigger::Retry);
    assert_eq!(second.outcome, callhook_model::Outcome::Succeeded);
    let sent = app.receiver.requests_to("/flaky");
    assert_eq!(sent.len(), 2);
    let id0 = sent[0].header("webhook-id").unwrap();
    assert_eq!(Some(id0), sent[1].header("webhook-id"));
    // Both in the agent's log, the retry first.
    let logs = app
        .get(&format!(
            "/v1/agents/{}/logs?integration_id=int_f",
            app.agent_id
        ))
        .await;
    let attempts: Vec<u64> = logs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["attempt"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, [2, 1]);

    // Now that it succeeded, retrying it again is refused.
    let again = app
        .post("/v1/retries", &json!({"attempt_ids": [first.attempt_id]}))
        .await;
    assert_eq!(again.body["queued"], 0);
    assert!(
        again.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("succeeded")
    );

    // A job whose snapshot expired answers a clear error for that item.
    let old = app.job(vec![
        json!({"id": "int_g", "url": app.receiver.url("/gone")}),
    ]);
    app.publish(&old).await;
    let failed = app.wait_attempt(&old.0, "int_g", 1).await;
    let mut conn = app.redis().await;
    let _: () = redis::cmd("DEL")
        .arg(format!("{}:job:{{{}}}", app.prefix, old.0))
        .query_async(&mut conn)
        .await
        .unwrap();
    let expired = app
        .post("/v1/retries", &json!({"attempt_ids": [failed.attempt_id]}))
        .await;
    assert_eq!(expired.status, 202);
    assert_eq!(expired.body["queued"], 0);
    assert_eq!(
        expired.body["errors"][0]["attempt_id"],
        failed.attempt_id.as_str()
    );
    assert!(
        expired.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("snapshot"),
        "{}",
        expired.text
    );
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_retry_retries_exactly_the_failed_pairs_of_the_window_once() {
    let app = spawn_app().await;
    app.receiver.set_status("/f", 500);
    let int = |id: &str, path: &str| json!({"id": id, "url": app.receiver.url(path)});

    // Before the window: a failure that must stay as it is.
    let before = app.job(vec![int("int_a", "/f")]);
    app.publish(&before).await;
    app.wait_attempt(&before.0, "int_a", 1).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let since = now_ms();

    let j1 = app.job(vec![int("int_a", "/f"), int("int_b", "/ok")]);
    let j2 = app.job(vec![int("int_a", "/ok")]);
    let j3 = app.job(vec![int("int_a", "/f"), int("int_b", "/f")]);
    for j in [&j1, &j2, &j3] {
        app.publish(j).await;
    }
    for (j, i) in [
        (&j1, "int_a"),
        (&j1, "int_b"),
        (&j2, "int_a"),
        (&j3, "int_a"),
        (&j3, "int_b"),
    ] {
        app.wait_attempt(&j.0, i, 1).await;
    }
    // j3/int_b fails a second time inside the window: still one retry for the pair.
    let r = app
        .post(
            "/v1/retries",
            &json!({"attempt_ids": [app.latest(&j3.0, "int_b").await.unwrap().attempt_id]}),
        )
        .await;
    assert_eq!(r.body["queued"], 1);
    app.wait_attempt(&j3.0, "int_b", 2).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    let until = now_ms();
    tokio::time::sleep(Duration::from_millis(30)).await;
    // After the window: another failure left alone.
    let after = app.job(vec![int("int_a", "/f")]);
    app.publish(&after).await;
    app.wait_attempt(&after.0, "int_a", 1).await;

    app.receiver.set_status("/f", 200);
    let sent_before = app.receiver.requests_to("/f").len();
    assert_eq!(sent_before, 6);
    let bulk = app
        .post(
            "/v1/retries",
            &json!({"agent_id": app.agent_id, "since": rfc3339(since), "until": rfc3339(until)}),
        )
        .await;
    assert_eq!(bulk.status, 202, "{}", bulk.text);
    assert_eq!(bulk.body["queued"], 3, "{}", bulk.text);
    assert_eq!(bulk.body["errors"], json!([]));
    assert_eq!(bulk.body["scan_limit_reached"], false);
    let mut pairs: Vec<(String, String)> = bulk.body["retries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["job_id"].as_str().unwrap().to_string(),
                r["integration_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    pairs.sort();
    let mut want = vec![
        (j1.0.clone(), "int_a".to_string()),
        (j3.0.clone(), "int_a".into()),
        (j3.0.clone(), "int_b".into()),
    ];
    want.sort();
    assert_eq!(pairs, want);

    let a = app.wait_attempt(&j1.0, "int_a", 2).await;
    assert_eq!(a.outcome, callhook_model::Outcome::Succeeded);
    app.wait_attempt(&j3.0, "int_a", 2).await;
    let b = app.wait_attempt(&j3.0, "int_b", 3).await;
    assert_eq!(b.trigger, callhook_model::Trigger::Retry);
    // Exactly three more requests, and nothing else was retried.
    crate::helpers::eventually("three retried requests", || async {
        (app.receiver.requests_to("/f").len() == sent_before + 3).then_some(())
    })
    .await;
    assert_eq!(app.latest(&before.0, "int_a").await.unwrap().attempt, 1);
    assert_eq!(app.latest(&after.0, "int_a").await.unwrap().attempt, 1);
    assert_eq!(app.latest(&j1.0, "int_b").await.unwrap().attempt, 1);
    assert_eq!(app.latest(&j2.0, "int_a").await.unwrap().attempt, 1);

    // Now that all succeeded, the same bulk request queues nothing.
    let again = app
        .post(
            "/v1/retries",
            &json!({"agent_id": app.agent_id, "integration_id": "int_b", "since": rfc3339(since)}),
        )
        .await;
    assert_eq!(again.body["queued"], 0, "{}", again.text);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.receiver.requests_to("/f").len(), sent_before + 3);
    app.cleanup().await;
}
