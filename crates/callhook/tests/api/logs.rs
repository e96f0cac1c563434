//! `GET /v1/agents/{agent_id}/logs`: pages across cursors with every filter, and the
//! 422s of bad parameters. Records are stored with `Store::record` (the worker's
//! own path), in two batches separated in time for the window filters.

use std::time::Duration;

use callhook_model::AttemptRecord;
use serde_json::{Value, json};

use crate::helpers::{TestApp, now_ms, rfc3339, spawn_app};

fn record(app: &TestApp, n: usize, integration: &str, outcome: &str) -> AttemptRecord {
    serde_json::from_value(json!({
        "attempt_id": ulid::Ulid::generate().to_string(),
        "job_id": format!("job-{n}"),
        "agent_id": app.agent_id,
        "call_log_id": format!("call-{n}"),
        "integration_id": integration,
        "integration_name": integration,
        "trigger": "delivery",
        "attempt": 1,
        "outcome": outcome,
        "request": null,
        "response": null,
        "error": if outcome == "failed" { json!({"kind": "status", "message": "500"}) } else { Value::Null },
        "started_at": "2026-12-03T09:00:00.000Z",
        "duration_ms": 3,
        "worker_id": "w"
    }))
    .unwrap()
}

/// Follows the cursor to the end; returns the attempt ids and the number of pages.
async fn all_pages(app: &TestApp, query: &str) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/agents/{}/logs?{query}", app.agent_id);
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let a = app.get(&path).await;
        assert_eq!(a.status, 200, "{path}: {}", a.text);
        pages += 1;
        for item in a.body["items"].as_array().unwrap() {
            ids.push(item["attempt_id"].as_str().unwrap().to_string());
        }
        match a.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return (ids, pages),
        }
        assert!(pages < 100, "no end to the pages");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_page_newest_first_with_every_filter() {
    let app = spawn_app().await;
    let mut stored: Vec<(AttemptRecord, bool)> = Vec::new(); // (record, in the second batch)
    let kinds = [
        ("int_a", "failed"),
        ("int_a", "succeeded"),
        ("int_b", "failed"),
        ("int_a", "failed"),
        ("int_b", "skipped"),
    ];
    for n in 0..10 {
        let (i, o) = kinds[n % kinds.len()];
        let r = record(&app, n, i, o);
        app.store.record(&r).await.unwrap();
        stored.push((r, false));
    }
    tokio::time::sleep(Duration::from_millis(30)).await;
    let since = now_ms();
    tokio::time::sleep(Duration::from_millis(30)).await;
    for n in 10..22 {
        let (i, o) = kinds[n % kinds.len()];
        let r = record(&app, n, i, o);
        app.store.record(&r).await.unwrap();
        stored.push((r, true));
    }
    tokio::time::sleep(Duration::from_millis(30)).await;
    let until = now_ms();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let r = record(&app, 99, "int_a", "failed");
    app.store.record(&r).await.unwrap();
    stored.push((r, false));

    let expect = |f: &dyn Fn(&AttemptRecord, bool) -> bool| -> Vec<String> {
        stored
            .iter()
            .rev()
            .filter(|(r, second)| f(r, *second))
            .map(|(r, _)| r.attempt_id.clone())
            .collect()
    };

    // Everything, three at a time: newest first, no gaps, no repeats.
    let (ids, pages) = all_pages(&app, "limit=3").await;
    assert_eq!(ids, expect(&|_, _| true));
    assert!(pages >= 8, "{pages} pages");
    // The default page is 50.
    let a = app.get(&format!("/v1/agents/{}/logs", app.agent_id)).await;
    assert_eq!(a.body["items"].as_array().unwrap().len(), 23);
    assert!(a.body["next_cursor"].is_null());

    let (ids, pages) = all_pages(&app, "limit=2&integration_id=int_a").await;
    assert_eq!(ids, expect(&|r, _| r.integration_id == "int_a"));
    assert!(pages > 1);
    let (ids, _) = all_pages(&app, "limit=2&outcome=failed").await;
    assert_eq!(
        ids,
        expect(&|r, _| r.outcome == callhook_model::Outcome::Failed)
    );
    let window = format!("since={}&until={}", rfc3339(since), rfc3339(until));
    let (ids, pages) = all_pages(&app, &format!("limit=5&{window}")).await;
    assert_eq!(ids, expect(&|_, second| second));
    assert!(pages > 1);
    let (ids, pages) = all_pages(
        &app,
        &format!("limit=1&{window}&integration_id=int_a&outcome=failed"),
    )
    .await;
    let want = expect(&|r, second| {
        second && r.integration_id == "int_a" && r.outcome == callhook_model::Outcome::Failed
    });
    assert!(want.len() >= 3);
    assert_eq!(ids, want);
    assert!(pages > 1);
    // An RFC 3339 offset other than Z works too.
    let plus_one = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(since) * 1_000_000)
        .unwrap()
        .to_offset(time::UtcOffset::from_hms(1, 0, 0).unwrap())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (ids, _) = all_pages(&app, &format!("since={}", plus_one.replace('+', "%2B"))).await;
    assert_eq!(ids, expect(&|r, second| second || r.job_id == "job-99"));

    for (query, path) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=many", "limit"),
        ("outcome=lost", "outcome"),
        ("since=yesterday", "since"),
        ("until=2026-13-01T00:00:00Z", "until"),
        ("cursor=not-a-cursor", "cursor"),
    ] {
        let a = app
            .get(&format!("/v1/agents/{}/logs?{query}", app.agent_id))
            .await;
        assert_eq!(a.status, 422, "{query}: {}", a.text);
        assert_eq!(a.body["error"]["errors"][0]["path"], path, "{query}");
    }
    assert_eq!(
        app.get(&format!("/v1/agents/{}/logs?limit=500", app.agent_id))
            .await
            .status,
        200
    );
    app.cleanup().await;
}
