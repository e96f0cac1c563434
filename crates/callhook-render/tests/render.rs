//! The product rules of CONTRACT §2, end to end through the public API, with exact
//! expected bytes.
#![allow(clippy::unwrap_used, missing_docs)]

use callhook_model::{Integration, Job, Method};
use callhook_render::{Rendered, SkipReason, Template, render_integration, render_job};
use serde_json::{Value, json};

const CONTRACT_JOB: &str = include_str!("../../../tests/fixtures/contract-job.json");

fn job(extra: Value) -> Job {
    let mut base = json!({
        "job_id": "j1",
        "agent_id": "agent_1",
        "call_info": {
            "call_log_id": "8de63236-e013-42dd-9d99-1be5521701d4",
            "phone_number": "+919876543210",
            "agent_name": "Renewals agent",
            "call_status": "picked",
            "call_type": "outbound"
        },
        "call_summary": "Confirmed.",
        "data_capture": {"customer_name": "John Doe", "appointment_confirmed": true},
        "structured_output": {"intent": "appointment_confirmation",
                              "appointment": {"date": "2026-06-12", "time": "10:00"}},
        "call_trigger_data": {"crm_id": "lead_42", "meta": {"campaign_id": "june-renewals"}},
        "integrations": []
    });
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    Job::from_value(base).unwrap()
}

fn integration(v: Value) -> Integration {
    Integration::from_value(v).unwrap()
}

fn body_of(job: &Job, i: &Integration) -> String {
    let req = render_integration(job, i).unwrap();
    String::from_utf8(req.body.unwrap().to_vec()).unwrap()
}

fn custom(job: &Job, template: Value) -> String {
    String::from_utf8(Template::compile(&template).render(job)).unwrap()
}

#[test]
fn contract_example_renders_both_integrations_exactly() {
    let job = Job::from_slice(CONTRACT_JOB.as_bytes()).unwrap();
    let out = render_job(&job);
    assert_eq!(out.len(), 2);

    let Rendered::Ready(crm) = &out[0].rendered else {
        panic!("{:?}", out[0].rendered)
    };
    assert_eq!(crm.method, Method::Post);
    assert_eq!(crm.url, "https://api.example.com/leads/lead_42/calls");
    assert_eq!(
        crm.headers,
        [
            ("Authorization".to_string(), "Bearer s3cr3t".to_string()),
            ("Content-Type".to_string(), "application/json".to_string())
        ]
    );
    assert_eq!(
        std::str::from_utf8(crm.body.as_ref().unwrap()).unwrap(),
        concat!(
            r#"{"call_log_id":"8de63236-e013-42dd-9d99-1be5521701d4","phone_number":"+919876543210","#,
            r#""agent_name":"Renewals agent","call_status":"picked","call_type":"outbound","#,
            r#""call_summary":"The customer confirmed the appointment for 12 June at 10:00.","#,
            r#""data_capture":{"customer_name":"John Doe","appointment_confirmed":true},"#,
            r#""structured_output":{"intent":"appointment_confirmation","appointment":{"date":"2026-06-12","time":"10:00"}},"#,
            r#""call_trigger_data":{"phone_number":"+919876543210","person_name":"John Doe","crm_id":"lead_42","meta":{"campaign_id":"june-renewals"}}}"#
        )
    );

    let Rendered::Ready(sheet) = &out[1].rendered else {
        panic!("{:?}", out[1].rendered)
    };
    assert_eq!(sheet.method, Method::Put);
    assert_eq!(sheet.url, "https://hooks.example.org/rows");
    assert_eq!(
        sheet.headers,
        [("Content-Type".to_string(), "application/json".to_string())]
    );
    assert_eq!(
        std::str::from_utf8(sheet.body.as_ref().unwrap()).unwrap(),
        concat!(
            r#"{"customer_name":"John Doe","slot_date":"2026-06-12","#,
            r#""all_output":{"intent":"appointment_confirmation","appointment":{"date":"2026-06-12","time":"10:00"}},"#,
            r#""line":"Call 8de63236-e013-42dd-9d99-1be5521701d4 ended: picked","source":"osvi"}"#
        )
    );
}

#[test]
fn seed_custom_template_example() {
    let job = job(json!({
        "data_capture": {"name": "John Doe"},
        "call_summary": "The customer confirmed the appointment."
    }));
    let template = json!({
        "customer_name": "{{data_capture.name}}",
        "intent": "{{structured_output.intent}}",
        "slot_date": "{{structured_output.appointment.date}}",
        "phone": "{{call_info.phone_number}}",
        "all_output": "{{structured_output}}",
        "summary": "{{call_summary}}",
        "source": "osvi"
    });
    assert_eq!(
        custom(&job, template),
        concat!(
            r#"{"customer_name":"John Doe","intent":"appointment_confirmation","slot_date":"2026-06-12","#,
            r#""phone":"+919876543210","all_output":{"intent":"appointment_confirmation","appointment":{"date":"2026-06-12","time":"10:00"}},"#,
            r#""summary":"The customer confirmed the appointment.","source":"osvi"}"#
        )
    );
}

#[test]
fn seed_url_example() {
    let job = job(json!({}));
    let i =
        integration(json!({"id": "i", "url": "https://api.example.com/leads/{{crm_id}}/calls"}));
    assert_eq!(
        render_integration(&job, &i).unwrap().url,
        "https://api.example.com/leads/lead_42/calls"
    );
}

#[test]
fn auto_body_includes_only_enabled_sections_in_documented_order() {
    let job = job(json!({}));
    let i = integration(json!({"id": "i", "url": "https://x.test/",
        "body": {"mode": "auto", "sections": ["structured_output", "call_summary"]}}));
    assert_eq!(
        body_of(&job, &i),
        r#"{"call_summary":"Confirmed.","structured_output":{"intent":"appointment_confirmation","appointment":{"date":"2026-06-12","time":"10:00"}}}"#
    );
    let none = integration(json!({"id": "i", "url": "https://x.test/", "body": {"sections": []}}));
    assert_eq!(body_of(&job, &none), "{}");
}

#[test]
fn auto_body_omits_sections_without_data() {
    for empty in [json!(null), json!(""), json!({})] {
        let job = job(json!({
            "call_summary": if empty.is_object() { json!(null) } else { empty.clone() },
            "data_capture": empty.clone(),
            "structured_output": empty.clone(),
            "call_trigger_data": empty.clone(),
            "call_info": {"call_log_id": "c", "call_status": "picked"}
        }));
        let i = integration(json!({"id": "i", "url": "https://x.test/"}));
        assert_eq!(
            body_of(&job, &i),
            r#"{"call_log_id":"c","call_status":"picked"}"#,
            "{empty}"
        );
    }
    // Arrays, zero and false are data.
    let job =
        job(json!({"structured_output": [], "data_capture": {"n": 0}, "call_trigger_data": false}));
    let i = integration(json!({"id": "i", "url": "https://x.test/",
        "body": {"sections": ["data_capture", "structured_output", "call_trigger_data"]}}));
    assert_eq!(
        body_of(&job, &i),
        r#"{"data_capture":{"n":0},"structured_output":[],"call_trigger_data":false}"#
    );
}

#[test]
fn get_and_delete_carry_no_body_and_still_get_content_type() {
    let job = job(json!({}));
    for (method, has_body) in [
        ("POST", true),
        ("PUT", true),
        ("PATCH", true),
        ("GET", false),
        ("DELETE", false),
    ] {
        let i = integration(
            json!({"id": "i", "url": "https://x.test/", "method": method,
            "headers": {"Content-Type": "text/plain", "X-Trace": "1"}}),
        );
        let req = render_integration(&job, &i).unwrap();
        assert_eq!(req.method.as_str(), method);
        assert_eq!(req.body.is_some(), has_body, "{method}");
        assert_eq!(
            req.headers,
            [
                ("X-Trace".to_string(), "1".to_string()),
                ("Content-Type".to_string(), "application/json".to_string())
            ]
        );
    }
}

#[test]
fn skip_rules_apply_per_job_and_per_integration() {
    let integrations = json!([
        {"id": "on", "url": "https://x.test/"},
        {"id": "off", "url": "https://x.test/", "active": false}
    ]);
    let cases = [
        (
            json!({"call_info": {"call_log_id": "c", "call_status": "not_picked"}}),
            SkipReason::NotPicked,
        ),
        (
            json!({"post_call_analysis_enabled": false}),
            SkipReason::AnalysisDisabled,
        ),
    ];
    for (extra, reason) in cases {
        let mut extra = extra;
        extra["integrations"] = integrations.clone();
        let job = job(extra);
        let out = render_job(&job);
        assert_eq!(out[0].rendered, Rendered::Skipped(reason));
        assert_eq!(out[1].rendered, Rendered::Skipped(SkipReason::Inactive));
        assert!(reason.error_kind().is_some());
    }
    assert_eq!(SkipReason::Inactive.error_kind(), None);
    let job = job(json!({"integrations": integrations}));
    let out = render_job(&job);
    assert!(matches!(out[0].rendered, Rendered::Ready(_)));
    assert_eq!(out[1].rendered, Rendered::Skipped(SkipReason::Inactive));
}

#[test]
fn unrenderable_requests_are_typed_errors_not_panics() {
    let job = job(json!({"integrations": [
        {"id": "a", "url": "not a url"},
        {"id": "b", "url": "https://x.test/", "headers": {"X-Bad": "a\nb"}},
        {"id": "c", "url": "mailto:someone@example.com"},
        {"id": "d", "url": "https://x.test/"}
    ]}));
    let out = render_job(&job);
    let errors: Vec<String> = out
        .iter()
        .map(|o| match &o.rendered {
            Rendered::Invalid(e) => e.to_string(),
            other => format!("{other:?}").chars().take(5).collect(),
        })
        .collect();
    assert_eq!(
        errors,
        [
            "url: \"not a url\" is not a valid absolute URL: relative URL without a base",
            "headers.X-Bad: the value must be visible ASCII without line breaks or control characters",
            "url: the scheme must be http or https, got \"mailto\"",
            "Ready",
        ]
    );
}

#[test]
fn whole_expressions_keep_raw_types() {
    // Numbers as the publisher wrote them, parsed from text: digits are kept exactly
    // (serde_json spells an exponent with a sign, `1.5e+300`, the same number).
    let structured: Value = serde_json::from_str(
        r#"{"int": 42, "neg": -7, "float": 0.1, "exp": 1.5e300, "one": 1.0,
            "big": 123456789012345678901234567890,
            "t": true, "f": false, "nil": null, "arr": [1, "two", {"3": 3}], "obj": {"k": "v"}}"#,
    )
    .unwrap();
    let job = job(json!({ "structured_output": structured }));
    let template = json!({
        "int": "{{structured_output.int}}", "neg": "{{structured_output.neg}}",
        "float": "{{structured_output.float}}", "exp": "{{structured_output.exp}}",
        "one": "{{structured_output.one}}",
        "big": "{{structured_output.big}}", "t": "{{structured_output.t}}",
        "f": "{{structured_output.f}}", "nil": "{{structured_output.nil}}",
        "arr": "{{structured_output.arr}}", "obj": "{{structured_output.obj}}",
        "missing": "{{structured_output.nope}}", "summary": "{{ call_summary }}"
    });
    assert_eq!(
        custom(&job, template),
        concat!(
            r#"{"int":42,"neg":-7,"float":0.1,"exp":1.5e+300,"one":1.0,"big":123456789012345678901234567890,"#,
            r#""t":true,"f":false,"nil":null,"arr":[1,"two",{"3":3}],"obj":{"k":"v"},"#,
            r#""missing":null,"summary":"Confirmed."}"#
        )
    );
}

#[test]
fn embedded_expressions_interpolate_as_text() {
    let job = job(json!({"structured_output": {
        "n": 42, "f": 2.50, "b": false, "nil": null, "o": {"a": [1, 2]}, "s": "quote \" me"
    }}));
    let template = json!([
        "n={{structured_output.n}} f={{structured_output.f}} b={{structured_output.b}}",
        "nil={{structured_output.nil}} missing={{data_capture.nope}} o={{structured_output.o}}",
        "s={{structured_output.s}}!",
        " {{call_summary}}"
    ]);
    assert_eq!(
        custom(&job, template),
        concat!(
            r#"["n=42 f=2.5 b=false","nil=null missing=null o={\"a\":[1,2]}","#,
            r#""s=quote \" me!"," Confirmed."]"#
        )
    );
}

#[test]
fn nested_paths_array_indexes_dotted_and_spaced_keys() {
    let job = job(json!({
        "structured_output": {"items": [{"sku": "A1", "tags": ["x", "y"]}, {"sku": "B2"}],
                              "0": "zero-key"},
        "data_capture": {"order.id": "o-9", "first name": "Ada", "a": {"b.c": {"d": 4}}},
        "call_trigger_data": {"meta": {"campaign_id": "june"}}
    }));
    let template = json!({
        "sku": "{{structured_output.items.1.sku}}",
        "tag": "{{structured_output.items.0.tags.1}}",
        "oob": "{{structured_output.items.9.sku}}",
        "zero": "{{structured_output.0}}",
        "dotted": "{{data_capture.order.id}}",
        "deep_dotted": "{{data_capture.a.b.c.d}}",
        "spaced": "{{ data_capture.first name }}",
        "campaign": "{{call_trigger_data.meta.campaign_id}}",
        "status": "{{call_info.call_status}}",
        "info": "{{call_info}}",
        "not_an_index": "{{structured_output.items.sku}}"
    });
    assert_eq!(
        custom(&job, template),
        concat!(
            r#"{"sku":"B2","tag":"y","oob":null,"zero":"zero-key","dotted":"o-9","deep_dotted":4,"#,
            r#""spaced":"Ada","campaign":"june","status":"picked","#,
            r#""info":{"call_log_id":"8de63236-e013-42dd-9d99-1be5521701d4","phone_number":"+919876543210","agent_name":"Renewals agent","call_status":"picked","call_type":"outbound"},"#,
            r#""not_an_index":null}"#
        )
    );
}

#[test]
fn unicode_survives_everywhere() {
    let job = job(json!({"data_capture": {"名前": "山田 太郎 🎌", "emoji": "😀\u{0}\n"}}));
    let template = json!({"ключ": "{{data_capture.名前}}", "mix": "→ {{data_capture.emoji}} ←"});
    let out = custom(&job, template);
    assert_eq!(out, r#"{"ключ":"山田 太郎 🎌","mix":"→ 😀\u0000\n ←"}"#);
    let parsed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(parsed["mix"], "→ 😀\u{0}\n ←");
}

#[test]
fn malformed_braces_and_key_placeholders_stay_literal() {
    let job = job(json!({}));
    let template = json!({
        "a": "{{ unclosed",
        "b": "closed }} only",
        "c": "{{}}",
        "d": "{{ not valid! }}",
        "{{data_capture.customer_name}}": "key",
        "e": "{{{data_capture.customer_name}}}"
    });
    let compiled = Template::compile(&template);
    assert_eq!(
        String::from_utf8(compiled.render(&job)).unwrap(),
        r#"{"a":"{{ unclosed","b":"closed }} only","c":"{{}}","d":"{{ not valid! }}","{{data_capture.customer_name}}":"key","e":"{John Doe}"}"#
    );
    assert_eq!(compiled.warnings().len(), 1, "{:?}", compiled.warnings());
    assert!(compiled.warnings()[0].contains("keys are not substituted"));
}

#[test]
fn unknown_sources_render_null_and_warn() {
    let job = job(json!({}));
    let template = json!({"x": "{{foo.bar}}", "y": "v={{foo}}"});
    let compiled = Template::compile(&template);
    assert_eq!(
        String::from_utf8(compiled.render(&job)).unwrap(),
        r#"{"x":null,"y":"v=null"}"#
    );
    assert_eq!(
        compiled.warnings(),
        [
            "template.x: unknown source \"foo\" in {{foo.bar}}: it renders as null (sources: call_info, call_summary, data_capture, structured_output, call_trigger_data)",
            "template.y: unknown source \"foo\" in {{foo}}: it renders as null (sources: call_info, call_summary, data_capture, structured_output, call_trigger_data)"
        ]
    );
}

#[test]
fn deep_nesting_and_large_arrays() {
    // A deeply nested value, reached through a whole expression and a long path.
    let mut deep = json!("bottom");
    for _ in 0..100 {
        deep = json!({"n": deep});
    }
    let path = format!("{{{{structured_output{}}}}}", ".n".repeat(100));
    let big: Vec<Value> = (0..10_000).map(|i| json!({"i": i})).collect();
    let job = job(json!({"structured_output": deep.clone(), "data_capture": {"big": big.clone()}}));
    assert_eq!(custom(&job, json!(path)), r#""bottom""#);
    assert_eq!(
        custom(&job, json!("{{structured_output}}")),
        serde_json::to_string(&deep).unwrap()
    );
    // A deeply nested template.
    let mut template = json!("{{data_capture.big.9999.i}}");
    for _ in 0..100 {
        template = json!([template]);
    }
    let out = custom(&job, template);
    assert_eq!(out, format!("{}9999{}", "[".repeat(100), "]".repeat(100)));
    // A large array through a whole expression and a large template array.
    assert_eq!(
        custom(&job, json!("{{data_capture.big}}")),
        serde_json::to_string(&big).unwrap()
    );
    let many: Vec<Value> = (0..10_000)
        .map(|i| json!(format!("{{{{data_capture.big.{i}.i}}}}")))
        .collect();
    let out: Value = serde_json::from_str(&custom(&job, Value::Array(many))).unwrap();
    assert_eq!(out.as_array().unwrap().len(), 10_000);
    assert_eq!(out[1234], json!(1234));
}

#[test]
fn custom_bodies_go_through_render_integration() {
    let job = job(json!({}));
    let i = integration(
        json!({"id": "i", "url": "https://x.test/", "method": "PATCH",
        "body": {"mode": "custom", "template": {"who": "{{data_capture.customer_name}}", "n": 1}}}),
    );
    assert_eq!(body_of(&job, &i), r#"{"who":"John Doe","n":1}"#);
    // A template may be any JSON value, not only an object.
    let i = integration(json!({"id": "i", "url": "https://x.test/",
        "body": {"mode": "custom", "template": "{{call_info.call_log_id}}"}}));
    assert_eq!(
        body_of(&job, &i),
        r#""8de63236-e013-42dd-9d99-1be5521701d4""#
    );
}
