//! Two replicas on one queue.

use std::collections::{HashMap, HashSet};

use futures_util::future::join_all;

use crate::helpers::{TestJob, integration, spawn_app_with};

/// 200 jobs, two in-process workers with prefetch 4: every job is delivered exactly
/// once, recorded once, and both workers did some of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_a_queue_and_deliver_every_job_exactly_once() {
    const N: usize = 200;
    let app = spawn_app_with(|c| c.prefetch = 4).await;
    let one = app.spawn_worker();
    let two = app.spawn_worker();
    one.wait_connected(true).await;
    two.wait_connected(true).await;

    let jobs: Vec<TestJob> = (0..N)
        .map(|_| app.job(vec![integration("i", &app.url("/hook"))]))
        .collect();
    for chunk in jobs.chunks(50) {
        join_all(chunk.iter().map(|job| app.publish(job))).await;
    }

    let entries = crate::helpers::eventually("200 records", || async {
        let all = app.stream(&app.attempts_key()).await;
        (all.len() >= N).then_some(all)
    })
    .await;
    app.wait_jobs_acked().await;

    assert_eq!(entries.len(), N);
    let recorded: HashSet<&str> = entries.iter().map(|e| e.field("job_id")).collect();
    assert_eq!(recorded.len(), N, "one record per job");
    let mut per_job: HashMap<String, usize> = HashMap::new();
    for r in app.receiver.requests() {
        let body = r.json();
        let call_log_id = body["call_log_id"].as_str().unwrap().to_string();
        *per_job.entry(call_log_id).or_default() += 1;
    }
    assert_eq!(per_job.len(), N);
    assert!(per_job.values().all(|&n| n == 1), "a job was sent twice");
    let by_worker: HashMap<String, usize> = entries.iter().fold(HashMap::new(), |mut acc, e| {
        *acc.entry(e.record["worker_id"].as_str().unwrap().to_string())
            .or_default() += 1;
        acc
    });
    let ids: HashSet<&str> = by_worker.keys().map(String::as_str).collect();
    assert_eq!(
        ids,
        HashSet::from([one.worker.worker_id(), two.worker.worker_id()]),
        "{by_worker:?}"
    );
    assert_eq!(app.ready(&app.topology.dead_queue).await, 0);

    let ((_, r1), (_, r2)) = tokio::join!(one.stop(), two.stop());
    r1.unwrap();
    r2.unwrap();
    app.cleanup().await;
}
