//! `record`, the job and the job state.

use callhook_model::{ErrorKind, ErrorRecord, Outcome, Trigger};
use callhook_store::{AttemptRef, RecordOutcome, StoreConfig};
use redis::streams::StreamRangeReply;

use crate::helpers::{TestStore, config, record};

fn stored_id(outcome: RecordOutcome) -> String {
    match outcome {
        RecordOutcome::Stored {
            stream_id,
            duplicate: false,
        } => stream_id,
        other => panic!("expected a fresh store, got {other:?}"),
    }
}

#[tokio::test]
async fn record_appends_to_both_streams_and_sets_state_and_index() {
    let mut t = TestStore::new().await;
    t.store
        .put_job("job-1", b"{\"job_id\":\"job-1\"}")
        .await
        .unwrap();
    let mut rec = record(
        "job-1",
        "agent_42",
        "int_crm",
        Trigger::Delivery,
        Outcome::Failed,
    );
    rec.error = Some(ErrorRecord {
        kind: ErrorKind::Status,
        message: "500".into(),
    });
    let json = serde_json::to_string(&rec).unwrap();
    let stream_id = stored_id(t.store.record(&rec).await.unwrap());

    let agent_key = t.key("attempts:{agent_42}");
    for key in [t.key("attempts"), agent_key.clone()] {
        let reply: StreamRangeReply = t
            .cmd(redis::cmd("XRANGE").arg(&key).arg("-").arg("+"))
            .await;
        assert_eq!(reply.ids.len(), 1, "{key}");
        let e = &reply.ids[0];
        assert_eq!(e.get::<String>("record").unwrap(), json);
        assert_eq!(e.get::<String>("outcome").unwrap(), "failed");
        assert_eq!(e.get::<String>("agent_id").unwrap(), "agent_42");
        assert_eq!(e.get::<String>("integration_id").unwrap(), "int_crm");
        assert_eq!(e.get::<String>("job_id").unwrap(), "job-1");
        assert_eq!(e.map.len(), 5);
        if key == agent_key {
            assert_eq!(e.id, stream_id);
        }
    }

    let state: String = t
        .cmd(
            redis::cmd("HGET")
                .arg(t.key("state:{job-1}"))
                .arg("int_crm"),
        )
        .await;
    assert_eq!(state, json);
    let index_key = t.key(&format!("attempt:{{{}}}", rec.attempt_id));
    let index: String = t.cmd(redis::cmd("GET").arg(&index_key)).await;
    assert_eq!(
        index,
        format!(
            r#"{{"job_id":"job-1","integration_id":"int_crm","agent_id":"agent_42","stream_id":"{stream_id}"}}"#
        )
    );
    let retention = StoreConfig::default().retention.as_secs() as i64;
    for key in [t.key("state:{job-1}"), index_key, t.key("job:{job-1}")] {
        let ttl: i64 = t.cmd(redis::cmd("TTL").arg(&key)).await;
        assert!(ttl > retention - 60 && ttl <= retention, "{key}: ttl {ttl}");
    }

    assert_eq!(
        t.store.attempt_ref(&rec.attempt_id).await.unwrap(),
        Some(AttemptRef {
            job_id: "job-1".into(),
            integration_id: "int_crm".into(),
            agent_id: "agent_42".into(),
            stream_id,
        })
    );
    assert_eq!(t.store.attempt_ref("nope").await.unwrap(), None);
    let state = t.store.job_state("job-1").await.unwrap();
    assert_eq!(state.len(), 1);
    assert_eq!(state["int_crm"], rec);
    assert_eq!(
        t.store.latest_attempt("job-1", "int_crm").await.unwrap(),
        Some(rec)
    );
    assert_eq!(
        t.store.latest_attempt("job-1", "other").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn recording_the_same_attempt_twice_appends_once() {
    let mut t = TestStore::new().await;
    let rec = record(
        "job-2",
        "agent_a",
        "int_1",
        Trigger::Retry,
        Outcome::Succeeded,
    );
    let first = stored_id(t.store.record(&rec).await.unwrap());
    let again = t.store.record(&rec).await.unwrap();
    assert_eq!(
        again,
        RecordOutcome::Stored {
            stream_id: first,
            duplicate: true
        }
    );
    for key in [t.key("attempts"), t.key("attempts:{agent_a}")] {
        let len: u64 = t.cmd(redis::cmd("XLEN").arg(&key)).await;
        assert_eq!(len, 1, "{key}");
    }
}

#[tokio::test]
async fn a_second_delivery_of_an_integration_is_already_recorded() {
    let mut t = TestStore::new().await;
    let first = record(
        "job-3",
        "agent_a",
        "int_1",
        Trigger::Delivery,
        Outcome::Failed,
    );
    stored_id(t.store.record(&first).await.unwrap());

    // Another worker handling the redelivered job: a new attempt id, same integration.
    let racing = record(
        "job-3",
        "agent_a",
        "int_1",
        Trigger::Delivery,
        Outcome::Succeeded,
    );
    assert_eq!(
        t.store.record(&racing).await.unwrap(),
        RecordOutcome::AlreadyRecorded(Box::new(first.clone()))
    );
    // Nor was the racing attempt indexed.
    assert_eq!(t.store.attempt_ref(&racing.attempt_id).await.unwrap(), None);

    // Another integration of the same job is independent.
    let other = record(
        "job-3",
        "agent_a",
        "int_2",
        Trigger::Delivery,
        Outcome::Succeeded,
    );
    stored_id(t.store.record(&other).await.unwrap());

    // A retry always appends, and becomes the latest state; a delivery still dedupes.
    let mut retry = record(
        "job-3",
        "agent_a",
        "int_1",
        Trigger::Retry,
        Outcome::Succeeded,
    );
    retry.attempt = 2;
    stored_id(t.store.record(&retry).await.unwrap());
    assert_eq!(t.store.job_state("job-3").await.unwrap()["int_1"], retry);
    assert_eq!(
        t.store.record(&racing).await.unwrap(),
        RecordOutcome::AlreadyRecorded(Box::new(retry))
    );

    let len: u64 = t
        .cmd(redis::cmd("XLEN").arg(t.key("attempts:{agent_a}")))
        .await;
    assert_eq!(len, 3);
}

#[tokio::test]
async fn streams_are_capped_with_approximate_maxlen() {
    let mut t = TestStore::with(StoreConfig {
        global_maxlen: 10,
        agent_maxlen: 5,
        ..config()
    })
    .await;
    for i in 0..400 {
        let agent = if i % 2 == 0 {
            "agent_even"
        } else {
            "agent_odd"
        };
        let rec = record(
            &format!("job-{i}"),
            agent,
            "int",
            Trigger::Delivery,
            Outcome::Succeeded,
        );
        stored_id(t.store.record(&rec).await.unwrap());
    }
    // `~` trims whole stream nodes (stream-node-max-entries, 100 by default).
    let node: Vec<String> = t
        .cmd(
            redis::cmd("CONFIG")
                .arg("GET")
                .arg("stream-node-max-entries"),
        )
        .await;
    let node: u64 = node[1].parse().unwrap();
    let global: u64 = t.cmd(redis::cmd("XLEN").arg(t.key("attempts"))).await;
    let even: u64 = t
        .cmd(redis::cmd("XLEN").arg(t.key("attempts:{agent_even}")))
        .await;
    assert!(global >= 10 && global <= 10 + node, "global {global}");
    assert!(even >= 5 && even <= 5 + node, "agent {even}");
    assert!(global < 400 && even < 200);
}

#[tokio::test]
async fn jobs_are_kept_for_the_retention() {
    let mut t = TestStore::with(StoreConfig {
        retention: std::time::Duration::from_secs(3600),
        ..config()
    })
    .await;
    let raw = b"{\"job_id\":\"j\",\"bytes\":\"\xff\"}";
    t.store.put_job("j", raw).await.unwrap();
    assert_eq!(
        t.store.get_job("j").await.unwrap().as_deref(),
        Some(&raw[..])
    );
    assert_eq!(t.store.get_job("missing").await.unwrap(), None);
    let ttl: i64 = t.cmd(redis::cmd("TTL").arg(t.key("job:{j}"))).await;
    assert!(ttl > 3500 && ttl <= 3600, "ttl {ttl}");
    t.store.ping().await.unwrap();
}

#[tokio::test]
async fn a_corrupt_state_is_a_permanent_error() {
    let mut t = TestStore::new().await;
    let _: () = t
        .cmd(
            redis::cmd("HSET")
                .arg(t.key("state:{j}"))
                .arg("int")
                .arg("not json"),
        )
        .await;
    let err = t.store.job_state("j").await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    // And the script refuses to deliver twice over an unreadable record.
    let rec = record("j", "a", "int", Trigger::Delivery, Outcome::Succeeded);
    let err = t.store.record(&rec).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
}
