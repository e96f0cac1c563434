//! The OpenAPI 3.1 document of the `/v1` routes, served at `GET /v1/openapi.json`.
//!
//! Written by hand (no schema derive reaches into the model crate), and held to the
//! router by a test: its paths and methods must be exactly [`super::ROUTES`], and
//! each of them must be answered by the router (not 404 or 405).

use std::sync::LazyLock;

use axum::Json;
use serde_json::{Value, json};

/// The handler.
pub async fn serve() -> Json<Value> {
    Json(document().clone())
}

/// The document.
pub fn document() -> &'static Value {
    static DOC: LazyLock<Value> = LazyLock::new(build);
    &DOC
}

fn error_responses(codes: &[&str]) -> serde_json::Map<String, Value> {
    codes
        .iter()
        .map(|code| {
            let description = match *code {
                "401" => "missing or invalid API-Token",
                "403" => "the API is closed: no API tokens are configured",
                "413" => "the request body is larger than 256 KiB",
                "415" => "the body is not sent as application/json",
                "422" => "invalid request; `errors` lists each problem with its path",
                "503" => "Redis is unavailable",
                _ => "error",
            };
            (
                (*code).to_string(),
                json!({"description": description,
                       "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
            )
        })
        .collect()
}

fn responses(ok_code: &str, ok: Value, errors: &[&str]) -> Value {
    let mut map = error_responses(errors);
    map.insert(ok_code.into(), ok);
    Value::Object(map)
}

fn build() -> Value {
    let time_param = |name: &str, what: &str| {
        json!({"name": name, "in": "query", "required": false,
               "description": what, "schema": {"type": "string", "format": "date-time"}})
    };
    json!({
      "openapi": "3.1.0",
      "info": {
        "title": "callhook admin API",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "Test integrations, read agents' attempt logs, retry failed deliveries. Every route needs the API-Token header."
      },
      "security": [{"ApiToken": []}],
      "paths": {
        super::TEST_PATH: {
          "post": {
            "operationId": "testIntegration",
            "summary": "Send a sample call to one integration now (the Test button)",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TestRequest"}}}},
            "responses": responses("200", json!({"description": "the attempt record (trigger test), whatever its outcome",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AttemptRecord"}}}}),
                &["400", "401", "403", "413", "415", "422", "503"])
          }
        },
        super::LOGS_PATH: {
          "get": {
            "operationId": "agentLogs",
            "summary": "An agent's attempt records, newest first",
            "parameters": [
              {"name": "agent_id", "in": "path", "required": true, "schema": {"type": "string"}},
              {"name": "integration_id", "in": "query", "required": false, "schema": {"type": "string"}},
              {"name": "outcome", "in": "query", "required": false, "schema": {"$ref": "#/components/schemas/Outcome"}},
              time_param("since", "records stored at or after this time (RFC 3339)"),
              time_param("until", "records stored at or before this time (RFC 3339)"),
              {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": super::logs::MAX_LIMIT, "default": super::logs::DEFAULT_LIMIT}},
              {"name": "cursor", "in": "query", "required": false, "description": "next_cursor of the previous page (opaque)", "schema": {"type": "string"}}
            ],
            "responses": responses("200", json!({"description": "one page",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/LogPage"}}}}),
                &["401", "403", "422", "503"])
          }
        },
        super::RETRIES_PATH: {
          "post": {
            "operationId": "queueRetries",
            "summary": "Retry failed deliveries, by attempt id or in bulk for an agent",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RetryRequest"}}}},
            "responses": responses("202", json!({"description": "queued; errors lists what was not queued and why",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RetryResponse"}}}}),
                &["400", "401", "403", "413", "415", "422", "503"])
          }
        },
        super::OPENAPI_PATH: {
          "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": responses("200", json!({"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}), &["401", "403"])
          }
        }
      },
      "components": {
        "securitySchemes": {"ApiToken": {"type": "apiKey", "in": "header", "name": "API-Token"}},
        "schemas": {
          "Outcome": {"type": "string", "enum": ["succeeded", "failed", "skipped"]},
          "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["message"], "properties": {
              "message": {"type": "string"},
              "errors": {"type": "array", "items": {"type": "object", "required": ["path", "message"],
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}}}}
            }}}
          },
          "TestRequest": {
            "type": "object", "required": ["integration"],
            "properties": {
              "integration": {"type": "object", "description": "one integration as in a job (id and url required)"},
              "sample": {"type": "object", "description": "a job-shaped call (call_info, data sections); the built-in sample when absent"},
              "agent_id": {"type": "string", "description": "the agent whose log gets the record (default the sample's)"}
            }
          },
          "RetryRequest": {
            "oneOf": [
              {"type": "object", "required": ["attempt_ids"], "additionalProperties": false,
               "properties": {"attempt_ids": {"type": "array", "minItems": 1, "maxItems": crate::retries::MAX_ATTEMPT_IDS, "items": {"type": "string"}}}},
              {"type": "object", "required": ["agent_id"], "additionalProperties": false,
               "properties": {"agent_id": {"type": "string"}, "integration_id": {"type": "string"},
                              "since": {"type": "string", "format": "date-time"}, "until": {"type": "string", "format": "date-time"}}}
            ]
          },
          "RetryResponse": {
            "type": "object", "required": ["queued", "batch_id", "errors", "retries"],
            "properties": {
              "queued": {"type": "integer"},
              "batch_id": {"type": "string"},
              "errors": {"type": "array", "items": {"type": "object", "required": ["attempt_id", "message"],
                "properties": {"attempt_id": {"type": "string"}, "message": {"type": "string"}}}},
              "retries": {"type": "array", "items": {"type": "object",
                "properties": {"attempt_id": {"type": "string", "description": "the new attempt's id"},
                               "job_id": {"type": "string"}, "integration_id": {"type": "string"},
                               "retries_attempt_id": {"type": "string", "description": "the failed attempt retried"}}}},
              "examined": {"type": "integer", "description": "bulk: log entries examined"},
              "scan_limit_reached": {"type": "boolean", "description": "bulk: the scan stopped at its bound (100,000 entries) before the window's end"}
            }
          },
          "LogPage": {
            "type": "object", "required": ["items", "next_cursor"],
            "properties": {
              "items": {"type": "array", "items": {"$ref": "#/components/schemas/AttemptRecord"}},
              "next_cursor": {"type": ["string", "null"]}
            }
          },
          "AttemptRecord": {
            "type": "object",
            "required": ["attempt_id", "job_id", "agent_id", "call_log_id", "integration_id", "integration_name",
                         "trigger", "attempt", "outcome", "started_at", "duration_ms", "worker_id"],
            "properties": {
              "attempt_id": {"type": "string"}, "job_id": {"type": "string"}, "agent_id": {"type": "string"},
              "call_log_id": {"type": "string"}, "integration_id": {"type": "string"}, "integration_name": {"type": "string"},
              "trigger": {"type": "string", "enum": ["delivery", "retry", "test"]},
              "attempt": {"type": "integer", "minimum": 1},
              "outcome": {"$ref": "#/components/schemas/Outcome"},
              "request": {"type": ["object", "null"], "properties": {"method": {"type": "string"}, "url": {"type": "string"},
                          "headers": {"type": "object"}, "body": {}}},
              "response": {"type": ["object", "null"], "properties": {"status": {"type": "integer"}, "body": {"type": "string"},
                           "body_truncated": {"type": "boolean"}, "body_encoding": {"type": "string", "enum": ["base64"]}}},
              "error": {"type": ["object", "null"], "properties": {"kind": {"type": "string"}, "message": {"type": "string"}}},
              "started_at": {"type": "string", "format": "date-time"},
              "duration_ms": {"type": "integer"},
              "worker_id": {"type": "string"}
            }
          }
        }
      }
    })
}
