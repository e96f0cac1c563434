//! The token check: 401 without or with a wrong token, 403 with none configured;
//! health, readiness and metrics open; unknown routes a JSON 404.

use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_routes_need_a_valid_token() {
    let app = spawn_app().await;
    let logs = format!("{}/v1/agents/{}/logs", app.api, app.agent_id);

    let missing = app.send(app.client.get(&logs)).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.body["error"]["message"], "missing API-Token header");
    let wrong = app
        .send(
            app.client
                .get(&logs)
                .header("API-Token", format!("{}x", app.token)),
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body["error"]["message"], "invalid API token");
    let prefix = app
        .send(
            app.client
                .get(&logs)
                .header("API-Token", &app.token[..app.token.len() - 1]),
        )
        .await;
    assert_eq!(prefix.status, 401);
    for (path, method) in [
        ("/v1/retries", "POST"),
        ("/v1/integrations/test", "POST"),
        ("/v1/openapi.json", "GET"),
    ] {
        let req = app
            .client
            .request(method.parse().unwrap(), format!("{}{path}", app.api));
        assert_eq!(
            app.send(req.header("content-type", "application/json").body("{}"))
                .await
                .status,
            401,
            "{path}"
        );
    }
    assert_eq!(
        app.get(&format!("/v1/agents/{}/logs", app.agent_id))
            .await
            .status,
        200
    );

    // No token needed.
    for path in ["/healthz", "/readyz", "/metrics"] {
        let a = app.send(app.client.get(format!("{}{path}", app.api))).await;
        assert_eq!(a.status, 200, "{path}: {}", a.text);
    }
    let unknown = app.get("/v1/nothing").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.body["error"]["message"].is_string());
    let wrong_method = app
        .post(&format!("/v1/agents/{}/logs", app.agent_id), &json!({}))
        .await;
    assert_eq!(wrong_method.status, 405);
    assert!(wrong_method.body["error"]["message"].is_string());
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_token_configured_the_api_is_closed() {
    let app = spawn_app_with(|c| c.api_tokens.clear()).await;
    let closed = app.get(&format!("/v1/agents/{}/logs", app.agent_id)).await;
    assert_eq!(closed.status, 403);
    assert!(
        closed.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("CALLHOOK_API_TOKENS")
    );
    let bare = app
        .send(app.client.post(format!("{}/v1/retries", app.api)))
        .await;
    assert_eq!(bare.status, 403);
    assert_eq!(
        app.send(app.client.get(format!("{}/healthz", app.api)))
            .await
            .status,
        200
    );
    app.cleanup().await;
}
