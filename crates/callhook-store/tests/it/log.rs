//! `agent_log`: newest first, filters, cursors, bounded scans.

use callhook_model::{AttemptRecord, Outcome, Trigger};
use callhook_store::{Error, LogQuery, RecordOutcome};

use crate::helpers::{TestStore, record};

async fn store_all(t: &TestStore, recs: &[AttemptRecord]) -> Vec<String> {
    let mut ids = Vec::new();
    for rec in recs {
        match t.store.record(rec).await.unwrap() {
            RecordOutcome::Stored { stream_id, .. } => ids.push(stream_id),
            other => panic!("{other:?}"),
        }
    }
    ids
}

/// Follows cursors to the end; answers the attempt ids in order and the page sizes.
async fn all_pages(t: &TestStore, agent: &str, mut q: LogQuery) -> (Vec<String>, Vec<usize>) {
    let mut ids = Vec::new();
    let mut sizes = Vec::new();
    for _ in 0..100 {
        let page = t.store.agent_log(agent, &q).await.unwrap();
        sizes.push(page.items.len());
        ids.extend(page.items.into_iter().map(|r| r.attempt_id));
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => return (ids, sizes),
        }
    }
    panic!("the log never ended");
}

fn mixed(n: usize) -> Vec<AttemptRecord> {
    (0..n)
        .map(|i| {
            let integration = if i % 3 == 0 { "int_a" } else { "int_b" };
            let outcome = if i % 2 == 0 {
                Outcome::Succeeded
            } else {
                Outcome::Failed
            };
            record(
                &format!("job-{i}"),
                "agent_log",
                integration,
                Trigger::Delivery,
                outcome,
            )
        })
        .collect()
}

fn newest_first(recs: &[AttemptRecord], keep: impl Fn(&AttemptRecord) -> bool) -> Vec<String> {
    recs.iter()
        .rev()
        .filter(|r| keep(r))
        .map(|r| r.attempt_id.clone())
        .collect()
}

#[tokio::test]
async fn pages_run_newest_first_with_every_filter() {
    let t = TestStore::new().await;
    let recs = mixed(25);
    store_all(&t, &recs).await;
    // Another agent's records never show.
    store_all(
        &t,
        &[record(
            "x",
            "agent_other",
            "int_a",
            Trigger::Delivery,
            Outcome::Failed,
        )],
    )
    .await;

    let q = LogQuery {
        limit: 10,
        ..LogQuery::default()
    };
    let (ids, sizes) = all_pages(&t, "agent_log", q.clone()).await;
    assert_eq!(ids, newest_first(&recs, |_| true));
    assert_eq!(sizes, vec![10, 10, 5]);

    let (ids, _) = all_pages(
        &t,
        "agent_log",
        LogQuery {
            integration_id: Some("int_a".into()),
            limit: 3,
            ..q.clone()
        },
    )
    .await;
    assert_eq!(ids, newest_first(&recs, |r| r.integration_id == "int_a"));
    assert_eq!(ids.len(), 9);

    let (ids, _) = all_pages(
        &t,
        "agent_log",
        LogQuery {
            outcome: Some(Outcome::Failed),
            limit: 4,
            ..q.clone()
        },
    )
    .await;
    assert_eq!(ids, newest_first(&recs, |r| r.outcome == Outcome::Failed));

    let (ids, _) = all_pages(
        &t,
        "agent_log",
        LogQuery {
            integration_id: Some("int_b".into()),
            outcome: Some(Outcome::Succeeded),
            limit: 2,
            ..q.clone()
        },
    )
    .await;
    assert_eq!(
        ids,
        newest_first(&recs, |r| r.integration_id == "int_b"
            && r.outcome == Outcome::Succeeded)
    );

    // An exact page: no cursor to an empty page.
    let page = t
        .store
        .agent_log(
            "agent_log",
            &LogQuery {
                limit: 25,
                ..q.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.next_cursor), (25, None));

    let empty = t.store.agent_log("agent_nobody", &q).await.unwrap();
    assert!(empty.items.is_empty() && empty.next_cursor.is_none());

    let bad = t
        .store
        .agent_log(
            "agent_log",
            &LogQuery {
                cursor: Some("nope".into()),
                ..q
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(bad, Error::InvalidCursor(_)) && !bad.is_retryable());
}

#[tokio::test]
async fn since_and_until_select_by_recording_time() {
    let mut t = TestStore::new().await;
    let mut batches = Vec::new();
    let mut bounds = Vec::new();
    for b in 0..3 {
        let recs: Vec<_> = (0..4)
            .map(|i| {
                record(
                    &format!("job-{b}-{i}"),
                    "agent_t",
                    "int",
                    Trigger::Delivery,
                    Outcome::Succeeded,
                )
            })
            .collect();
        let ids = store_all(&t, &recs).await;
        let ms = |id: &String| id.split('-').next().unwrap().parse::<i64>().unwrap();
        bounds.push((ms(&ids[0]), ms(&ids[3])));
        t.wait_past(&ids[3]).await;
        batches.push(recs);
    }
    let q = LogQuery {
        since_ms: Some(bounds[1].0),
        until_ms: Some(bounds[1].1),
        limit: 3,
        ..LogQuery::default()
    };
    let (ids, sizes) = all_pages(&t, "agent_t", q.clone()).await;
    assert_eq!(ids, newest_first(&batches[1], |_| true));
    assert_eq!(sizes, vec![3, 1]);

    let (ids, _) = all_pages(
        &t,
        "agent_t",
        LogQuery {
            until_ms: None,
            ..q.clone()
        },
    )
    .await;
    let mut want = newest_first(&batches[2], |_| true);
    want.extend(newest_first(&batches[1], |_| true));
    assert_eq!(ids, want);

    let (ids, _) = all_pages(
        &t,
        "agent_t",
        LogQuery {
            since_ms: None,
            ..q.clone()
        },
    )
    .await;
    let mut want = newest_first(&batches[1], |_| true);
    want.extend(newest_first(&batches[0], |_| true));
    assert_eq!(ids, want);

    let backwards = LogQuery {
        since_ms: Some(bounds[2].0),
        until_ms: Some(bounds[0].1),
        ..q
    };
    assert!(
        t.store
            .agent_log("agent_t", &backwards)
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn a_rare_filter_scans_in_bounded_steps() {
    let t = TestStore::new().await;
    let mut recs: Vec<_> = (0..450)
        .map(|i| {
            record(
                &format!("job-{i}"),
                "agent_r",
                "int_common",
                Trigger::Delivery,
                Outcome::Succeeded,
            )
        })
        .collect();
    // The one match is the oldest entry.
    recs[0].integration_id = "int_rare".into();
    store_all(&t, &recs).await;

    let mut q = LogQuery {
        integration_id: Some("int_rare".into()),
        limit: 1,
        ..LogQuery::default()
    };
    assert_eq!(q.scan_budget(), 200);
    let mut calls = 0;
    let found = loop {
        calls += 1;
        let page = t.store.agent_log("agent_r", &q).await.unwrap();
        assert!(page.examined <= 200, "examined {}", page.examined);
        if let Some(rec) = page.items.into_iter().next() {
            assert_eq!(page.next_cursor, None);
            break rec;
        }
        q.cursor = Some(page.next_cursor.expect("a short page continues"));
        assert!(calls < 10);
    };
    assert_eq!(found.attempt_id, recs[0].attempt_id);
    assert_eq!(calls, 3);
}
