//! The result of one delivery ([`Attempt`]) and how it becomes an [`AttemptRecord`].
//!
//! The dispatcher knows the request; the caller (worker, Test route, `callhook
//! test`) knows the job: [`Attempt::into_record`] joins the two with a
//! [`RecordMeta`], so every producer of records builds them the same way.

use std::time::{Duration, SystemTime};

use callhook_model::record::format_timestamp;
use callhook_model::{
    AttemptRecord, ErrorKind, ErrorRecord, Outcome, RequestRecord, ResponseRecord, Trigger, redact,
};
use serde_json::value::RawValue;

/// One delivery attempt, as the dispatcher saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// `Succeeded` or `Failed`.
    pub outcome: Outcome,
    /// The request as sent (or as it would have been sent), secrets redacted.
    pub request: RequestRecord,
    /// The response, when one arrived (body capped).
    pub response: Option<ResponseRecord>,
    /// Why it failed; `None` on success.
    pub error: Option<ErrorRecord>,
    /// When the attempt clock started: after the global in-flight permit, before
    /// waiting for the host's slot.
    pub started_at: SystemTime,
    /// From `started_at` until the outcome was known.
    pub duration: Duration,
}

impl Attempt {
    /// Whether the delivery succeeded.
    pub fn succeeded(&self) -> bool {
        self.outcome == Outcome::Succeeded
    }

    /// The error kind, if it failed.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        self.error.as_ref().map(|e| e.kind)
    }

    /// The attempt record (CONTRACT §3) of this attempt.
    pub fn into_record(self, meta: RecordMeta) -> AttemptRecord {
        let duration_ms = u64::try_from(self.duration.as_millis()).unwrap_or(u64::MAX);
        AttemptRecord {
            attempt_id: meta.attempt_id,
            job_id: meta.job_id,
            agent_id: meta.agent_id,
            call_log_id: meta.call_log_id,
            integration_id: meta.integration_id,
            integration_name: meta.integration_name,
            trigger: meta.trigger,
            attempt: meta.attempt,
            outcome: self.outcome,
            request: Some(self.request),
            response: self.response,
            error: self.error,
            started_at: format_timestamp(self.started_at),
            duration_ms,
            worker_id: meta.worker_id,
        }
    }
}

/// What a record says beyond the attempt itself: which job, integration and try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMeta {
    /// A ULID, unique per attempt.
    pub attempt_id: String,
    /// The job's id.
    pub job_id: String,
    /// The agent's id.
    pub agent_id: String,
    /// The call's id.
    pub call_log_id: String,
    /// The integration's id.
    pub integration_id: String,
    /// The integration's name.
    pub integration_name: String,
    /// What caused the attempt.
    pub trigger: Trigger,
    /// 1 for the first delivery, one more per retry.
    pub attempt: u32,
    /// Which worker made it.
    pub worker_id: String,
}

impl RecordMeta {
    /// The record of an attempt that sent nothing: a skipped integration
    /// (`not_picked`, `analysis_disabled`) or a request that could not be rendered
    /// (`invalid_request`). `request` and `response` are null, the duration zero.
    pub fn unsent_record(self, outcome: Outcome, error: ErrorRecord) -> AttemptRecord {
        AttemptRecord {
            attempt_id: self.attempt_id,
            job_id: self.job_id,
            agent_id: self.agent_id,
            call_log_id: self.call_log_id,
            integration_id: self.integration_id,
            integration_name: self.integration_name,
            trigger: self.trigger,
            attempt: self.attempt,
            outcome,
            request: None,
            response: None,
            error: Some(error),
            started_at: format_timestamp(SystemTime::now()),
            duration_ms: 0,
            worker_id: self.worker_id,
        }
    }
}

/// Record headers: names as sent, secret values redacted; a name sent more than
/// once becomes an array of its values.
pub(crate) fn record_headers<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value;
    let mut map = serde_json::Map::new();
    for (name, value) in headers {
        let shown = Value::String(redact::header_value(name, value).to_string());
        match map.entry(name) {
            serde_json::map::Entry::Vacant(slot) => {
                slot.insert(shown);
            }
            serde_json::map::Entry::Occupied(mut slot) => {
                let existing = slot.get_mut();
                if let Value::Array(values) = existing {
                    values.push(shown);
                } else {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, shown]);
                }
            }
        }
    }
    map
}

/// The record's body: the bytes themselves when they are JSON (as the renderer
/// makes them), otherwise a JSON string of them (lossy UTF-8).
pub(crate) fn record_body(bytes: &[u8]) -> Option<Box<RawValue>> {
    if let Ok(raw) = serde_json::from_slice::<&RawValue>(bytes) {
        return Some(raw.to_owned());
    }
    let as_string = serde_json::to_string(&String::from_utf8_lossy(bytes)).ok()?;
    RawValue::from_string(as_string).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::UNIX_EPOCH;

    fn meta() -> RecordMeta {
        RecordMeta {
            attempt_id: "01JEXAMPLE0000000000000000".into(),
            job_id: "j".into(),
            agent_id: "a".into(),
            call_log_id: "c".into(),
            integration_id: "i".into(),
            integration_name: "I".into(),
            trigger: Trigger::Test,
            attempt: 1,
            worker_id: "w".into(),
        }
    }

    #[test]
    fn headers_are_redacted_and_duplicates_kept() {
        let map = record_headers([
            ("Authorization", "Bearer s3cr3t"),
            ("X-Api-Key", "k"),
            ("Accept", "a"),
            ("Accept", "b"),
            ("Accept", "c"),
            ("webhook-signature", "v1,xyz"),
            ("webhook-id", "msg_1"),
        ]);
        assert_eq!(
            serde_json::Value::Object(map),
            serde_json::json!({
                "Authorization": "[redacted]",
                "X-Api-Key": "[redacted]",
                "Accept": ["a", "b", "c"],
                "webhook-signature": "[redacted]",
                "webhook-id": "msg_1",
            })
        );
    }

    #[test]
    fn bodies_are_raw_json_or_a_json_string() {
        assert_eq!(
            record_body(br#"{"a": [1, 2.50]}"#).unwrap().get(),
            r#"{"a": [1, 2.50]}"#
        );
        assert_eq!(record_body(b"not json").unwrap().get(), r#""not json""#);
        assert_eq!(record_body(b"a\"b").unwrap().get(), r#""a\"b""#);
        assert_eq!(record_body(&[0xff, b'x']).unwrap().get(), "\"\u{fffd}x\"");
        assert_eq!(record_body(b"").unwrap().get(), r#""""#);
    }

    #[test]
    fn records_join_attempt_and_meta() {
        let attempt = Attempt {
            outcome: Outcome::Failed,
            request: RequestRecord {
                method: "POST".into(),
                url: "https://x.test/".into(),
                headers: serde_json::Map::new(),
                body: record_body(b"{}"),
            },
            response: None,
            error: Some(ErrorRecord {
                kind: ErrorKind::Connect,
                message: "refused".into(),
            }),
            started_at: UNIX_EPOCH + Duration::from_millis(1_796_288_400_123),
            duration: Duration::from_micros(12_900),
        };
        assert_eq!(attempt.error_kind(), Some(ErrorKind::Connect));
        assert!(!attempt.succeeded());
        let rec = attempt.into_record(meta());
        let json = serde_json::to_value(&rec).unwrap();
        assert_eq!(json["started_at"], "2026-12-03T09:00:00.123Z");
        assert_eq!(json["duration_ms"], 12);
        assert_eq!(json["trigger"], "test");
        assert_eq!(json["outcome"], "failed");
        assert_eq!(json["error"]["kind"], "connect");
        assert_eq!(json["request"]["body"], serde_json::json!({}));
    }

    #[test]
    fn unsent_records_have_no_request() {
        let rec = meta().unsent_record(
            Outcome::Failed,
            ErrorRecord {
                kind: ErrorKind::InvalidRequest,
                message: "url: bad".into(),
            },
        );
        assert_eq!(rec.request, None);
        assert_eq!(rec.duration_ms, 0);
        assert_eq!(rec.error.unwrap().kind, ErrorKind::InvalidRequest);
    }
}
