//! Response bodies: the cap, memory staying bounded, and non-UTF-8 bodies.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use callhook_dispatch::DispatchConfig;
use callhook_model::Outcome;

use crate::support::*;

const MIB: u64 = 1024 * 1024;

#[tokio::test]
async fn a_100_mb_body_is_truncated_at_the_cap_without_being_read() {
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    let rx = Receiver::start(move |_| {
        let counter = counter.clone();
        async move {
            let (tx, body) = channel_body();
            tokio::spawn(async move {
                let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
                // 100 MiB, made lazily: a chunk only once the previous one was taken.
                for _ in 0..1600 {
                    if tx.send(chunk.clone()).await.is_err() {
                        return;
                    }
                    counter.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                }
            });
            let mut response = streamed(200, body);
            response
                .headers_mut()
                .insert("content-length", (100 * MIB).to_string().parse().unwrap());
            response
        }
    })
    .await;
    let rss_before = rss_kib();
    let d = dispatcher(config());
    let t = Instant::now();
    let attempt = d.send(&post(&rx.url("/"), "{}"), None).await;
    assert_eq!(attempt.outcome, Outcome::Succeeded, "{:?}", attempt.error);
    let response = attempt.response.unwrap();
    assert!(response.body_truncated);
    assert_eq!(response.body.len(), 64 * 1024);
    assert!(response.body.bytes().all(|b| b == b'a'));
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    // The connection was dropped: the sender stops once socket buffers are full.
    // Give it a moment to notice, then check it got nowhere near 100 MiB.
    assert!(
        wait_for(Duration::from_secs(5), || rx.concurrency.current() == 0).await,
        "the receiver still holds the request"
    );
    let total = sent.load(Ordering::SeqCst);
    eprintln!("the receiver got to send {} KiB of 100 MiB", total / 1024);
    assert!(total < 16 * MIB, "the receiver sent {} MiB", total / MIB);
    if let (Some(before), Some(after)) = (rss_before, rss_kib()) {
        let grown = after.saturating_sub(before);
        eprintln!("RSS grew by {grown} KiB");
        assert!(grown < 48 * 1024, "RSS grew by {grown} KiB");
    }
}

#[tokio::test]
async fn the_cap_is_configurable_and_exact() {
    let rx = Receiver::answering(200, "0123456789").await;
    for (cap, body, truncated) in [
        (10, "0123456789", false),
        (9, "012345678", true),
        (0, "", true),
    ] {
        let d = dispatcher(DispatchConfig {
            max_response_body: cap,
            ..config()
        });
        let response = d
            .send(&post(&rx.url("/"), "{}"), None)
            .await
            .response
            .unwrap();
        assert_eq!(
            (response.body.as_str(), response.body_truncated),
            (body, truncated),
            "{cap}"
        );
    }
}

#[tokio::test]
async fn non_utf8_bodies_are_base64() {
    let rx =
        Receiver::start(|_| async { text(500, Bytes::from_static(&[0xff, 0xfe, 0x00, 0x41])) })
            .await;
    let d = dispatcher(config());
    let response = d
        .send(&post(&rx.url("/"), "{}"), None)
        .await
        .response
        .unwrap();
    assert_eq!(response.status, 500);
    assert_eq!(response.body, "//4AQQ==");
    assert_eq!(response.body_encoding.as_deref(), Some("base64"));
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(json["body_encoding"], "base64");
}

#[tokio::test]
async fn a_character_cut_by_the_cap_is_dropped_and_the_rest_stays_text() {
    let rx = Receiver::answering(200, "abcd✓").await;
    let d = dispatcher(DispatchConfig {
        max_response_body: 5,
        ..config()
    });
    let response = d
        .send(&post(&rx.url("/"), "{}"), None)
        .await
        .response
        .unwrap();
    assert_eq!(response.body, "abcd");
    assert!(response.body_truncated);
    assert_eq!(response.body_encoding, None);
    // Text bodies have no body_encoding field at all.
    let json = serde_json::to_value(&response).unwrap();
    assert!(json.get("body_encoding").is_none());
}
