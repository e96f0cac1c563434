//! `POST /v1/integrations/test`: success and failure against the receiver, the
//! record stored in the agent's log, 422 with field paths, 413, 400 and 415.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_route_sends_stores_and_answers_the_record() {
    let app = spawn_app().await;
    app.receiver.set_status("/broken", 500);

    let ok = app
        .post(
            "/v1/integrations/test",
            &json!({"agent_id": app.agent_id,
                    "integration": {"id": "int_ok", "url": app.receiver.url("/hook")}}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.body["trigger"], "test");
    assert_eq!(ok.body["outcome"], "succeeded");
    assert_eq!(ok.body["attempt"], 1);
    assert_eq!(ok.body["response"]["status"], 200);
    let got = app.receiver.requests_to("/hook");
    assert_eq!(got.len(), 1);
    let sent: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap();
    assert!(sent["call_log_id"].is_string(), "{sent}");

    // A given sample, and a failing receiver: still 200, the record says it failed.
    let failed = app
        .post(
            "/v1/integrations/test",
            &json!({"agent_id": app.agent_id,
                    "integration": {"id": "int_bad", "url": app.receiver.url("/broken"),
                                    "body": {"mode": "custom", "template": {"who": "{{data_capture.name}}"}}},
                    "sample": {"call_info": {"call_log_id": "c-1", "call_status": "picked"},
                               "data_capture": {"name": "Asha"}}}),
        )
        .await;
    assert_eq!(failed.status, 200, "{}", failed.text);
    assert_eq!(failed.body["outcome"], "failed");
    assert_eq!(failed.body["error"]["kind"], "status");
    assert_eq!(failed.body["response"]["status"], 500);
    let got = app.receiver.requests_to("/broken");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&got[0].body).unwrap(),
        json!({"who": "Asha"})
    );

    // Both are in the agent's log, newest first.
    let logs = app.get(&format!("/v1/agents/{}/logs", app.agent_id)).await;
    assert_eq!(logs.status, 200, "{}", logs.text);
    let ids: Vec<&str> = logs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["attempt_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            failed.body["attempt_id"].as_str().unwrap(),
            ok.body["attempt_id"].as_str().unwrap()
        ]
    );
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_and_oversized_requests_are_refused_with_json() {
    let app = spawn_app().await;

    let invalid = app
        .post(
            "/v1/integrations/test",
            &json!({"integration": {"id": "x", "method": "FETCH"}}),
        )
        .await;
    assert_eq!(invalid.status, 422, "{}", invalid.text);
    let paths: Vec<&str> = invalid.body["error"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"integration.method"), "{paths:?}");
    assert!(paths.contains(&"integration.url"), "{paths:?}");
    assert!(
        invalid.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("integration.method")
    );

    let missing = app.post("/v1/integrations/test", &json!({})).await;
    assert_eq!(missing.status, 422);
    assert_eq!(missing.body["error"]["errors"][0]["path"], "integration");

    let bad_sample = app
        .post(
            "/v1/integrations/test",
            &json!({"integration": {"id": "x", "url": app.receiver.url("/x")}, "sample": {"call_info": {}}}),
        )
        .await;
    assert_eq!(bad_sample.status, 422, "{}", bad_sample.text);
    assert!(
        bad_sample.body["error"]["errors"][0]["path"]
            .as_str()
            .unwrap()
            .starts_with("sample.call_info")
    );
    assert!(app.receiver.requests_to("/x").is_empty());

    let big = json!({"integration": {"id": "x", "url": app.receiver.url("/x")},
                     "sample": {"call_summary": "a".repeat(300 * 1024)}});
    let too_large = app.post("/v1/integrations/test", &big).await;
    assert_eq!(too_large.status, 413, "{}", too_large.text);
    assert!(
        too_large.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("larger than")
    );
    let too_large = app
        .post(
            "/v1/retries",
            &json!({"attempt_ids": vec!["a".repeat(1000); 300]}),
        )
        .await;
    assert_eq!(too_large.status, 413, "{}", too_large.text);

    let not_json = app
        .send(
            app.client
                .post(format!("{}/v1/retries", app.api))
                .header("API-Token", &app.token)
                .header("content-type", "application/json")
                .body("{nope"),
        )
        .await;
    assert_eq!(not_json.status, 400, "{}", not_json.text);
    assert!(not_json.body["error"]["message"].is_string());
    let no_type = app
        .send(
            app.client
                .post(format!("{}/v1/retries", app.api))
                .header("API-Token", &app.token)
                .body("{}"),
        )
        .await;
    assert_eq!(no_type.status, 415, "{}", no_type.text);
    assert!(no_type.body["error"]["message"].is_string());

    let bad_retry = app
        .post(
            "/v1/retries",
            &json!({"agent_id": "a", "since": "yesterday"}),
        )
        .await;
    assert_eq!(bad_retry.status, 422);
    assert_eq!(bad_retry.body["error"]["errors"][0]["path"], "since");
    app.cleanup().await;
}
