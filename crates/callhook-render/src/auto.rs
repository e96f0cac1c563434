//! The Auto body: one flat object from the enabled sections.
//!
//! Sections appear in the documented order (Call Info, AI Summary, Data Extraction,
//! Structured Output, Call Trigger Data) whatever order they are listed in. A
//! section with no data for the call — absent, null, an empty string or an empty
//! object — is omitted; so is a Call Info field the job does not carry.

use callhook_model::{Job, Section};
use serde_json::Value;

use crate::json;

fn has_data(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Object(m) => !m.is_empty(),
        _ => true,
    }
}

/// Appends the Auto body for `sections` to `out`.
pub(crate) fn render_into(job: &Job, sections: &[Section], out: &mut Vec<u8>) {
    out.push(b'{');
    let mut first = true;
    let mut key = |out: &mut Vec<u8>, name: &str| {
        if !first {
            out.push(b',');
        }
        first = false;
        json::string_into(out, name);
        out.push(b':');
    };
    for section in Section::ALL {
        if !sections.contains(&section) {
            continue;
        }
        match section {
            Section::CallInfo => {
                for (name, value) in job.call_info.fields() {
                    if let Some(value) = value {
                        key(out, name);
                        json::string_into(out, value);
                    }
                }
            }
            Section::CallSummary => {
                if let Some(summary) = job.call_summary.as_deref().filter(|s| !s.is_empty()) {
                    key(out, "call_summary");
                    json::string_into(out, summary);
                }
            }
            Section::DataCapture | Section::StructuredOutput | Section::CallTriggerData => {
                let value = match section {
                    Section::DataCapture => &job.data_capture,
                    Section::StructuredOutput => &job.structured_output,
                    _ => &job.call_trigger_data,
                };
                if let Some(value) = value.as_ref().filter(|v| has_data(v)) {
                    key(out, section.as_str());
                    json::value_into(out, value);
                }
            }
        }
    }
    out.push(b'}');
}
