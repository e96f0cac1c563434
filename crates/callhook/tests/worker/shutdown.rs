//! Graceful shutdown with jobs in flight: finish within the grace period, or hand back.

use std::time::Duration;

use crate::helpers::{Held, TestJob, eventually, integration, spawn_app_with};

/// Receivers take a second; the grace period is five. Shutdown fires while the first
/// jobs are in flight: they finish (records stored, acked), the rest stay queued, and
/// nothing is lost: acknowledged + still queued == published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_in_flight_jobs_within_the_grace_period() {
    const N: usize = 8;
    let app = spawn_app_with(|c| {
        c.prefetch = 3;
        c.shutdown_grace_secs = 5.0;
    })
    .await;
    app.receiver.delay_all(Duration::from_secs(1));
    let jobs: Vec<TestJob> = (0..N)
        .map(|i| app.job(vec![integration("i", &app.url(&format!("/j/{i}")))]))
        .collect();
    for job in &jobs {
        app.publish(job).await;
    }
    let worker = app.spawn_worker();
    eventually("jobs in flight", || async {
        (app.receiver.requests().len() >= 3).then_some(())
    })
    .await;
    let in_flight_paths: Vec<String> = app
        .receiver
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect();

    let (took, result) = worker.stop().await;
    result.unwrap();
    assert!(took < Duration::from_secs(5), "run returned after {took:?}");

    // Every job whose request was out when shutdown fired was finished and recorded.
    let mut recorded = 0;
    for (i, job) in jobs.iter().enumerate() {
        let records = app.records_of(&job.id).await;
        assert!(records.len() <= 1, "job {i}: {} records", records.len());
        let was_in_flight = in_flight_paths.contains(&format!("/j/{i}"));
        if was_in_flight {
            assert_eq!(records.len(), 1, "in-flight job {i} was finished");
            assert_eq!(records[0].field("outcome"), "succeeded");
        }
        recorded += records.len();
    }
    assert!(recorded >= in_flight_paths.len());
    // The rest is back in the queue, none held: acknowledged + queued == N.
    assert!(recorded < N, "shutdown took no new jobs");
    app.wait_held(
        &app.topology.jobs_queue,
        Held {
            ready: (N - recorded) as u32,
            unacked: 0,
        },
    )
    .await;
    assert_eq!(app.ready(&app.topology.dead_queue).await, 0);

    // A new worker does the rest, once each.
    app.receiver.delay_all(Duration::ZERO);
    let worker = app.spawn_worker();
    for job in &jobs {
        app.wait_records(&job.id, 1).await;
    }
    app.wait_jobs_acked().await;
    for job in &jobs {
        assert_eq!(app.records_of(&job.id).await.len(), 1);
    }
    let (_, result) = worker.stop().await;
    result.unwrap();
    app.cleanup().await;
}

/// The grace period (0.3 s) is shorter than the receivers (10 s): shutdown hands the
/// in-flight jobs back unacknowledged, records nothing for them, and a new worker
/// finishes them, once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_still_in_flight_when_the_grace_period_ends_are_handed_back() {
    const N: usize = 4;
    let app = spawn_app_with(|c| {
        c.prefetch = 8;
        c.shutdown_grace_secs = 0.3;
    })
    .await;
    app.receiver.delay_all(Duration::from_secs(10));
    let jobs: Vec<TestJob> = (0..N)
        .map(|i| app.job(vec![integration("i", &app.url(&format!("/j/{i}")))]))
        .collect();
    for job in &jobs {
        app.publish(job).await;
    }
    let worker = app.spawn_worker();
    eventually("every job in flight", || async {
        (app.receiver.requests().len() == N).then_some(())
    })
    .await;
    let (took, result) = worker.stop().await;
    result.unwrap();
    assert!(
        took < Duration::from_millis(3300),
        "run returned after {took:?}, before the receivers answered"
    );
    for job in &jobs {
        assert!(app.records_of(&job.id).await.is_empty());
    }
    app.wait_held(
        &app.topology.jobs_queue,
        Held {
            ready: N as u32,
            unacked: 0,
        },
    )
    .await;

    app.receiver.delay_all(Duration::ZERO);
    let worker = app.spawn_worker();
    for job in &jobs {
        app.wait_records(&job.id, 1).await;
    }
    app.wait_jobs_acked().await;
    for (i, job) in jobs.iter().enumerate() {
        let records = app.records_of(&job.id).await;
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].field("outcome"), "succeeded");
        assert_eq!(records[0].record["worker_id"], worker.worker.worker_id());
        // Sent by both workers: the first request was abandoned at the deadline.
        assert_eq!(app.receiver.count(&format!("/j/{i}")), 2);
    }
    assert_eq!(app.ready(&app.topology.dead_queue).await, 0);
    let (_, result) = worker.stop().await;
    result.unwrap();
    app.cleanup().await;
}
