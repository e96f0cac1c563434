//! Dependencies going away mid-run: Redis killed and restarted, the consumer's
//! RabbitMQ connection closed by the broker.

use std::collections::HashMap;

use crate::helpers::{
    Held, TestJob, connection_pids, eventually, integration, rabbitmqctl, spawn_app, spawn_app_with,
};
use crate::redis_server::RedisServer;

/// A private Redis (no persistence) is killed while the worker runs, and started again,
/// empty, on the same port. What is asserted:
/// - before the kill, phase-1 jobs are delivered, recorded and acknowledged;
/// - while Redis is down, phase-2 jobs are taken but not acknowledged: the worker holds
///   all of them in flight, the jobs queue counts them as unacknowledged, and none is
///   dead-lettered;
/// - after the restart, every phase-2 job's integrations have exactly one record in the
///   new instance (both streams) and were received exactly once, and every job is
///   acknowledged.
///
/// Phase-1 records died with the first instance, so nothing is asserted about them in
/// Redis; that no job was lost overall is shown by the receiver: every integration of
/// every job of both phases arrived exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_jobs_wait_unacknowledged_and_complete_once_it_is_back() {
    let mut redis = RedisServer::start().await;
    let url = redis.url();
    let app = spawn_app_with(|c| c.redis_url = url.into()).await;
    let worker = app.spawn_worker();
    let jobs = |phase: &str, n: usize| -> Vec<TestJob> {
        (0..n)
            .map(|i| {
                app.job(vec![
                    integration("x", &app.url(&format!("/{phase}/{i}/x"))),
                    integration("y", &app.url(&format!("/{phase}/{i}/y"))),
                ])
            })
            .collect()
    };

    let phase1 = jobs("p1", 3);
    for job in &phase1 {
        app.publish(job).await;
    }
    for job in &phase1 {
        app.wait_records(&job.id, 2).await;
    }
    app.wait_jobs_acked().await;

    redis.kill();
    let phase2 = jobs("p2", 4);
    for job in &phase2 {
        app.publish(job).await;
    }
    // All four taken and held: in flight in the worker, unacknowledged in the broker.
    eventually("the worker to hold the phase-2 jobs", || async {
        (worker.worker.jobs_in_flight() == phase2.len()).then_some(())
    })
    .await;
    let holding = Held {
        ready: 0,
        unacked: 4,
    };
    assert_eq!(app.held(&app.topology.jobs_queue).await, holding);
    assert_eq!(app.ready(&app.topology.dead_queue).await, 0);
    // Still so a while later (the rabbitmqctl calls above take most of a second each).
    assert_eq!(app.held(&app.topology.jobs_queue).await, holding);
    assert_eq!(worker.worker.jobs_in_flight(), phase2.len());

    redis.restart().await;
    for job in &phase2 {
        app.wait_records(&job.id, 2).await;
    }
    app.wait_jobs_acked().await;

    let global = app.stream(&app.attempts_key()).await;
    let agent = app.stream(&app.agent_attempts_key()).await;
    for stream in [&global, &agent] {
        let mut per: HashMap<(String, String), usize> = HashMap::new();
        for e in stream {
            *per.entry((e.field("job_id").into(), e.field("integration_id").into()))
                .or_default() += 1;
        }
        for job in &phase2 {
            for int in ["x", "y"] {
                assert_eq!(per.get(&(job.id.clone(), int.into())), Some(&1), "{per:?}");
            }
        }
        assert_eq!(stream.len(), 8, "only phase 2 is in the new instance");
    }
    for (phase, jobs) in [("p1", &phase1), ("p2", &phase2)] {
        for i in 0..jobs.len() {
            for int in ["x", "y"] {
                let path = format!("/{phase}/{i}/{int}");
                assert_eq!(app.receiver.count(&path), 1, "{path}");
            }
        }
    }
    assert_eq!(app.receiver.requests().len(), 14);
    assert_eq!(app.ready(&app.topology.dead_queue).await, 0);

    let (_, result) = worker.stop().await;
    result.unwrap();
    app.cleanup().await;
}

/// The broker closes the consumer's connection while a job is in flight. The consumer
/// reconnects (`consumer_connected()` goes false, then true), jobs published afterwards
/// are delivered, and the job that was in flight ends with exactly one record and
/// acknowledged: its ack on the dead channel fails, the broker delivers it again, and
/// the record (or the store's dedupe, if the redelivery raced the first send) keeps it
/// at one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consumer_comes_back_after_the_broker_closes_its_connection() {
    let app = spawn_app().await;
    let worker = app.spawn_worker();
    worker.wait_connected(true).await;
    let name = format!("callhook-{}-consumer", worker.worker.worker_id());

    let before = app.job(vec![integration("i", &app.url("/before"))]);
    app.publish(&before).await;
    app.wait_records(&before.id, 1).await;

    let gate = app.receiver.hang("/held");
    let held = app.job(vec![integration("i", &app.url("/held"))]);
    app.publish(&held).await;
    eventually("the held job's request", || async {
        (app.receiver.count("/held") == 1).then_some(())
    })
    .await;

    let pids = connection_pids(&name).await;
    assert_eq!(pids.len(), 1, "one connection named {name}: {pids:?}");
    // Watch the flag closely, from a thread of its own so a busy runtime cannot make
    // it miss the tenth of a second the reconnect takes.
    let flag = std::thread::spawn({
        let worker = worker.worker.clone();
        move || {
            let mut seen = vec![worker.consumer_connected()];
            let deadline = std::time::Instant::now() + crate::helpers::DEADLINE;
            while std::time::Instant::now() < deadline && seen != [true, false, true] {
                let now = worker.consumer_connected();
                if Some(&now) != seen.last() {
                    seen.push(now);
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            seen
        }
    });
    rabbitmqctl(&["close_connection", &pids[0], "test: forced close"]).await;
    let seen = tokio::task::spawn_blocking(move || flag.join().unwrap())
        .await
        .unwrap();
    assert_eq!(seen, [true, false, true]);
    let new_pids = eventually("a new consumer connection", || async {
        let now = connection_pids(&name).await;
        (now.len() == 1 && now != pids).then_some(now)
    })
    .await;
    assert_ne!(new_pids, pids);

    let after: Vec<TestJob> = (0..3)
        .map(|i| app.job(vec![integration("i", &app.url(&format!("/after/{i}")))]))
        .collect();
    for job in &after {
        app.publish(job).await;
    }
    for job in &after {
        app.wait_records(&job.id, 1).await;
    }
    gate.release();
    app.wait_records(&held.id, 1).await;
    app.wait_jobs_acked().await;

    assert_eq!(app.records_of(&held.id).await.len(), 1);
    let held_requests = app.receiver.requests_to("/held");
    assert!(
        (1..=2).contains(&held_requests.len()),
        "sent once, or twice if the redelivery raced the first send: {}",
        held_requests.len()
    );
    for (i, job) in after.iter().enumerate() {
        assert_eq!(app.records_of(&job.id).await.len(), 1);
        assert_eq!(app.receiver.count(&format!("/after/{i}")), 1);
    }
    assert_eq!(app.receiver.count("/before"), 1);
    assert!(worker.worker.consumer_connected());
    assert_eq!(app.ready(&app.topology.dead_queue).await, 0);

    let (_, result) = worker.stop().await;
    result.unwrap();
    app.cleanup().await;
}
