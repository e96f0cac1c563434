//! The global and per-host caps, held under load, and a saturated host failing
//! only its own deliveries.

use std::sync::Arc;
use std::time::{Duration, Instant};

use callhook_dispatch::{DispatchConfig, Dispatcher};
use callhook_model::{ErrorKind, Outcome};
use tokio::task::JoinSet;

use crate::support::*;

async fn slow(delay: Duration, concurrency: Arc<Concurrency>) -> Receiver {
    Receiver::start_with(concurrency, None, move |_| async move {
        tokio::time::sleep(delay).await;
        text(200, "ok")
    })
    .await
}

fn send_all(d: &Dispatcher, urls: Vec<String>) -> JoinSet<callhook_dispatch::Attempt> {
    let mut set = JoinSet::new();
    for url in urls {
        let d = d.clone();
        set.spawn(async move { d.send(&post(&url, "{}"), None).await });
    }
    set
}

#[tokio::test]
async fn the_per_host_cap_holds() {
    let rx = slow(Duration::from_millis(100), Arc::default()).await;
    let d = dispatcher(DispatchConfig {
        max_per_host: 2,
        ..config()
    });
    let attempts = send_all(&d, vec![rx.url("/"); 10]).join_all().await;
    assert!(
        attempts.iter().all(|a| a.outcome == Outcome::Succeeded),
        "{attempts:?}"
    );
    assert_eq!(rx.requests().len(), 10);
    assert_eq!(rx.concurrency.max(), 2);
    assert_eq!(d.in_flight(), 0);
    assert_eq!(d.hosts_tracked(), 0, "host entries must go away when idle");
}

#[tokio::test]
async fn the_global_cap_holds_across_hosts() {
    let shared = Arc::new(Concurrency::default());
    let a = slow(Duration::from_millis(100), shared.clone()).await;
    let b = slow(Duration::from_millis(100), shared.clone()).await;
    let d = dispatcher(DispatchConfig {
        max_in_flight: 3,
        max_per_host: 64,
        ..config()
    });
    let mut urls = vec![a.url("/"); 6];
    urls.extend(vec![b.url("/"); 6]);
    let mut set = send_all(&d, urls);
    let mut max_in_flight = 0;
    assert!(
        wait_for(Duration::from_secs(10), || {
            max_in_flight = max_in_flight.max(d.in_flight());
            a.requests().len() + b.requests().len() == 12 && shared.current() == 0
        })
        .await
    );
    while let Some(attempt) = set.join_next().await {
        assert_eq!(attempt.unwrap().outcome, Outcome::Succeeded);
    }
    assert_eq!(shared.max(), 3);
    assert!(max_in_flight <= 3 && max_in_flight > 0, "{max_in_flight}");
    assert_eq!(d.in_flight(), 0);
}

#[tokio::test]
async fn a_saturated_host_fails_its_own_queued_deliveries_only() {
    let stuck = Receiver::start(|_| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        text(200, "never")
    })
    .await;
    let fine = Receiver::answering(200, "ok").await;
    let d = dispatcher(DispatchConfig {
        max_per_host: 2,
        timeout: Duration::from_millis(700),
        ..config()
    });
    let t = Instant::now();
    let stuck_set = send_all(&d, vec![stuck.url("/"); 6]);
    // The stuck host's two slots are taken before the other host's work starts.
    assert!(wait_for(Duration::from_secs(5), || stuck.concurrency.current() == 2).await);
    let fine_attempts = send_all(&d, vec![fine.url("/"); 6]).join_all().await;
    assert!(
        fine_attempts
            .iter()
            .all(|a| a.outcome == Outcome::Succeeded),
        "{fine_attempts:?}"
    );
    let stuck_attempts = stuck_set.join_all().await;
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    let messages: Vec<_> = stuck_attempts
        .iter()
        .map(|a| {
            let e = a.error.as_ref().unwrap();
            assert_eq!(e.kind, ErrorKind::Timeout, "{}", e.message);
            e.message.clone()
        })
        .collect();
    let no_slot = messages
        .iter()
        .filter(|m| m.contains("never got a slot"))
        .count();
    let no_response = messages
        .iter()
        .filter(|m| m.contains("no response"))
        .count();
    assert_eq!((no_slot, no_response), (4, 2), "{messages:#?}");
    assert!(
        messages
            .iter()
            .any(|m| m.contains(&format!("127.0.0.1:{}", stuck.port())))
    );
    assert_eq!(stuck.requests().len(), 2);
    assert_eq!(d.hosts_tracked(), 0);
}

#[tokio::test]
async fn a_host_with_its_queue_full_refuses_more_at_once() {
    let stuck = Receiver::start(|_| async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        text(200, "never")
    })
    .await;
    let d = dispatcher(DispatchConfig {
        max_per_host: 2,
        max_queued_per_host: 3,
        timeout: Duration::from_secs(4),
        ..config()
    });
    // Two in flight and three waiting: the host's whole share.
    let held = send_all(&d, vec![stuck.url("/"); 5]);
    assert!(wait_for(Duration::from_secs(5), || stuck.concurrency.current() == 2).await);
    assert!(wait_for(Duration::from_secs(5), || d.in_flight() == 5).await);
    // The next ones are on probation: nothing to the host finishes within the stall
    // window (half the timeout, at most 1 s), so they fail as saturated then...
    let t = Instant::now();
    let probation = send_all(&d, vec![stuck.url("/"); 4]).join_all().await;
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    // ...and from then on the host is known stalled: more fail at once instead of
    // queueing behind the black hole.
    let t = Instant::now();
    let refused = send_all(&d, vec![stuck.url("/"); 4]).join_all().await;
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    for a in probation.iter().chain(&refused) {
        let e = a.error.as_ref().unwrap();
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert!(e.message.contains("the host is saturated"), "{}", e.message);
    }
    let held = held.join_all().await;
    assert!(held.iter().all(|a| a.outcome == Outcome::Failed));
    assert_eq!(stuck.requests().len(), 2);
}

#[tokio::test]
async fn a_busy_healthy_host_is_never_cut_short() {
    let fine = Receiver::start(|_| async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        text(200, "ok")
    })
    .await;
    let d = dispatcher(DispatchConfig {
        max_per_host: 2,
        max_queued_per_host: 3,
        timeout: Duration::from_secs(10),
        ..config()
    });
    // Ten times the host's share at once: it keeps finishing requests, so all wait
    // their turn and succeed.
    let attempts = send_all(&d, vec![fine.url("/"); 50]).join_all().await;
    assert!(
        attempts.iter().all(|a| a.outcome == Outcome::Succeeded),
        "{:?}",
        attempts.iter().filter_map(|a| a.error.as_ref()).next()
    );
    assert_eq!(fine.concurrency.max(), 2);
}
