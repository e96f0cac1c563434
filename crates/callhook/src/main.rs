//! `callhook`: the post-call webhook worker and its tools.
//!
//! The binary only wires the library crates together; each subcommand lives in
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
    /// Dry run: print the request each integration of a job would get, offline.
    Render(cmd::render::RenderArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Render(args) => cmd::render::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("callhook: {e:#}");
            ExitCode::from(2)
        }
    }
}
