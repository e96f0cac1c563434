//! `callhook`: the post-call webhook worker and its tools.
//!
//! The binary only wires the library crate together; each subcommand lives in
//! `cmd/`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Post-call webhooks: render, send, record.
#[derive(Debug, Parser)]
#[command(name = "callhook", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a worker: consume jobs and retries, deliver, record; serve health and metrics.
    Worker,
    /// Dry run: print the request each integration of a job would get, offline.
    Render(cmd::render::RenderArgs),
    /// Publish a job file to the jobs exchange (with publisher confirms).
    Enqueue(cmd::enqueue::EnqueueArgs),
    /// Send a sample call to one integration now and print the attempt record.
    Test(cmd::test::TestArgs),
    /// Serve the admin API alone (no consuming) on CALLHOOK_HTTP_ADDR.
    Api,
    /// Print an agent's attempt log from Redis, or follow new records live.
    Logs(cmd::logs::LogsArgs),
    /// Queue retries of failed deliveries, by attempt id or in bulk for an agent.
    Retry(cmd::retry::RetryArgs),
    /// Deliver the contract's example job to a local receiver and show the records.
    Demo,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Render(args) => cmd::render::run(&args),
        Command::Worker => runtime().and_then(|rt| rt.block_on(cmd::worker::run())),
        Command::Enqueue(args) => runtime().and_then(|rt| rt.block_on(cmd::enqueue::run(args))),
        Command::Test(args) => runtime().and_then(|rt| {
            rt.block_on(async {
                let config = callhook::config::Config::load()?;
                cmd::test::run(args, callhook::worker::dispatch_config(&config)).await
            })
        }),
        Command::Api => runtime().and_then(|rt| rt.block_on(cmd::api::run())),
        Command::Logs(args) => runtime().and_then(|rt| rt.block_on(cmd::logs::run(args))),
        Command::Retry(args) => runtime().and_then(|rt| rt.block_on(cmd::retry::run(args))),
        Command::Demo => runtime().and_then(|rt| rt.block_on(cmd::demo::run())),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("callhook: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
