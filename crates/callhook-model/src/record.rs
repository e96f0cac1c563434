//! The attempt record (CONTRACT §3): one per attempt, of every trigger.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// What caused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The job's first processing.
    Delivery,
    /// A manual retry.
    Retry,
    /// The Test button.
    Test,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A 2xx within the timeout.
    Succeeded,
    /// Anything else.
    Failed,
    /// Not sent, by a product rule (the error kind says which).
    Skipped,
}

impl Outcome {
    /// The outcome's name, as in records and routing keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }
}

/// Why an attempt failed or was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A response arrived with a non-2xx status.
    Status,
    /// No complete response within the timeout (including waiting for a host slot).
    Timeout,
    /// The connection could not be made or broke.
    Connect,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed (bad or self-signed certificate, ...).
    Tls,
    /// The target is refused by the network policy.
    Blocked,
    /// The request could not be rendered (bad URL, header, ...).
    InvalidRequest,
    /// Headers arrived in time but the body did not finish within the timeout.
    ResponseTooSlow,
    /// The server answered with something that is not valid HTTP, or reset mid-response.
    Protocol,
    /// Skipped: the call was not `picked`.
    NotPicked,
    /// Skipped: post-call analysis is disabled for this call.
    AnalysisDisabled,
}

impl ErrorKind {
    /// The kind's name, as in records and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Status => "status",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Dns => "dns",
            ErrorKind::Tls => "tls",
            ErrorKind::Blocked => "blocked",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::ResponseTooSlow => "response_too_slow",
            ErrorKind::Protocol => "protocol",
            ErrorKind::NotPicked => "not_picked",
            ErrorKind::AnalysisDisabled => "analysis_disabled",
        }
    }
}

/// `{"kind": ..., "message": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorRecord {
    /// The machine-readable cause.
    pub kind: ErrorKind,
    /// A human-readable explanation.
    pub message: String,
}

/// The request as sent, secrets redacted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestRecord {
    /// The method.
    pub method: String,
    /// The final URL (credentials and secret-looking query values redacted).
    pub url: String,
    /// Headers as sent, secret values replaced by `[redacted]`.
    pub headers: serde_json::Map<String, serde_json::Value>,
    /// The JSON body, or null for GET and DELETE.
    pub body: Option<Box<RawValue>>,
}

impl PartialEq for RequestRecord {
    fn eq(&self, other: &Self) -> bool {
        self.method == other.method
            && self.url == other.url
            && self.headers == other.headers
            && self.body.as_ref().map(|b| b.get()) == other.body.as_ref().map(|b| b.get())
    }
}

/// The response, body capped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseRecord {
    /// The HTTP status code.
    pub status: u16,
    /// The body, up to the cap: text when it is UTF-8, else base64 (see `body_encoding`).
    pub body: String,
    /// Whether the body was longer than the cap.
    pub body_truncated: bool,
    /// `base64` when the body was not valid UTF-8; absent for text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_encoding: Option<String>,
}

/// The record of one attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// A ULID, unique per attempt, sortable by time.
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
    /// 1 for the first delivery, then one more per retry of this job's integration.
    pub attempt: u32,
    /// How it ended.
    pub outcome: Outcome,
    /// The request as sent, absent when nothing could be rendered or sent.
    pub request: Option<RequestRecord>,
    /// The response, absent when none arrived.
    pub response: Option<ResponseRecord>,
    /// Why it failed or was skipped.
    pub error: Option<ErrorRecord>,
    /// When the attempt started, RFC 3339 UTC with milliseconds.
    pub started_at: String,
    /// How long it took.
    pub duration_ms: u64,
    /// Which worker made it.
    pub worker_id: String,
}

/// Formats a time as RFC 3339 UTC with milliseconds: `2026-12-03T09:00:00.123Z`.
pub fn format_timestamp(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&format)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".into())
}

/// Parses an RFC 3339 time (any offset) into milliseconds since the Unix epoch.
pub fn parse_timestamp_ms(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps_round_trip_with_millis() {
        let t = UNIX_EPOCH + Duration::from_millis(1_796_288_400_123);
        let s = format_timestamp(t);
        assert_eq!(s, "2026-12-03T09:00:00.123Z");
        assert_eq!(parse_timestamp_ms(&s), Some(1_796_288_400_123));
        assert_eq!(
            parse_timestamp_ms("2026-12-03T10:00:00.123+01:00"),
            Some(1_796_288_400_123)
        );
        assert_eq!(parse_timestamp_ms("yesterday"), None);
    }

    #[test]
    fn record_serializes_to_the_contract_shape() {
        let rec = AttemptRecord {
            attempt_id: "01JEXAMPLE0000000000000000".into(),
            job_id: "j".into(),
            agent_id: "a".into(),
            call_log_id: "c".into(),
            integration_id: "i".into(),
            integration_name: "I".into(),
            trigger: Trigger::Delivery,
            attempt: 1,
            outcome: Outcome::Succeeded,
            request: Some(RequestRecord {
                method: "POST".into(),
                url: "https://x.test/".into(),
                headers: serde_json::Map::new(),
                body: Some(RawValue::from_string("{\"a\":1}".into()).unwrap()),
            }),
            response: Some(ResponseRecord {
                status: 200,
                body: "ok".into(),
                body_truncated: false,
                body_encoding: None,
            }),
            error: None,
            started_at: "2026-12-03T09:00:00.123Z".into(),
            duration_ms: 12,
            worker_id: "w".into(),
        };
        let json = serde_json::to_string(&rec).unwrap();
        assert_eq!(
            json,
            r#"{"attempt_id":"01JEXAMPLE0000000000000000","job_id":"j","agent_id":"a","call_log_id":"c","integration_id":"i","integration_name":"I","trigger":"delivery","attempt":1,"outcome":"succeeded","request":{"method":"POST","url":"https://x.test/","headers":{},"body":{"a":1}},"response":{"status":200,"body":"ok","body_truncated":false},"error":null,"started_at":"2026-12-03T09:00:00.123Z","duration_ms":12,"worker_id":"w"}"#
        );
        let back: AttemptRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, rec);
    }
}
