//! The job: one analyzed call and the integrations it must be delivered to.
//!
//! Jobs are parsed from JSON by [`Job::from_slice`] (or [`Job::from_value`]), which
//! checks every field and reports each problem with its path, so a publisher learns
//! exactly what to fix. Unknown fields are ignored, so the pipeline can add fields
//! before the worker knows them.

use std::fmt;

use serde_json::Value;

use crate::secret::Secret;

/// A post-call webhook job (CONTRACT §1).
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Unique per enqueue; a redelivery of the same message keeps it.
    pub job_id: String,
    /// The agent whose integrations these are.
    pub agent_id: String,
    /// `false` turns delivery off for this call; absent means enabled.
    pub post_call_analysis_enabled: bool,
    /// Facts about the call.
    pub call_info: CallInfo,
    /// The AI summary, if any.
    pub call_summary: Option<String>,
    /// Data Extraction values, if any.
    pub data_capture: Option<Value>,
    /// Structured Output, if any.
    pub structured_output: Option<Value>,
    /// Data from whatever triggered the call, if any.
    pub call_trigger_data: Option<Value>,
    /// Every integration configured on the agent, active or not.
    pub integrations: Vec<Integration>,
}

/// The Call Info section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    /// The call's id.
    pub call_log_id: String,
    /// The number called or calling.
    pub phone_number: Option<String>,
    /// The agent's display name.
    pub agent_name: Option<String>,
    /// `picked` for answered calls with a transcript; anything else skips delivery.
    pub call_status: String,
    /// `inbound`, `outbound`, ...
    pub call_type: Option<String>,
}

impl CallInfo {
    /// The Call Info fields in their documented order, with their values if present.
    pub fn fields(&self) -> [(&'static str, Option<&str>); 5] {
        [
            ("call_log_id", Some(self.call_log_id.as_str())),
            ("phone_number", self.phone_number.as_deref()),
            ("agent_name", self.agent_name.as_deref()),
            ("call_status", Some(self.call_status.as_str())),
            ("call_type", self.call_type.as_deref()),
        ]
    }

    /// One field by name, `None` if absent or unknown.
    pub fn field(&self, name: &str) -> Option<&str> {
        match name {
            "call_log_id" => Some(&self.call_log_id),
            "phone_number" => self.phone_number.as_deref(),
            "agent_name" => self.agent_name.as_deref(),
            "call_status" => Some(&self.call_status),
            "call_type" => self.call_type.as_deref(),
            _ => None,
        }
    }
}

/// One webhook integration of the agent.
#[derive(Debug, Clone, PartialEq)]
pub struct Integration {
    /// Unique within the job.
    pub id: String,
    /// Display name; defaults to the id.
    pub name: String,
    /// Inactive integrations are neither sent nor recorded.
    pub active: bool,
    /// The HTTP method.
    pub method: Method,
    /// The URL, possibly with `{{placeholders}}`.
    pub url: String,
    /// Headers as configured, in order. Values may be secrets: see [`crate::redact`].
    pub headers: Vec<(String, String)>,
    /// How the body is built.
    pub body: Body,
    /// When set, requests are signed the Standard Webhooks way.
    pub signing_secret: Option<SigningKey>,
}

/// HTTP methods an integration may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// POST (the default).
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// GET, sent without a body.
    Get,
    /// DELETE, sent without a body.
    Delete,
}

impl Method {
    /// Every method, in the documented order.
    pub const ALL: [Method; 5] = [
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Get,
        Method::Delete,
    ];

    /// The method's name as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Get => "GET",
            Method::Delete => "DELETE",
        }
    }

    /// Parses a method name, ignoring ASCII case.
    pub fn parse(name: &str) -> Option<Method> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether requests with this method carry a body.
    pub fn has_body(self) -> bool {
        !matches!(self, Method::Get | Method::Delete)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The data sections of Auto mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// `call_log_id`, `phone_number`, `agent_name`, `call_status`, `call_type`.
    CallInfo,
    /// `call_summary`.
    CallSummary,
    /// `data_capture`.
    DataCapture,
    /// `structured_output`.
    StructuredOutput,
    /// `call_trigger_data`.
    CallTriggerData,
}

impl Section {
    /// Every section, in the order they appear in an Auto body.
    pub const ALL: [Section; 5] = [
        Section::CallInfo,
        Section::CallSummary,
        Section::DataCapture,
        Section::StructuredOutput,
        Section::CallTriggerData,
    ];

    /// The section's name in jobs.
    pub fn as_str(self) -> &'static str {
        match self {
            Section::CallInfo => "call_info",
            Section::CallSummary => "call_summary",
            Section::DataCapture => "data_capture",
            Section::StructuredOutput => "structured_output",
            Section::CallTriggerData => "call_trigger_data",
        }
    }

    /// Parses a section name.
    pub fn parse(name: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// How an integration's body is built.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A flat object from the enabled sections.
    Auto {
        /// The enabled sections, deduplicated; the body always lists them in the
        /// documented order, whatever order they were given in.
        sections: Vec<Section>,
    },
    /// A JSON template with `{{expression}}` placeholders in its strings.
    Custom {
        /// The template as configured.
        template: Value,
    },
}

impl Default for Body {
    fn default() -> Self {
        Body::Auto {
            sections: Section::ALL.to_vec(),
        }
    }
}

/// A decoded Standard Webhooks signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey(Secret<Vec<u8>>);

impl SigningKey {
    /// Decodes `whsec_<base64>` (the prefix is optional).
    pub fn parse(secret: &str) -> Result<SigningKey, String> {
        use base64::Engine as _;
        let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
        let key = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| "expected \"whsec_\" followed by base64".to_string())?;
        if key.is_empty() || key.len() > 64 {
            return Err(format!(
                "the decoded key must be 1 to 64 bytes, got {}",
                key.len()
            ));
        }
        Ok(SigningKey(Secret::new(key)))
    }

    /// The raw key bytes.
    pub fn expose(&self) -> &[u8] {
        self.0.expose()
    }
}

/// One problem with a job, at a field path such as `integrations[1].method`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// Where: `job_id`, `call_info.call_status`, `integrations[0].headers.X-Key`.
    pub path: String,
    /// What is wrong, including what was expected and what was found.
    pub message: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Why a job could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// The bytes are not JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// The JSON is not a valid job; every problem found is listed.
    #[error("invalid job: {}", join(.0))]
    Invalid(Vec<ValidationError>),
}

impl JobError {
    /// A short, stable word for metrics and dead-letter headers.
    pub fn kind(&self) -> &'static str {
        match self {
            JobError::Json(_) => "invalid_json",
            JobError::Invalid(_) => "invalid_job",
        }
    }
}

fn join(errors: &[ValidationError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Job {
    /// Parses and validates a job from JSON bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Job, JobError> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| JobError::Json(e.to_string()))?;
        Job::from_value(value)
    }

    /// Validates a parsed JSON value as a job.
    pub fn from_value(value: Value) -> Result<Job, JobError> {
        crate::parse::job(value)
    }

    /// Whether this job fires webhooks, and if not, why (the record's error kind).
    pub fn skip_reason(&self) -> Option<crate::record::ErrorKind> {
        use crate::record::ErrorKind;
        if self.call_info.call_status != "picked" {
            Some(ErrorKind::NotPicked)
        } else if !self.post_call_analysis_enabled {
            Some(ErrorKind::AnalysisDisabled)
        } else {
            None
        }
    }
}

impl Integration {
    /// Validates one integration on its own, as the Test route receives it.
    pub fn from_value(value: Value) -> Result<Integration, JobError> {
        crate::parse::integration_alone(value)
    }
}
