//! `callhook logs --agent ID [filters]`: an agent's attempts from Redis, newest
//! first, as a table or JSON lines (`--json`); `--follow` tails records as they are
//! stored (all agents' unless `--agent`), until Ctrl-C.

use std::process::ExitCode;

use anyhow::Context as _;
use callhook::config::Config;
use callhook::follow::Follow;
use callhook_model::AttemptRecord;
use callhook_store::{LogQuery, Store};
use tokio_util::sync::CancellationToken;

/// Arguments of `callhook logs`.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// The agent whose log to read (required unless --follow).
    #[arg(long)]
    pub agent: Option<String>,
    /// Only this integration.
    #[arg(long)]
    pub integration: Option<String>,
    /// Only this outcome: succeeded, failed or skipped.
    #[arg(long)]
    pub outcome: Option<String>,
    /// Only records stored at or after this RFC 3339 time.
    #[arg(long)]
    pub since: Option<String>,
    /// Only records stored at or before this RFC 3339 time.
    #[arg(long)]
    pub until: Option<String>,
    /// How many records to print.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// One JSON record per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Keep printing records as they are stored.
    #[arg(long, short = 'f')]
    pub follow: bool,
}

/// Reads (or follows) the log.
pub async fn run(args: LogsArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load()?;
    let outcome = match args.outcome.as_deref() {
        None => None,
        Some(s) => Some(callhook::api::logs::parse_outcome(s).with_context(|| {
            format!("--outcome: expected succeeded, failed or skipped, got {s:?}")
        })?),
    };
    let time = |name: &str, v: &Option<String>| -> anyhow::Result<Option<i64>> {
        v.as_deref()
            .map(|s| {
                callhook_model::record::parse_timestamp_ms(s)
                    .with_context(|| format!("--{name}: {s:?} is not an RFC 3339 time"))
            })
            .transpose()
    };
    let since_ms = time("since", &args.since)?;
    let until_ms = time("until", &args.until)?;
    let store_config = callhook::worker::store_config(&config);
    if args.follow {
        let follow = Follow {
            redis_url: config.redis_url.expose().clone(),
            keys: callhook_store::Keys::new(config.prefix.clone()),
            agent_id: args.agent.clone(),
            from_id: None,
        };
        let stop = CancellationToken::new();
        let on_signal = stop.clone();
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            on_signal.cancel();
        });
        if !args.json {
            println!("{}", header());
        }
        follow
            .run(
                stop,
                |key| eprintln!("callhook: following {key} (Ctrl-C to stop)"),
                |rec| {
                    let keep = args
                        .integration
                        .as_ref()
                        .is_none_or(|i| *i == rec.integration_id)
                        && outcome.is_none_or(|o| o == rec.outcome);
                    if keep {
                        print_record(&rec, args.json);
                    }
                },
            )
            .await?;
        return Ok(ExitCode::SUCCESS);
    }
    let agent = args
        .agent
        .context("--agent is required (or --follow to tail every agent)")?;
    let store = Store::connect(store_config)
        .await
        .context("connecting to Redis")?;
    let mut query = LogQuery {
        integration_id: args.integration.clone(),
        outcome,
        since_ms,
        until_ms,
        limit: args.limit.clamp(1, callhook_store::log::MAX_LIMIT),
        cursor: None,
    };
    if !args.json {
        println!("{}", header());
    }
    let mut printed = 0;
    while printed < args.limit {
        query.limit = (args.limit - printed).clamp(1, callhook_store::log::MAX_LIMIT);
        let page = store.agent_log(&agent, &query).await?;
        for rec in &page.items {
            print_record(rec, args.json);
        }
        printed += page.items.len();
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn header() -> String {
    format!(
        "{:<24} {:<9} {:<8} {:>3} {:<20} {:<28} {:>7}  {}",
        "STARTED", "OUTCOME", "TRIGGER", "#", "INTEGRATION", "RESULT", "MS", "ATTEMPT_ID"
    )
}

fn print_record(rec: &AttemptRecord, json: bool) {
    if json {
        match serde_json::to_string(rec) {
            Ok(line) => println!("{line}"),
            Err(e) => eprintln!("callhook: cannot print record {}: {e}", rec.attempt_id),
        }
        return;
    }
    let result = match (&rec.response, &rec.error) {
        (_, Some(e)) => match &rec.response {
            Some(r) => format!("{} {}", r.status, e.kind.as_str()),
            None => e.kind.as_str().to_string(),
        },
        (Some(r), None) => r.status.to_string(),
        (None, None) => "-".into(),
    };
    let trigger = match rec.trigger {
        callhook_model::Trigger::Delivery => "delivery",
        callhook_model::Trigger::Retry => "retry",
        callhook_model::Trigger::Test => "test",
    };
    println!(
        "{:<24} {:<9} {:<8} {:>3} {:<20} {:<28} {:>7}  {}",
        rec.started_at,
        rec.outcome.as_str(),
        trigger,
        rec.attempt,
        truncate(&rec.integration_id, 20),
        truncate(&result, 28),
        rec.duration_ms,
        rec.attempt_id
    );
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}
