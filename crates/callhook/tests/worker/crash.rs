//! A worker killed between delivery and acknowledgement (the real binary, SIGKILL).

use serde_json::json;

use crate::helpers::{Held, eventually, http_get, integration, spawn_app};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Integration A answers at once and is recorded; B's request hangs. The worker dies
/// holding the unacknowledged job. The next worker gets it again: A is not sent again
/// (its record exists), B is sent again — the known duplicate window, a request sent
/// but not recorded — with the same `webhook-id`, so the receiver can deduplicate.
/// Each integration ends with exactly one record, and the job is acknowledged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_before_the_ack_resends_only_what_was_not_recorded() {
    let app = spawn_app().await;
    let gate = app.receiver.hang("/b");
    let child = app.spawn_binary();
    // The binary is up when it serves /readyz with 200 (consumer and Redis connected).
    eventually("the binary's /readyz to answer 200", || async {
        let (status, body) = http_get(child.http_addr, "/readyz").await.ok()?;
        (status == 200).then_some(body)
    })
    .await;

    let job = app.job(vec![
        json!({"id": "a", "url": app.url("/a"), "signing_secret": SECRET}),
        json!({"id": "b", "url": app.url("/b"), "signing_secret": SECRET}),
    ]);
    app.publish(&job).await;

    // A recorded, B's request in flight.
    let first = app.wait_records(&job.id, 1).await;
    assert_eq!(first[0].field("integration_id"), "a");
    eventually("B's first request", || async {
        (app.receiver.count("/b") == 1).then_some(())
    })
    .await;
    child.kill();

    // B now answers (the held request answers a dead connection).
    app.receiver.answer_with("/b", &[200]);
    gate.release();
    let worker = app.spawn_worker();
    let entries = app.wait_records(&job.id, 2).await;
    app.wait_jobs_acked().await;

    assert_eq!(app.receiver.count("/a"), 1, "A is not sent again");
    let b = app.receiver.requests_to("/b");
    assert_eq!(b.len(), 2, "B is sent again");
    let ids: Vec<&str> = b.iter().map(|r| r.header("webhook-id").unwrap()).collect();
    assert_eq!(ids[0], ids[1], "the same webhook-id both times");
    assert_eq!(ids[0], callhook_dispatch::webhook_id(&job.id, "b"));
    let wh = standardwebhooks::Webhook::new(SECRET).unwrap();
    for r in &b {
        wh.verify(&r.body, &r.headers).unwrap();
    }

    // Exactly one record per integration, in both streams.
    let agent = app.stream(&app.agent_attempts_key()).await;
    for stream in [&entries, &agent] {
        assert_eq!(stream.len(), 2);
        let mut ids: Vec<&str> = stream.iter().map(|e| e.field("integration_id")).collect();
        ids.sort_unstable();
        assert_eq!(ids, ["a", "b"]);
    }
    // A by the killed worker, B by the new one.
    assert_eq!(entries[0].record["worker_id"], format!("{}-w1", app.prefix));
    assert_eq!(entries[1].record["worker_id"], worker.worker.worker_id());
    assert_eq!(entries[1].record["outcome"], "succeeded");

    // Both records reach the results exchange (A's perhaps twice, with one attempt
    // id: the killed worker may have published it, the new one publishes it again).
    let attempt = |i: usize| {
        entries[i].record["attempt_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (a_attempt, b_attempt) = (attempt(0), attempt(1));
    let mut n = 2;
    loop {
        let results = app.results(n).await;
        if results.iter().any(|m| m.message_id == a_attempt)
            && results.iter().any(|m| m.message_id == b_attempt)
        {
            break;
        }
        n = results.len() + 1;
    }
    assert_eq!(app.ready(&app.topology.dead_queue).await, 0);

    let (_, result) = worker.stop().await;
    result.unwrap();
    app.cleanup().await;
}

/// SIGTERM with a job in flight that outlasts the grace period (1 s): the binary stops,
/// hands the job back unacknowledged, and exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_hands_back_its_job_and_exits_0_on_sigterm() {
    let app = spawn_app().await;
    let _gate = app.receiver.hang("/slow");
    let child = app.spawn_binary();
    eventually("the binary's /readyz to answer 200", || async {
        let (status, _) = http_get(child.http_addr, "/readyz").await.ok()?;
        (status == 200).then_some(())
    })
    .await;
    let job = app.job(vec![integration("i", &app.url("/slow"))]);
    app.publish(&job).await;
    eventually("the request", || async {
        (app.receiver.count("/slow") == 1).then_some(())
    })
    .await;

    let started = std::time::Instant::now();
    let status = child.terminate().await;
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "exited after {:?}",
        started.elapsed()
    );
    app.wait_held(
        &app.topology.jobs_queue,
        Held {
            ready: 1,
            unacked: 0,
        },
    )
    .await;
    assert!(app.records_of(&job.id).await.is_empty());
    app.cleanup().await;
}
