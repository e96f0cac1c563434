//! The built-in sample call that the Test button sends.

use callhook_model::{CallInfo, Job};
use serde_json::json;

/// A picked call with every section filled, as documented. Its `job_id` is
/// `test`; the integrations list is empty (the caller supplies the integration).
pub fn sample_job() -> Job {
    Job {
        job_id: "test".into(),
        agent_id: "agent_sample".into(),
        post_call_analysis_enabled: true,
        call_info: CallInfo {
            call_log_id: "00000000-0000-4000-8000-000000000000".into(),
            phone_number: Some("+15555550100".into()),
            agent_name: Some("Sample agent".into()),
            call_status: "picked".into(),
            call_type: Some("outbound".into()),
        },
        call_summary: Some(
            "This is a sample call sent by the Test button. The customer confirmed the appointment."
                .into(),
        ),
        data_capture: Some(json!({"customer_name": "Jane Sample", "appointment_confirmed": true})),
        structured_output: Some(json!({
            "intent": "appointment_confirmation",
            "appointment": {"date": "2026-06-12", "time": "10:00"}
        })),
        call_trigger_data: Some(json!({
            "phone_number": "+15555550100",
            "person_name": "Jane Sample",
            "crm_id": "lead_sample",
            "meta": {"campaign_id": "sample"}
        })),
        integrations: Vec::new(),
    }
}
