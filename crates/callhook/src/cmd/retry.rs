//! `callhook retry --attempt ID…` or `callhook retry --agent ID [--integration ID]
//! [--since T] [--until T]`: queue retries for the workers, through the same code as
//! `POST /v1/retries` ([`callhook::retries`]). Prints the answer as JSON; exit 0
//! when every candidate was queued, 1 when some were not (the `errors` say why).

use std::process::ExitCode;

use anyhow::Context as _;
use callhook::config::Config;
use callhook::retries::RetryRequest;
use callhook_consumer::Publisher;
use callhook_store::Store;

/// Arguments of `callhook retry`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["attempt", "agent"])))]
pub struct RetryArgs {
    /// Attempt ids to retry (their job-integrations).
    #[arg(long, num_args = 1..)]
    pub attempt: Vec<String>,
    /// Retry every job-integration of this agent whose latest attempt failed.
    #[arg(long, conflicts_with = "attempt")]
    pub agent: Option<String>,
    /// Bulk: only this integration.
    #[arg(long, requires = "agent")]
    pub integration: Option<String>,
    /// Bulk: attempts stored at or after this RFC 3339 time.
    #[arg(long, requires = "agent")]
    pub since: Option<String>,
    /// Bulk: attempts stored at or before this RFC 3339 time.
    #[arg(long, requires = "agent")]
    pub until: Option<String>,
}

/// Queues the retries and prints the outcome.
pub async fn run(args: RetryArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load()?;
    let time = |name: &str, v: &Option<String>| -> anyhow::Result<Option<i64>> {
        v.as_deref()
            .map(|s| {
                callhook_model::record::parse_timestamp_ms(s)
                    .with_context(|| format!("--{name}: {s:?} is not an RFC 3339 time"))
            })
            .transpose()
    };
    let request = match args.agent {
        Some(agent_id) => RetryRequest::Bulk {
            agent_id,
            integration_id: args.integration,
            since_ms: time("since", &args.since)?,
            until_ms: time("until", &args.until)?,
        },
        None => RetryRequest::Attempts(args.attempt),
    };
    let store = Store::connect(callhook::worker::store_config(&config))
        .await
        .context("connecting to Redis")?;
    let topology = callhook::worker::topology(&config);
    let publisher = Publisher::connect(callhook::worker::amqp_config(&config), topology.clone())
        .await
        .context("connecting to RabbitMQ")?;
    let outcome = callhook::retries::retry(&store, &publisher, &topology, &request).await?;
    publisher.close().await;
    println!("{}", serde_json::to_string_pretty(&outcome)?);
    Ok(if outcome.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
