//! Property tests of the template renderer's invariants.
#![allow(clippy::unwrap_used, missing_docs)]

use callhook_model::Job;
use callhook_render::{Template, render_job};
use proptest::prelude::*;
use serde_json::{Map, Number, Value, json};

/// Arbitrary JSON, with strings that never contain `{{`.
fn plain_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
        "[0-9]{19,40}".prop_map(|digits| {
            let trimmed = digits.trim_start_matches('0');
            let digits = if trimmed.is_empty() { "0" } else { trimmed };
            serde_json::from_str::<Value>(digits).unwrap()
        }),
        any::<String>()
            .prop_map(|s| s.replace("{{", "{ {"))
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Strings full of brace noise and near-placeholders.
fn noisy_string() -> impl Strategy<Value = String> {
    let bits = prop_oneof![
        Just("{{".to_string()),
        Just("}}".to_string()),
        Just("{".to_string()),
        Just(".".to_string()),
        Just(" ".to_string()),
        Just("data_capture".to_string()),
        Just("structured_output".to_string()),
        Just("call_info".to_string()),
        Just("call_summary".to_string()),
        Just("call_trigger_data".to_string()),
        Just("0".to_string()),
        "[a-z_]{1,6}",
        any::<String>(),
    ];
    prop::collection::vec(bits, 0..12).prop_map(|parts| parts.concat())
}

fn noisy_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![plain_json(), noisy_string().prop_map(Value::String),];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((noisy_string(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn job_with(data: Value, structured: Value, trigger: Value, summary: Option<String>) -> Job {
    Job::from_value(json!({
        "job_id": "j", "agent_id": "a",
        "call_info": {"call_log_id": "c", "call_status": "picked"},
        "call_summary": summary,
        "data_capture": data,
        "structured_output": structured,
        "call_trigger_data": trigger,
        "integrations": []
    }))
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_template_without_placeholders_renders_to_itself(template in plain_json()) {
        let job = job_with(json!({}), json!(null), json!(null), None);
        let out = Template::compile(&template).render(&job);
        prop_assert_eq!(&out, &serde_json::to_vec(&template).unwrap());
        let back: Value = serde_json::from_slice(&out).unwrap();
        prop_assert_eq!(back, template);
    }

    #[test]
    fn a_whole_expression_reproduces_its_value_exactly(value in plain_json()) {
        let job = job_with(json!({"x": value.clone()}), json!({"deep": {"x": value.clone()}}), json!(null), None);
        for expr in ["{{data_capture.x}}", "{{ structured_output.deep.x }}"] {
            let out = Template::compile(&json!(expr)).render(&job);
            prop_assert_eq!(&out, &serde_json::to_vec(&value).unwrap());
        }
    }

    #[test]
    fn an_embedded_string_expression_interpolates_the_string(s in any::<String>()) {
        let job = job_with(json!({"s": s.clone()}), json!(null), json!(null), None);
        let out = Template::compile(&json!("<{{data_capture.s}}>")).render(&job);
        let back: Value = serde_json::from_slice(&out).unwrap();
        prop_assert_eq!(back, json!(format!("<{s}>")));
    }

    #[test]
    fn rendering_never_panics_and_always_yields_json(
        template in noisy_json(),
        data in plain_json(),
        structured in plain_json(),
        trigger in plain_json(),
        summary in proptest::option::of(any::<String>()),
        url in noisy_string(),
    ) {
        let job = job_with(data, structured, trigger.clone(), summary);
        let out = Template::compile(&template).render(&job);
        prop_assert!(serde_json::from_slice::<Value>(&out).is_ok(), "{}", String::from_utf8_lossy(&out));

        // The whole pipeline, URL included, must not panic either.
        let mut raw = json!({
            "job_id": "j", "agent_id": "a",
            "call_info": {"call_log_id": "c", "call_status": "picked"},
            "call_trigger_data": trigger,
            "integrations": [
                {"id": "custom", "url": format!("https://x.test/{url}"), "body": {"mode": "custom", "template": template}},
                {"id": "raw", "url": format!("{url}/")},
                {"id": "auto", "url": "https://x.test/{{a}}"}
            ]
        });
        raw["data_capture"] = job.data_capture.clone().unwrap_or(Value::Null);
        let job = Job::from_value(raw).unwrap();
        for item in render_job(&job) {
            if let callhook_render::Rendered::Ready(req) = item.rendered {
                prop_assert!(url::Url::parse(&req.url).is_ok());
                if let Some(body) = req.body {
                    prop_assert!(serde_json::from_slice::<Value>(&body).is_ok());
                }
            }
        }
    }
}
