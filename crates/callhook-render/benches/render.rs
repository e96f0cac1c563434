//! Rendering throughput: CONTRACT §1's example job, both integrations, to body bytes;
//! and the same custom template in minijinja, a general-purpose engine, as a
//! reference measured in the same run.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use callhook_model::{Body, Job};
use callhook_render::{Template, render_job};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};

const CONTRACT_JOB: &str = include_str!("../../../tests/fixtures/contract-job.json");

/// The contract's custom template written for minijinja: `tojson` keeps raw types,
/// plain `{{ }}` interpolates text, and a missing value renders as null.
const JINJA_TEMPLATE: &str = r#"{"customer_name":{{ data_capture.customer_name|tojson }},"slot_date":{{ structured_output.appointment.date|tojson }},"all_output":{{ structured_output|tojson }},"line":{{ ("Call " ~ call_info.call_log_id ~ " ended: " ~ call_info.call_status)|tojson }},"source":"osvi"}"#;

fn custom_template(job: &Job) -> &Value {
    match &job.integrations[1].body {
        Body::Custom { template } => template,
        Body::Auto { .. } => unreachable!("the contract's second integration is custom"),
    }
}

fn benches(c: &mut Criterion) {
    let job = Job::from_slice(CONTRACT_JOB.as_bytes()).unwrap();
    let template = Template::compile(custom_template(&job));
    let raw_template = custom_template(&job).clone();

    let mut env = minijinja::Environment::new();
    env.add_template("t", JINJA_TEMPLATE).unwrap();
    let jinja = env.get_template("t").unwrap();
    let ctx = minijinja::Value::from_serialize(json!({
        "call_info": {
            "call_log_id": job.call_info.call_log_id,
            "call_status": job.call_info.call_status,
        },
        "data_capture": job.data_capture,
        "structured_output": job.structured_output,
        "call_trigger_data": job.call_trigger_data,
    }));

    // The two engines must produce the same JSON for the comparison to be fair.
    let ours: Value = serde_json::from_slice(&template.render(&job)).unwrap();
    let theirs: Value = serde_json::from_str(&jinja.render(&ctx).unwrap()).unwrap();
    assert_eq!(ours, theirs, "engines disagree");

    let mut g = c.benchmark_group("custom_template");
    g.throughput(Throughput::Elements(1));
    g.bench_function("callhook_render", |b| {
        let mut out = Vec::with_capacity(512);
        b.iter(|| {
            out.clear();
            template.render_into(black_box(&job), &mut out);
            black_box(out.len())
        })
    });
    g.bench_function("callhook_compile_and_render", |b| {
        b.iter(|| black_box(Template::compile(black_box(&raw_template)).render(&job)))
    });
    g.bench_function("minijinja_render", |b| {
        b.iter(|| black_box(jinja.render(black_box(&ctx)).unwrap()))
    });
    g.finish();

    let mut g = c.benchmark_group("contract_job");
    g.throughput(Throughput::Elements(1));
    g.bench_function("render_job_both_integrations", |b| {
        b.iter(|| {
            let out = render_job(black_box(&job));
            black_box(out.len())
        })
    });
    g.bench_function("parse_and_render_job", |b| {
        b.iter(|| {
            let job = Job::from_slice(black_box(CONTRACT_JOB.as_bytes())).unwrap();
            black_box(render_job(&job).len())
        })
    });
    g.finish();
}

criterion_group!(render, benches);
criterion_main!(render);
