//! The product rules: which integrations of a job fire, and their requests.

use bytes::Bytes;
use callhook_model::{Body, ErrorKind, Integration, Job, RenderedRequest};

use crate::error::Result;
use crate::template::Template;

/// Why an integration is not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The integration is switched off: neither sent nor recorded.
    Inactive,
    /// The call was not `picked`: recorded as `skipped` / `not_picked`.
    NotPicked,
    /// Post-call analysis is disabled: recorded as `skipped` / `analysis_disabled`.
    AnalysisDisabled,
}

impl SkipReason {
    /// The error kind of the `skipped` record, or `None` when nothing is recorded.
    pub fn error_kind(self) -> Option<ErrorKind> {
        match self {
            SkipReason::Inactive => None,
            SkipReason::NotPicked => Some(ErrorKind::NotPicked),
            SkipReason::AnalysisDisabled => Some(ErrorKind::AnalysisDisabled),
        }
    }

    /// A sentence for records and `callhook render`.
    pub fn message(self) -> &'static str {
        match self {
            SkipReason::Inactive => "the integration is inactive",
            SkipReason::NotPicked => "the call was not picked; webhooks fire only for picked calls",
            SkipReason::AnalysisDisabled => "post-call analysis is disabled for this call",
        }
    }
}

/// What rendering decided for one integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendered {
    /// Ready to send.
    Ready(RenderedRequest),
    /// Not sent, by a product rule.
    Skipped(SkipReason),
    /// Should be sent but cannot be rendered: a failed `invalid_request` attempt.
    Invalid(crate::RenderError),
}

/// One integration of a job and what rendering decided for it.
#[derive(Debug, Clone)]
pub struct IntegrationRender<'a> {
    /// The integration.
    pub integration: &'a Integration,
    /// The decision.
    pub rendered: Rendered,
}

/// Renders every integration of a job, in order, applying the skip rules.
pub fn render_job(job: &Job) -> Vec<IntegrationRender<'_>> {
    let job_skip = match job.skip_reason() {
        Some(ErrorKind::NotPicked) => Some(SkipReason::NotPicked),
        Some(_) => Some(SkipReason::AnalysisDisabled),
        None => None,
    };
    job.integrations
        .iter()
        .map(|integration| {
            let rendered = if !integration.active {
                Rendered::Skipped(SkipReason::Inactive)
            } else if let Some(reason) = job_skip {
                Rendered::Skipped(reason)
            } else {
                match render_integration(job, integration) {
                    Ok(request) => Rendered::Ready(request),
                    Err(e) => Rendered::Invalid(e),
                }
            };
            IntegrationRender {
                integration,
                rendered,
            }
        })
        .collect()
}

/// Renders one integration's request for a job, whatever the skip rules say (the
/// Test button and manual retries use this).
pub fn render_integration(job: &Job, integration: &Integration) -> Result<RenderedRequest> {
    let url = crate::url::render(&integration.url, job)?;
    let headers = crate::headers::render(&integration.headers)?;
    let body = integration.method.has_body().then(|| {
        let mut out = Vec::with_capacity(512);
        match &integration.body {
            Body::Auto { sections } => crate::auto::render_into(job, sections, &mut out),
            Body::Custom { template } => Template::compile(template).render_into(job, &mut out),
        }
        Bytes::from(out)
    });
    Ok(RenderedRequest {
        method: integration.method,
        url,
        headers,
        body,
    })
}
