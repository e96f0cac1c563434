//! `callhook test INTEGRATION.json [--sample CALL.json]`: send a sample call to one
//! integration now and print the attempt record.
//!
//! The integration file is one integration object as in a job's `integrations`
//! (`id` and `url` required). The sample is the built-in sample call
//! ([`callhook_render::sample_job`]) unless `--sample` names a call file: a job-shaped
//! JSON object with `call_info` (`call_log_id`, `call_status`) and any of
//! `call_summary`, `data_capture`, `structured_output`, `call_trigger_data`.
//! In a sample, `job_id` defaults to a fresh `test_<ulid>` (so every test has its own
//! `webhook-id`), `agent_id` to `agent_sample`, and `integrations` are ignored (a
//! whole job file works as a sample). The Test route shares this code
//! ([`callhook::testsend`]).
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

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use callhook_dispatch::{DispatchConfig, Dispatcher};
use callhook_model::{Integration, Job, JobError, Outcome};
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
        None => callhook::testsend::sample_job(None)?,
        Some(path) => match load_sample(path)? {
            Ok(job) => job,
            Err(code) => return Ok(code),
        },
    };
    let dispatcher = Dispatcher::new(dispatch)?;
    let record = callhook::testsend::send_test(&dispatcher, &integration, &job, "cli").await;
    let text = serde_json::to_string_pretty(&record)?;
    // A reader that stopped early (`| head`) is not an error of the delivery.
    if let Err(e) = writeln!(std::io::stdout().lock(), "{text}")
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
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
    Ok(callhook::testsend::sample_job(Some(value)).map_err(|e| report(path, "sample call", e)))
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
