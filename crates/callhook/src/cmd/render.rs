//! `callhook render JOB.json`: the offline dry run of rendering.
//!
//! Prints one JSON line per integration: what would be sent (secrets redacted
//! unless `--show-secrets`), or why it is skipped or cannot be rendered. Exit codes:
//! 0 when every integration renders or is skipped by a product rule, 1 when at least
//! one cannot be rendered, 2 when the job itself is invalid (each problem is printed
//! with its field path) or cannot be read.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use callhook_model::{Body, Job, JobError, redact};
use callhook_render::{Rendered, Template, render_job};
use serde_json::{Map, Value, json};

/// Arguments of `callhook render`.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The job JSON file, or `-` for standard input.
    pub job: PathBuf,
    /// Print header values and URLs unredacted.
    #[arg(long)]
    pub show_secrets: bool,
    /// Pretty-print each line's JSON.
    #[arg(long)]
    pub pretty: bool,
}

pub(crate) fn read_input(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading the job from standard input")?;
        Ok(buf)
    } else {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))
    }
}

/// Runs the dry run.
pub fn run(args: &RenderArgs) -> anyhow::Result<ExitCode> {
    let raw = read_input(&args.job)?;
    let job = match Job::from_slice(&raw) {
        Ok(job) => job,
        Err(JobError::Invalid(errors)) => {
            eprintln!("callhook: {} is not a valid job:", args.job.display());
            for e in errors {
                eprintln!("  {e}");
            }
            return Ok(ExitCode::from(2));
        }
        Err(e) => {
            eprintln!("callhook: {}: {e}", args.job.display());
            return Ok(ExitCode::from(2));
        }
    };
    let mut failed = false;
    for item in render_job(&job) {
        let line = describe(&item, args.show_secrets);
        failed |= matches!(item.rendered, Rendered::Invalid(_));
        let text = if args.pretty {
            serde_json::to_string_pretty(&line)?
        } else {
            serde_json::to_string(&line)?
        };
        println!("{text}");
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn describe(item: &callhook_render::IntegrationRender<'_>, show_secrets: bool) -> Value {
    let integration = item.integration;
    let mut line = Map::new();
    line.insert("integration_id".into(), json!(integration.id));
    line.insert("integration_name".into(), json!(integration.name));
    match &item.rendered {
        Rendered::Ready(request) => {
            line.insert("status".into(), json!("ready"));
            let headers: Map<String, Value> = request
                .headers
                .iter()
                .map(|(name, value)| {
                    let shown = if show_secrets {
                        value.as_str()
                    } else {
                        redact::header_value(name, value)
                    };
                    (name.clone(), json!(shown))
                })
                .collect();
            let body = match &request.body {
                None => Value::Null,
                Some(bytes) => serde_json::from_slice(bytes)
                    .unwrap_or_else(|_| json!(String::from_utf8_lossy(bytes))),
            };
            let url = if show_secrets {
                request.url.clone()
            } else {
                redact::url(&request.url)
            };
            line.insert(
                "request".into(),
                json!({"method": request.method.as_str(), "url": url,
                       "headers": headers, "body": body}),
            );
            if integration.signing_secret.is_some() {
                line.insert(
                    "signing".into(),
                    json!("standard-webhooks: webhook-id, webhook-timestamp and webhook-signature are added when sent"),
                );
            }
        }
        Rendered::Skipped(reason) => {
            line.insert("status".into(), json!("skipped"));
            line.insert(
                "reason".into(),
                json!(reason.error_kind().map_or("inactive", |k| k.as_str())),
            );
            line.insert("message".into(), json!(reason.message()));
        }
        Rendered::Invalid(e) => {
            line.insert("status".into(), json!("invalid"));
            line.insert(
                "error".into(),
                json!({"kind": "invalid_request", "message": e.to_string()}),
            );
        }
    }
    if let Body::Custom { template } = &integration.body {
        let compiled = Template::compile(template);
        if !compiled.warnings().is_empty() {
            line.insert("warnings".into(), json!(compiled.warnings()));
        }
    }
    Value::Object(line)
}
