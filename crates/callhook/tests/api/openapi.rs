//! The OpenAPI document matches the router: its operations are exactly
//! `callhook::api::ROUTES`, the router answers each of them, and refuses the methods
//! the document does not list.

use std::collections::BTreeSet;

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_matches_the_routes() {
    let app = spawn_app().await;
    let doc = app.get("/v1/openapi.json").await;
    assert_eq!(doc.status, 200);
    assert_eq!(&doc.body, callhook::api::openapi::document());
    assert_eq!(doc.body["openapi"], "3.1.0");

    let methods = ["get", "post", "put", "patch", "delete"];
    let mut documented = BTreeSet::new();
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(methods.contains(&method.as_str()), "{path}: {method}");
            assert!(op["responses"].is_object(), "{method} {path} has responses");
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let routed: BTreeSet<(String, String)> = callhook::api::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_string(), (*p).to_string()))
        .collect();
    assert_eq!(documented, routed);

    // Every $ref resolves.
    let text = doc.body.to_string();
    for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &piece[..piece.find('"').unwrap()];
        assert!(
            doc.body["components"]["schemas"][name].is_object(),
            "{name}"
        );
    }

    // The router serves each documented operation and only those methods.
    for (method, path) in &routed {
        let concrete = path.replace("{agent_id}", &app.agent_id);
        for m in methods {
            let req = app
                .client
                .request(
                    m.to_uppercase().parse().unwrap(),
                    format!("{}{concrete}", app.api),
                )
                .header("API-Token", &app.token)
                .header("content-type", "application/json")
                .body("{}");
            let status = app.send(req).await.status;
            if m.eq_ignore_ascii_case(method) {
                assert!(status != 404 && status != 405, "{method} {path}: {status}");
            } else {
                assert_eq!(status, 405, "{m} {path}");
            }
        }
    }
    app.cleanup().await;
}
