use super::*;
use serde_json::json;

const CONTRACT_JOB: &str = include_str!("../../../../tests/fixtures/contract-job.json");

fn errors(value: Value) -> Vec<String> {
    match Job::from_value(value) {
        Ok(_) => panic!("expected the job to be invalid"),
        Err(JobError::Invalid(errs)) => errs.iter().map(ToString::to_string).collect(),
        Err(other) => panic!("unexpected {other:?}"),
    }
}

fn minimal() -> Value {
    json!({
        "job_id": "j1",
        "agent_id": "agent_1",
        "call_info": {"call_log_id": "c1", "call_status": "picked"},
        "integrations": [{"id": "i1", "url": "https://example.com/"}]
    })
}

#[test]
fn contract_example_parses_with_every_field() {
    let job = Job::from_slice(CONTRACT_JOB.as_bytes()).unwrap();
    assert_eq!(job.job_id, "0b6f0d3e-2f7c-4a43-9d1b-3c8e1f0a9d21");
    assert_eq!(job.agent_id, "agent_IsZ3Q6Sf");
    assert!(job.post_call_analysis_enabled);
    assert_eq!(job.call_info.call_status, "picked");
    assert_eq!(job.call_info.phone_number.as_deref(), Some("+919876543210"));
    assert_eq!(job.integrations.len(), 2);
    let crm = &job.integrations[0];
    assert_eq!(crm.name, "CRM sync");
    assert_eq!(crm.method, Method::Post);
    assert_eq!(
        crm.headers,
        vec![("Authorization".to_string(), "Bearer s3cr3t".to_string())]
    );
    assert!(crm.signing_secret.is_some());
    assert_eq!(crm.body, Body::default());
    let sheet = &job.integrations[1];
    assert!(sheet.active);
    assert_eq!(sheet.method, Method::Put);
    assert!(matches!(sheet.body, Body::Custom { .. }));
    assert!(sheet.signing_secret.is_none());
    assert_eq!(job.skip_reason(), None);
}

#[test]
fn defaults_apply_to_optional_fields() {
    let job = Job::from_value(minimal()).unwrap();
    let i = &job.integrations[0];
    assert_eq!(i.name, "i1");
    assert!(i.active);
    assert_eq!(i.method, Method::Post);
    assert!(i.headers.is_empty());
    assert_eq!(i.body, Body::default());
    assert_eq!(job.call_summary, None);
    assert!(job.post_call_analysis_enabled);
}

#[test]
fn empty_integrations_are_valid() {
    let mut v = minimal();
    v["integrations"] = json!([]);
    assert!(Job::from_value(v).unwrap().integrations.is_empty());
}

#[test]
fn method_errors_name_the_path_and_the_value() {
    let mut v = minimal();
    v["integrations"] = json!([
        {"id": "a", "url": "https://a.test/"},
        {"id": "b", "url": "https://b.test/", "method": "FETCH"}
    ]);
    assert_eq!(
        errors(v),
        ["integrations[1].method: expected one of POST, PUT, PATCH, GET, DELETE, got \"FETCH\""]
    );
}

#[test]
fn lowercase_methods_are_accepted() {
    let mut v = minimal();
    v["integrations"][0]["method"] = json!("patch");
    assert_eq!(
        Job::from_value(v).unwrap().integrations[0].method,
        Method::Patch
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let v = json!({
        "job_id": 7,
        "call_info": {"call_status": ""},
        "post_call_analysis_enabled": "yes",
        "integrations": [
            {"url": "https://a.test/"},
            {"id": "x", "url": "https://x.test/", "headers": {"X-A": {"nested": 1}},
             "body": {"mode": "auto", "sections": ["call_info", "transcript"]}},
            {"id": "y", "url": "https://y.test/", "body": {"mode": "custom"}},
            {"id": "z", "url": "https://z.test/", "body": {"mode": "liquid"}, "active": 1},
            {"id": "s", "url": "https://s.test/", "signing_secret": "whsec_!!!"},
            "nope"
        ]
    });
    assert_eq!(
        errors(v),
        [
            "job_id: expected a string, got the number 7",
            "agent_id: is required",
            "post_call_analysis_enabled: expected true or false, got \"yes\"",
            "call_info.call_log_id: is required",
            "call_info.call_status: must not be empty",
            "integrations[0].id: is required",
            "integrations[1].headers.X-A: expected a string, got an object",
            "integrations[1].body.sections[1]: expected one of call_info, call_summary, data_capture, structured_output, call_trigger_data, got \"transcript\"",
            "integrations[2].body.template: is required when mode is \"custom\"",
            "integrations[3].active: expected true or false, got the number 1",
            "integrations[3].body.mode: expected \"auto\" or \"custom\", got \"liquid\"",
            "integrations[4].signing_secret: expected \"whsec_\" followed by base64",
            "integrations[5]: expected an object, got \"nope\"",
        ]
    );
}

#[test]
fn duplicate_integration_ids_are_refused() {
    let mut v = minimal();
    v["integrations"] = json!([
        {"id": "a", "url": "https://a.test/"},
        {"id": "a", "url": "https://b.test/"}
    ]);
    assert_eq!(
        errors(v),
        ["integrations[1].id: duplicate id \"a\" (also at integrations[0])"]
    );
}

#[test]
fn agent_ids_that_would_break_routing_keys_are_refused() {
    for bad in ["a.b", "a b", "a{b}", "a#", "a*"] {
        let mut v = minimal();
        v["agent_id"] = json!(bad);
        let errs = errors(v);
        assert_eq!(errs.len(), 1, "{bad}: {errs:?}");
        assert!(
            errs[0].starts_with("agent_id: must not contain"),
            "{errs:?}"
        );
    }
}

#[test]
fn non_objects_and_bad_json_are_refused() {
    assert_eq!(errors(json!([1])), ["expected an object, got an array"]);
    let err = Job::from_slice(b"{\"job_id\": ").unwrap_err();
    assert_eq!(err.kind(), "invalid_json");
    assert!(err.to_string().starts_with("invalid JSON: "), "{err}");
}

#[test]
fn skip_reasons_follow_the_product_rules() {
    let mut v = minimal();
    v["call_info"]["call_status"] = json!("not_picked");
    let job = Job::from_value(v).unwrap();
    assert_eq!(job.skip_reason(), Some(crate::record::ErrorKind::NotPicked));
    let mut v = minimal();
    v["post_call_analysis_enabled"] = json!(false);
    let job = Job::from_value(v).unwrap();
    assert_eq!(
        job.skip_reason(),
        Some(crate::record::ErrorKind::AnalysisDisabled)
    );
}

#[test]
fn sections_are_deduplicated_and_empty_lists_allowed() {
    let mut v = minimal();
    v["integrations"][0]["body"] =
        json!({"mode": "auto", "sections": ["call_summary", "call_summary"]});
    assert_eq!(
        Job::from_value(v).unwrap().integrations[0].body,
        Body::Auto {
            sections: vec![Section::CallSummary]
        }
    );
    let mut v = minimal();
    v["integrations"][0]["body"] = json!({"sections": []});
    assert_eq!(
        Job::from_value(v).unwrap().integrations[0].body,
        Body::Auto { sections: vec![] }
    );
}

#[test]
fn standalone_integration_paths_start_with_integration() {
    let err = Integration::from_value(json!({"id": "x"})).unwrap_err();
    assert_eq!(err.to_string(), "invalid job: integration.url: is required");
}
