//! `callhook test INTEGRATION.json [--sample CALL.json]`: send a sample call to one
//! integration now and print the attempt record.
//!
//! The integration file is one integration object as in a job's `integrations`
//! (`id` and `url` required). The sample is the built-in sample call
//! ([`callhook_render::sample_job`]) unless `--sample` names a call file: a job-shaped
//! JSON object with `call_info` (`call_log_id`, `call_status`) and any of
//! `call_summary`, `data_capture`, `structured_output`, `call_trigger_data`.
//! In a sample, `job_id` defaults to `test`, `agent_id` to `agent_sample`, and
//! `integrations` are ignored (a whole job file works as a sample).
//!
//! A test send is what the user asked for, so it goes out whatever the sample's
//! `call_status` and the integration's `active` flag say. It is signed when the
//! integration has a `signing_secret`, with the `webhook-id` a delivery of that job
//! would carry. The record has trigger `test`, attempt 1 and worker id `cli`, and is
//! printed as pretty JSON on standard output.
//!
//! Exit codes: 0 when the delivery succeeded, 1 when it failed (including a request
//! that could not be rendered: the record says why), 2 when a file cannot be read or
//! is not a valid integration or sample (each problem is printed with its path).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use callhook_dispatch::{DispatchConfig, Dispatcher, RecordMeta, Signing, webhook_id};
use callhook_model::{ErrorKind, ErrorRecord, Integration, Job, JobError, Outcome, Trigger};
use serde_json::Value;

use crate::cmd::render::read_input;

/// Arguments of `callhook test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The integration JSON file (one integration object), or `-` for standard input.
    pub integration: PathBuf,
    /// A call to send instead of the built-in sample (a job-shaped JSON file).
    #[arg(long)]
    pub sample: Option<PathBuf>,
}

/// Sends the sample to the integration and prints the attempt record.
pub async fn run(args: TestArgs, dispatch: DispatchConfig) -> anyhow::Result<ExitCode> {
    let integration = match load_integration(&args.integration)? {
        Ok(integration) => integration,
        Err(code) => return Ok(code),
    };
    let job = match &args.sample {
        None => callhook_render::sample_job(),
        Some(path) => match load_sample(path)? {
            Ok(job) => job,
            Err(code) => return Ok(code),
        },
    };
    let dispatcher = Dispatcher::new(dispatch)?;
    let meta = RecordMeta {
        attempt_id: ulid::Ulid::generate().to_string(),
        job_id: job.job_id.clone(),
        agent_id: job.agent_id.clone(),
        call_log_id: job.call_info.call_log_id.clone(),
        integration_id: integration.id.clone(),
        integration_name: integration.name.clone(),
        trigger: Trigger::Test,
        attempt: 1,
        worker_id: "cli".into(),
    };
    let record = match callhook_render::render_integration(&job, &integration) {
        Err(e) => meta.unsent_record(
            Outcome::Failed,
            ErrorRecord {
                kind: ErrorKind::InvalidRequest,
                message: e.to_string(),
            },
        ),
        Ok(request) => {
            let id = webhook_id(&job.job_id, &integration.id);
            let signing = integration.signing_secret.as_ref().map(|key| Signing {
                key,
                webhook_id: &id,
            });
            dispatcher.send(&request, signing).await.into_record(meta)
        }
    };
    println!("{}", serde_json::to_string_pretty(&record)?);
    Ok(if record.outcome == Outcome::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The integration, or the exit code after printing why it is not one.
fn load_integration(path: &Path) -> anyhow::Result<Result<Integration, ExitCode>> {
    let Some(value) = read_json(path)? else {
        return Ok(Err(ExitCode::from(2)));
    };
    Ok(Integration::from_value(value).map_err(|e| report(path, "integration", e)))
}

/// The sample call as a job, or the exit code after printing why it is not one.
fn load_sample(path: &Path) -> anyhow::Result<Result<Job, ExitCode>> {
    let Some(value) = read_json(path)? else {
        return Ok(Err(ExitCode::from(2)));
    };
    let Value::Object(mut call) = value else {
        eprintln!(
            "callhook: {}: a sample must be a JSON object",
            path.display()
        );
        return Ok(Err(ExitCode::from(2)));
    };
    call.entry("job_id").or_insert_with(|| "test".into());
    call.entry("agent_id")
        .or_insert_with(|| "agent_sample".into());
    call.insert("integrations".into(), Value::Array(Vec::new()));
    Ok(Job::from_value(Value::Object(call)).map_err(|e| report(path, "sample call", e)))
}

/// The file's JSON, or `None` after printing why it is not JSON.
fn read_json(path: &Path) -> anyhow::Result<Option<Value>> {
    let raw = read_input(path)?;
    match serde_json::from_slice(&raw) {
        Ok(value) => Ok(Some(value)),
        Err(e) => {
            eprintln!("callhook: {}: invalid JSON: {e}", path.display());
            Ok(None)
        }
    }
}

fn report(path: &Path, what: &str, error: JobError) -> ExitCode {
    match error {
        JobError::Invalid(errors) => {
            eprintln!("callhook: {} is not a valid {what}:", path.display());
            for e in errors {
                eprintln!("  {e}");
            }
        }
        other => eprintln!("callhook: {}: {other}", path.display()),
    }
    ExitCode::from(2)
}
