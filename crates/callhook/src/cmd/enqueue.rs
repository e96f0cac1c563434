//! `callhook enqueue JOB.json [--count N]`: publish jobs with publisher confirms.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use callhook::config::Config;
use callhook_consumer::Publisher;
use callhook_model::Job;
use serde_json::Value;

/// Arguments of `callhook enqueue`.
#[derive(Debug, clap::Args)]
pub struct EnqueueArgs {
    /// The job JSON file, or `-` for standard input.
    pub job: PathBuf,
    /// How many copies to publish.
    #[arg(long, default_value_t = 1)]
    pub count: u64,
    /// Keep the file's `job_id` instead of giving each copy a fresh one.
    #[arg(long)]
    pub keep_id: bool,
}

/// Validates the job, then publishes `count` copies.
pub async fn run(args: EnqueueArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load()?;
    let raw = super::render::read_input(&args.job)?;
    if let Err(e) = Job::from_slice(&raw) {
        anyhow::bail!("{} is not a valid job: {e}", args.job.display());
    }
    let mut value: Value = serde_json::from_slice(&raw)?;
    let publisher = Publisher::connect(
        callhook::worker::amqp_config(&config),
        callhook::worker::topology(&config),
    )
    .await
    .context("connecting to RabbitMQ")?;
    let started = std::time::Instant::now();
    for _ in 0..args.count {
        if !args.keep_id {
            value["job_id"] = Value::String(ulid::Ulid::generate().to_string());
        }
        let job_id = value["job_id"].as_str().unwrap_or_default().to_string();
        let body = serde_json::to_vec(&value)?;
        publisher
            .publish_job(&body, &job_id, "job")
            .await
            .with_context(|| format!("publishing job {job_id}"))?;
        if args.count == 1 {
            println!("{job_id}");
        }
    }
    if args.count > 1 {
        println!(
            "published {} jobs in {:.2}s",
            args.count,
            started.elapsed().as_secs_f64()
        );
    }
    publisher.close().await;
    Ok(ExitCode::SUCCESS)
}
