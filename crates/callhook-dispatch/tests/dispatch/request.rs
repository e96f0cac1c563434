//! What is sent: methods and bodies, headers, signatures, and what is recorded.

use bytes::Bytes;
use callhook_dispatch::{RecordMeta, Signing, USER_AGENT_VALUE, webhook_id};
use callhook_model::{ErrorKind, Method, Outcome, RenderedRequest, SigningKey, Trigger};

use crate::support::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[tokio::test]
async fn methods_and_body_presence() {
    let rx = Receiver::answering(200, "ok").await;
    let d = dispatcher(config());
    for method in Method::ALL {
        let request = RenderedRequest {
            body: Some(Bytes::from_static(br#"{"m":1}"#)),
            ..bodiless(method, &rx.url("/m"))
        };
        let attempt = d.send(&request, None).await;
        assert_eq!(attempt.outcome, Outcome::Succeeded, "{method}");
        assert_eq!(attempt.request.method, method.as_str());
        let got = rx.requests().pop().unwrap();
        assert_eq!(got.method.as_str(), method.as_str());
        if method.has_body() {
            assert_eq!(&got.body[..], br#"{"m":1}"#, "{method}");
            assert_eq!(attempt.request.body.unwrap().get(), r#"{"m":1}"#);
        } else {
            // GET and DELETE carry no body, even when one was passed.
            assert!(got.body.is_empty(), "{method}");
            assert!(
                !got.headers.contains_key("content-length") || got.headers["content-length"] == "0"
            );
            assert!(attempt.request.body.is_none());
        }
    }
}

#[tokio::test]
async fn content_type_is_forced_and_user_agent_defaulted() {
    let rx = Receiver::answering(200, "ok").await;
    let d = dispatcher(config());
    let request = RenderedRequest {
        headers: vec![
            ("content-type".into(), "text/plain".into()),
            ("X-A".into(), "1".into()),
        ],
        ..post(&rx.url("/"), "{}")
    };
    let attempt = d.send(&request, None).await;
    let got = rx.requests().pop().unwrap();
    let types: Vec<_> = got.headers.get_all("content-type").iter().collect();
    assert_eq!(types, ["application/json"]);
    assert_eq!(got.headers["user-agent"], USER_AGENT_VALUE);
    assert!(USER_AGENT_VALUE.starts_with("callhook/"));
    assert_eq!(got.headers["x-a"], "1");
    let recorded = serde_json::Value::Object(attempt.request.headers);
    assert_eq!(
        recorded,
        serde_json::json!({"X-A": "1", "User-Agent": USER_AGENT_VALUE, "Content-Type": "application/json"})
    );

    // An integration's own User-Agent wins.
    let request = RenderedRequest {
        headers: vec![("User-Agent".into(), "crm-bridge/2".into())],
        ..post(&rx.url("/"), "{}")
    };
    d.send(&request, None).await;
    let got = rx.requests().pop().unwrap();
    let agents: Vec<_> = got.headers.get_all("user-agent").iter().collect();
    assert_eq!(agents, ["crm-bridge/2"]);
}

#[tokio::test]
async fn records_redact_secrets_but_the_receiver_gets_them() {
    let rx = Receiver::answering(200, "ok").await;
    let d = dispatcher(config());
    let url = format!("http://user:pw@{}/hook?token=abc&page=2", rx.addr);
    let request = RenderedRequest {
        headers: vec![
            ("Authorization".into(), "Bearer s3cr3t".into()),
            ("X-Api-Key".into(), "k-123".into()),
            ("X-Trace".into(), "t-1".into()),
        ],
        ..post(&url, r#"{"a":1}"#)
    };
    let attempt = d.send(&request, None).await;
    assert_eq!(attempt.outcome, Outcome::Succeeded, "{attempt:?}");
    let got = rx.requests().pop().unwrap();
    assert_eq!(got.headers["authorization"], "Bearer s3cr3t");
    assert_eq!(got.headers["x-api-key"], "k-123");
    assert_eq!(got.uri.query(), Some("token=abc&page=2"));
    let record = serde_json::to_string(&attempt.request).unwrap();
    for secret in ["s3cr3t", "k-123", "abc", ":pw@"] {
        assert!(!record.contains(secret), "{secret} leaked: {record}");
    }
    assert_eq!(attempt.request.headers["Authorization"], "[redacted]");
    assert_eq!(attempt.request.headers["X-Trace"], "t-1");
    assert!(
        attempt.request.url.contains("token=[redacted]&page=2"),
        "{}",
        attempt.request.url
    );
}

#[tokio::test]
async fn signed_requests_verify_with_the_standardwebhooks_crate() {
    let rx = Receiver::answering(200, "ok").await;
    let d = dispatcher(config());
    let key = SigningKey::parse(SECRET).unwrap();
    let verifier = standardwebhooks::Webhook::new(SECRET).unwrap();
    let id = webhook_id("job-1", "int_crm");
    for request in [
        post(&rx.url("/signed"), r#"{"call_log_id":"c-1","n":2}"#),
        bodiless(Method::Get, &rx.url("/signed")),
        bodiless(Method::Delete, &rx.url("/signed")),
    ] {
        let attempt = d
            .send(
                &request,
                Some(Signing {
                    key: &key,
                    webhook_id: &id,
                }),
            )
            .await;
        assert_eq!(attempt.outcome, Outcome::Succeeded);
        let got = rx.requests().pop().unwrap();
        verifier.verify(&got.body, &got.headers).unwrap();
        assert_eq!(got.headers["webhook-id"], id.as_str());
        let signature = got.headers["webhook-signature"].to_str().unwrap();
        assert!(signature.starts_with("v1,"));
        // The record shows the id and timestamp, never the signature.
        assert_eq!(attempt.request.headers["webhook-id"], id.as_str());
        assert_eq!(attempt.request.headers["webhook-signature"], "[redacted]");
        assert!(attempt.request.headers.contains_key("webhook-timestamp"));
    }
    // A tampered body fails verification.
    let got = rx.requests()[0].clone();
    assert!(verifier.verify(b"{}", &got.headers).is_err());
}

#[tokio::test]
async fn requests_that_cannot_be_sent_are_invalid_request() {
    let d = dispatcher(config());
    for (request, needle) in [
        (post("not a url", "{}"), "url"),
        (post("ftp://127.0.0.1/x", "{}"), "scheme"),
        (
            RenderedRequest {
                headers: vec![("Bad Name".into(), "x".into())],
                ..post("http://127.0.0.1:9/", "{}")
            },
            "Bad Name",
        ),
        (
            RenderedRequest {
                headers: vec![("X-A".into(), "a\r\nInjected: 1".into())],
                ..post("http://127.0.0.1:9/", "{}")
            },
            "X-A",
        ),
        (
            RenderedRequest {
                headers: vec![("Content-Length".into(), "5".into())],
                ..post("http://127.0.0.1:9/", "{}")
            },
            "Content-Length",
        ),
    ] {
        let attempt = d.send(&request, None).await;
        let error = attempt.error.unwrap();
        assert_eq!(error.kind, ErrorKind::InvalidRequest, "{}", error.message);
        assert!(error.message.contains(needle), "{}", error.message);
        assert_eq!(
            attempt.request.url,
            callhook_model::redact::url(&request.url)
        );
    }
}

#[tokio::test]
async fn a_live_attempt_becomes_a_contract_shaped_record() {
    let rx = Receiver::answering(201, "created").await;
    let d = dispatcher(config());
    let attempt = d
        .send(&post(&rx.url("/r"), r#"{"call_log_id":"c-1"}"#), None)
        .await;
    let record = attempt.into_record(RecordMeta {
        attempt_id: "01JEXAMPLE0000000000000000".into(),
        job_id: "job-1".into(),
        agent_id: "agent_1".into(),
        call_log_id: "c-1".into(),
        integration_id: "int_crm".into(),
        integration_name: "CRM sync".into(),
        trigger: Trigger::Delivery,
        attempt: 1,
        worker_id: "w-1".into(),
    });
    let json = serde_json::to_value(&record).unwrap();
    assert_eq!(json["outcome"], "succeeded");
    assert_eq!(json["trigger"], "delivery");
    assert_eq!(
        json["request"]["body"],
        serde_json::json!({"call_log_id": "c-1"})
    );
    assert_eq!(
        json["response"],
        serde_json::json!({"status": 201, "body": "created", "body_truncated": false})
    );
    assert_eq!(json["error"], serde_json::Value::Null);
    assert!(json["started_at"].as_str().unwrap().ends_with('Z'));
    assert!(json["duration_ms"].is_u64());
}
