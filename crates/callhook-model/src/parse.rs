//! Validation of job JSON into [`Job`], collecting every problem with its path.
//!
//! This is hand-written rather than derived so that each error names the field and
//! says what was expected and what was found, and so that one bad field does not
//! hide the next.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::job::{
    Body, CallInfo, Integration, Job, JobError, Method, Section, SigningKey, ValidationError,
};

/// Collects problems while walking a job.
#[derive(Default)]
struct Errors(Vec<ValidationError>);

impl Errors {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ValidationError {
            path: path.into(),
            message: message.into(),
        });
    }
}

/// A short description of a JSON value for "got ..." messages.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() > 40 => {
            let short: String = s.chars().take(40).collect();
            format!("{short:?}…")
        }
        Value::String(s) => format!("{s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

fn join_path(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else {
        format!("{base}.{key}")
    }
}

/// Takes a required non-empty string.
fn req_string(obj: &mut Map<String, Value>, base: &str, key: &str, errs: &mut Errors) -> String {
    let path = join_path(base, key);
    match obj.remove(key) {
        None | Some(Value::Null) => {
            errs.push(path, "is required");
            String::new()
        }
        Some(Value::String(s)) if s.trim().is_empty() => {
            errs.push(path, "must not be empty");
            String::new()
        }
        Some(Value::String(s)) => s,
        Some(other) => {
            errs.push(path, format!("expected a string, got {}", describe(&other)));
            String::new()
        }
    }
}

/// Takes an optional string; null counts as absent.
fn opt_string(
    obj: &mut Map<String, Value>,
    base: &str,
    key: &str,
    errs: &mut Errors,
) -> Option<String> {
    match obj.remove(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            errs.push(
                join_path(base, key),
                format!("expected a string, got {}", describe(&other)),
            );
            None
        }
    }
}

fn opt_bool(
    obj: &mut Map<String, Value>,
    base: &str,
    key: &str,
    errs: &mut Errors,
) -> Option<bool> {
    match obj.remove(key) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(b),
        Some(other) => {
            errs.push(
                join_path(base, key),
                format!("expected true or false, got {}", describe(&other)),
            );
            None
        }
    }
}

fn object(value: Value, path: &str, errs: &mut Errors) -> Option<Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map),
        other => {
            errs.push(
                path,
                format!("expected an object, got {}", describe(&other)),
            );
            None
        }
    }
}

/// Characters an agent id may not contain: it becomes part of an AMQP topic routing
/// key (where `.`, `*` and `#` are syntax) and of a Redis Cluster hash tag (`{}`).
fn check_agent_id(id: &str, errs: &mut Errors) {
    if id.is_empty() {
        return;
    }
    if id.len() > 200 {
        errs.push("agent_id", "must be at most 200 bytes");
    }
    if let Some(c) = id
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || ".*#{}".contains(*c))
    {
        errs.push(
            "agent_id",
            format!(
                "must not contain whitespace, control characters or any of . * # {{ }}, found {c:?}"
            ),
        );
    }
}

pub(crate) fn job(value: Value) -> Result<Job, JobError> {
    let mut errs = Errors::default();
    let Some(mut obj) = object(value, "", &mut errs) else {
        return Err(JobError::Invalid(errs.0));
    };

    let job_id = req_string(&mut obj, "", "job_id", &mut errs);
    let agent_id = req_string(&mut obj, "", "agent_id", &mut errs);
    check_agent_id(&agent_id, &mut errs);
    let post_call_analysis_enabled =
        opt_bool(&mut obj, "", "post_call_analysis_enabled", &mut errs).unwrap_or(true);

    let call_info = match obj.remove("call_info") {
        None | Some(Value::Null) => {
            errs.push("call_info", "is required");
            None
        }
        Some(v) => object(v, "call_info", &mut errs).map(|mut ci| CallInfo {
            call_log_id: req_string(&mut ci, "call_info", "call_log_id", &mut errs),
            phone_number: opt_string(&mut ci, "call_info", "phone_number", &mut errs),
            agent_name: opt_string(&mut ci, "call_info", "agent_name", &mut errs),
            call_status: req_string(&mut ci, "call_info", "call_status", &mut errs),
            call_type: opt_string(&mut ci, "call_info", "call_type", &mut errs),
        }),
    };
    let call_summary = opt_string(&mut obj, "", "call_summary", &mut errs);
    let data = |obj: &mut Map<String, Value>, key: &str| match obj.remove(key) {
        None | Some(Value::Null) => None,
        Some(v) => Some(v),
    };
    let data_capture = data(&mut obj, "data_capture");
    let structured_output = data(&mut obj, "structured_output");
    let call_trigger_data = data(&mut obj, "call_trigger_data");

    let integrations = match obj.remove("integrations") {
        None | Some(Value::Null) => {
            errs.push("integrations", "is required (it may be an empty array)");
            Vec::new()
        }
        Some(Value::Array(items)) => integrations(items, &mut errs),
        Some(other) => {
            errs.push(
                "integrations",
                format!("expected an array, got {}", describe(&other)),
            );
            Vec::new()
        }
    };

    match call_info {
        Some(call_info) if errs.0.is_empty() => Ok(Job {
            job_id,
            agent_id,
            post_call_analysis_enabled,
            call_info,
            call_summary,
            data_capture,
            structured_output,
            call_trigger_data,
            integrations,
        }),
        _ => Err(JobError::Invalid(errs.0)),
    }
}

fn integrations(items: Vec<Value>, errs: &mut Errors) -> Vec<Integration> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let path = format!("integrations[{i}]");
        if let Some(integration) = integration(item, &path, errs) {
            if let Some(first) = seen.get(&integration.id) {
                errs.push(
                    format!("{path}.id"),
                    format!(
                        "duplicate id {:?} (also at integrations[{first}])",
                        integration.id
                    ),
                );
            } else {
                seen.insert(integration.id.clone(), i);
            }
            out.push(integration);
        }
    }
    out
}

pub(crate) fn integration_alone(value: Value) -> Result<Integration, JobError> {
    let mut errs = Errors::default();
    match integration(value, "integration", &mut errs) {
        Some(i) if errs.0.is_empty() => Ok(i),
        _ => Err(JobError::Invalid(errs.0)),
    }
}

fn integration(value: Value, path: &str, errs: &mut Errors) -> Option<Integration> {
    let before = errs.0.len();
    let mut obj = object(value, path, errs)?;
    let id = req_string(&mut obj, path, "id", errs);
    let url = req_string(&mut obj, path, "url", errs);
    let name = opt_string(&mut obj, path, "name", errs).unwrap_or_else(|| id.clone());
    let active = opt_bool(&mut obj, path, "active", errs).unwrap_or(true);
    let method = match obj.remove("method") {
        None | Some(Value::Null) => Method::Post,
        Some(Value::String(s)) => Method::parse(&s).unwrap_or_else(|| {
            errs.push(
                format!("{path}.method"),
                format!("expected one of POST, PUT, PATCH, GET, DELETE, got {s:?}"),
            );
            Method::Post
        }),
        Some(other) => {
            errs.push(
                format!("{path}.method"),
                format!(
                    "expected one of POST, PUT, PATCH, GET, DELETE, got {}",
                    describe(&other)
                ),
            );
            Method::Post
        }
    };
    let headers = match obj.remove("headers") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => headers(v, &format!("{path}.headers"), errs),
    };
    let body = match obj.remove("body") {
        None | Some(Value::Null) => Body::default(),
        Some(v) => body(v, &format!("{path}.body"), errs),
    };
    let signing_secret = opt_string(&mut obj, path, "signing_secret", errs).and_then(|s| {
        SigningKey::parse(&s)
            .map_err(|m| errs.push(format!("{path}.signing_secret"), m))
            .ok()
    });
    (errs.0.len() == before).then_some(Integration {
        id,
        name,
        active,
        method,
        url,
        headers,
        body,
        signing_secret,
    })
}

fn headers(value: Value, path: &str, errs: &mut Errors) -> Vec<(String, String)> {
    let Some(map) = object(value, path, errs) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(map.len());
    for (name, value) in map {
        match value {
            Value::String(v) => out.push((name, v)),
            // Numbers and booleans are what a dashboard form would type as text.
            Value::Number(n) => out.push((name, n.to_string())),
            Value::Bool(b) => out.push((name, b.to_string())),
            other => errs.push(
                format!("{path}.{name}"),
                format!("expected a string, got {}", describe(&other)),
            ),
        }
    }
    out
}

fn body(value: Value, path: &str, errs: &mut Errors) -> Body {
    let Some(mut obj) = object(value, path, errs) else {
        return Body::default();
    };
    let mode = match obj.remove("mode") {
        None | Some(Value::Null) => "auto".to_string(),
        Some(Value::String(s)) => s,
        Some(other) => {
            errs.push(
                format!("{path}.mode"),
                format!("expected \"auto\" or \"custom\", got {}", describe(&other)),
            );
            return Body::default();
        }
    };
    match mode.as_str() {
        "auto" => {
            let sections = match obj.remove("sections") {
                None | Some(Value::Null) => Section::ALL.to_vec(),
                Some(Value::Array(items)) => {
                    let mut sections = Vec::with_capacity(items.len());
                    for (i, item) in items.into_iter().enumerate() {
                        match item.as_str().and_then(Section::parse) {
                            Some(s) if !sections.contains(&s) => sections.push(s),
                            Some(_) => {}
                            None => errs.push(
                                format!("{path}.sections[{i}]"),
                                format!(
                                    "expected one of call_info, call_summary, data_capture, structured_output, call_trigger_data, got {}",
                                    describe(&item)
                                ),
                            ),
                        }
                    }
                    sections
                }
                Some(other) => {
                    errs.push(
                        format!("{path}.sections"),
                        format!(
                            "expected an array of section names, got {}",
                            describe(&other)
                        ),
                    );
                    Vec::new()
                }
            };
            Body::Auto { sections }
        }
        "custom" => match obj.remove("template") {
            None => {
                errs.push(
                    format!("{path}.template"),
                    "is required when mode is \"custom\"",
                );
                Body::default()
            }
            Some(template) => Body::Custom { template },
        },
        other => {
            errs.push(
                format!("{path}.mode"),
                format!("expected \"auto\" or \"custom\", got {other:?}"),
            );
            Body::default()
        }
    }
}

#[cfg(test)]
mod tests;
