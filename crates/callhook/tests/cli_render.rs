//! `callhook render`: the offline dry run, through the real binary.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

const CONTRACT_JOB: &str = include_str!("../../../tests/fixtures/contract-job.json");

fn render(args: &[&str], stdin: &str) -> (i32, Vec<Value>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_callhook"))
        .arg("render")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        out.status.code().unwrap(),
        lines,
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn contract_job_prints_one_line_per_integration_with_secrets_redacted() {
    let (code, lines, _) = render(&["-"], CONTRACT_JOB);
    assert_eq!(code, 0);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["integration_id"], "int_crm");
    assert_eq!(lines[0]["status"], "ready");
    assert_eq!(
        lines[0]["request"]["url"],
        "https://api.example.com/leads/lead_42/calls"
    );
    assert_eq!(
        lines[0]["request"]["headers"],
        json!({"Authorization": "[redacted]", "Content-Type": "application/json"})
    );
    assert_eq!(
        lines[0]["request"]["body"]["call_log_id"],
        "8de63236-e013-42dd-9d99-1be5521701d4"
    );
    assert!(lines[0]["signing"].is_string());
    assert_eq!(lines[1]["request"]["method"], "PUT");
    assert_eq!(lines[1]["request"]["body"]["slot_date"], "2026-06-12");
    let all = lines.iter().map(ToString::to_string).collect::<String>();
    assert!(!all.contains("s3cr3t"), "{all}");
    assert!(!all.contains("whsec_"), "{all}");
}

#[test]
fn show_secrets_reveals_header_values() {
    let (code, lines, _) = render(&["-", "--show-secrets"], CONTRACT_JOB);
    assert_eq!(code, 0);
    assert_eq!(
        lines[0]["request"]["headers"]["Authorization"],
        "Bearer s3cr3t"
    );
}

#[test]
fn a_file_argument_works() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/contract-job.json"
    );
    let (code, lines, _) = render(&[path], "");
    assert_eq!(code, 0);
    assert_eq!(lines.len(), 2);
}

#[test]
fn skipped_and_unrenderable_integrations_say_why() {
    let mut job: Value = serde_json::from_str(CONTRACT_JOB).unwrap();
    job["integrations"][1]["url"] = json!("ftp://nope");
    job["integrations"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "off", "url": "https://x.test/", "active": false}));
    let (code, lines, _) = render(&["-"], &job.to_string());
    assert_eq!(code, 1, "an unrenderable integration makes the exit code 1");
    assert_eq!(lines[1]["status"], "invalid");
    assert_eq!(
        lines[1]["error"],
        json!({"kind": "invalid_request", "message": "url: the scheme must be http or https, got \"ftp\""})
    );
    assert_eq!(lines[2]["status"], "skipped");
    assert_eq!(lines[2]["reason"], "inactive");

    job["call_info"]["call_status"] = json!("busy");
    let (_, lines, _) = render(&["-"], &job.to_string());
    assert_eq!(lines[0]["status"], "skipped");
    assert_eq!(lines[0]["reason"], "not_picked");
}

#[test]
fn an_invalid_job_exits_2_with_field_paths() {
    let mut job: Value = serde_json::from_str(CONTRACT_JOB).unwrap();
    job["integrations"][1]["method"] = json!("FETCH");
    job.as_object_mut().unwrap().remove("agent_id");
    let (code, lines, stderr) = render(&["-"], &job.to_string());
    assert_eq!(code, 2);
    assert!(lines.is_empty());
    assert!(stderr.contains("  agent_id: is required"), "{stderr}");
    assert!(
        stderr.contains(
            "  integrations[1].method: expected one of POST, PUT, PATCH, GET, DELETE, got \"FETCH\""
        ),
        "{stderr}"
    );
    let (code, _, stderr) = render(&["-"], "{not json");
    assert_eq!(code, 2);
    assert!(stderr.contains("invalid JSON"), "{stderr}");
}

#[test]
fn template_warnings_are_printed() {
    let mut job: Value = serde_json::from_str(CONTRACT_JOB).unwrap();
    job["integrations"][1]["body"]["template"]["oops"] = json!("{{dat_capture.name}}");
    let (code, lines, _) = render(&["-"], &job.to_string());
    assert_eq!(code, 0);
    assert_eq!(lines[1]["request"]["body"]["oops"], Value::Null);
    assert!(
        lines[1]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("unknown source \"dat_capture\"")
    );
}
