//! End-to-end benchmark: RabbitMQ → `callhook worker` (a child process) → a local
//! HTTP sink, with records in Redis and on the results exchange.
//!
//! Run: `cargo bench -p callhook --bench e2e` (needs RabbitMQ and Redis locally).
//! Each scenario uses its own prefix, so queues and keys never collide, and cleans up.
//!
//! Scenarios:
//! 1. ceiling: the sink's own rate under a plain reqwest load loop;
//! 2. throughput: a preloaded backlog drained, 1 and 3 integrations per job;
//! 3. latency: enqueue → arrival at the sink at a fixed offered rate;
//! 4. memory: worker peak RSS draining a 100,000-job backlog;
//! 5. isolation: 20% of jobs also target a receiver that never answers.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use callhook::sink::{Sink, now_micros};
use callhook_consumer::Topology;
use callhook_consumer::lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions,
};
use callhook_consumer::lapin::types::FieldTable;
use callhook_consumer::lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const AMQP: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A job like CONTRACT §1's, with `integrations` auto-body integrations pointed at
/// `urls` (cycled), stamped with the publish time for latency.
fn job(job_id: &str, urls: &[String], stamp: u64) -> Vec<u8> {
    let integrations: Vec<Value> = urls
        .iter()
        .enumerate()
        .map(|(i, url)| json!({"id": format!("int_{i}"), "url": url}))
        .collect();
    serde_json::to_vec(&json!({
        "job_id": job_id,
        "agent_id": "agent_bench",
        "call_info": {"call_log_id": job_id, "phone_number": "+919876543210",
                      "agent_name": "Bench agent", "call_status": "picked", "call_type": "outbound"},
        "call_summary": "The customer confirmed the appointment for 12 June at 10:00.",
        "data_capture": {"customer_name": "John Doe", "appointment_confirmed": true},
        "structured_output": {"intent": "appointment_confirmation",
                              "appointment": {"date": "2026-06-12", "time": "10:00"}},
        "call_trigger_data": {"t": stamp, "crm_id": "lead_42"},
        "integrations": integrations
    }))
    .unwrap()
}

struct Scenario {
    prefix: String,
    topology: Topology,
    channel: Channel,
    _conn: Connection,
}

impl Scenario {
    async fn new(name: &str) -> Scenario {
        let prefix = format!(
            "bench-{name}-{}",
            ulid::Ulid::generate().to_string().to_lowercase()
        );
        let topology = Topology::with_prefix(&prefix);
        let conn = Connection::connect(AMQP, ConnectionProperties::default())
            .await
            .expect("RabbitMQ on 127.0.0.1:5672");
        let channel = conn.create_channel().await.unwrap();
        topology.declare(&channel).await.unwrap();
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .unwrap();
        Scenario {
            prefix,
            topology,
            channel,
            _conn: conn,
        }
    }

    /// Publishes one persistent job; the returned confirm is awaited by the caller.
    async fn start_publish(
        &self,
        id: String,
        body: &[u8],
    ) -> callhook_consumer::lapin::PublisherConfirm {
        self.channel
            .basic_publish(
                self.topology.jobs_exchange.as_str().into(),
                self.topology.job_routing_key.as_str().into(),
                BasicPublishOptions::default(),
                body,
                BasicProperties::default()
                    .with_delivery_mode(2)
                    .with_content_type("application/json".into())
                    .with_message_id(id.into()),
            )
            .await
            .unwrap()
    }

    /// Publishes jobs with confirms, pipelined in batches.
    async fn publish(&self, bodies: impl IntoIterator<Item = (String, Vec<u8>)>) {
        let mut pending = Vec::with_capacity(1000);
        for (id, body) in bodies {
            pending.push(self.start_publish(id, &body).await);
            if pending.len() == 1000 {
                for c in pending.drain(..) {
                    c.await.unwrap();
                }
            }
        }
        for c in pending {
            c.await.unwrap();
        }
    }

    async fn queue_depth(&self) -> u32 {
        self.channel
            .queue_declare(
                self.topology.jobs_queue.as_str().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map(|q| q.message_count())
            .unwrap_or(0)
    }

    fn spawn_worker(&self, extra: &[(&str, &str)]) -> Child {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_callhook"));
        cmd.arg("worker")
            .env("CALLHOOK_PREFIX", &self.prefix)
            .env("CALLHOOK_ALLOWED_TARGETS", "127.0.0.0/8")
            .env("CALLHOOK_HTTP_ADDR", "127.0.0.1:0")
            .env("CALLHOOK_WORKER_ID", &self.prefix)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.spawn().expect("the callhook binary")
    }

    async fn cleanup(self) {
        let _ = self.topology.delete(&self.channel).await;
        let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
        if let Ok(mut conn) = client.get_multiplexed_async_connection().await {
            let pattern = format!("{}:*", self.prefix);
            let mut cursor: u64 = 0;
            loop {
                let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(1000)
                    .query_async(&mut conn)
                    .await
                    .unwrap_or((0, Vec::new()));
                if !keys.is_empty() {
                    let _: Result<(), _> =
                        redis::cmd("UNLINK").arg(&keys).query_async(&mut conn).await;
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
    }
}

/// CPU seconds (user + system) and peak RSS (KiB) of a process.
fn proc_stats(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After the command name: state is field 0, utime 11, stime 12; ticks are 1/100 s.
    let cpu = (ticks(11) + ticks(12)) / 100.0;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    (cpu, hwm)
}

async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    let mut last_note = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        if last_note.elapsed() > Duration::from_secs(10) {
            eprintln!("still waiting for {what} after {:?}", start.elapsed());
            last_note = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    start.elapsed()
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

async fn ceiling(sink: &Sink, concurrency: usize, duration: Duration) -> f64 {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!("{}/ceiling", sink.base_url());
    let body = job("ceiling", std::slice::from_ref(&url), 0);
    let start_count = sink.count();
    let deadline = Instant::now() + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let client = client.clone();
            let url = url.clone();
            let body = body.clone();
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let resp = client.post(&url).body(body.clone()).send().await.unwrap();
                    let _ = resp.bytes().await;
                }
            })
        })
        .collect();
    let start = Instant::now();
    for t in tasks {
        t.await.unwrap();
    }
    (sink.count() - start_count) as f64 / start.elapsed().as_secs_f64()
}

struct Drain {
    jobs_per_s: f64,
    deliveries_per_s: f64,
    cpu_us_per_job: f64,
    peak_rss_mib: f64,
}

/// Preloads `jobs` jobs of `urls.len()` integrations, starts a worker and times the drain.
async fn drain(
    name: &str,
    sink: &Sink,
    jobs: usize,
    urls: &[String],
    extra: &[(&str, &str)],
) -> Drain {
    let s = Scenario::new(name).await;
    s.publish((0..jobs).map(|i| {
        let id = format!("{name}-{i}");
        let body = job(&id, urls, 0);
        (id, body)
    }))
    .await;
    let expected = sink.count() + (jobs * urls.len()) as u64;
    let child = s.spawn_worker(extra);
    let pid = child.id();
    // The clock starts when the first delivery arrives, so process start-up and
    // connecting are not counted.
    let before = sink.count();
    wait_for("the first delivery", Duration::from_secs(60), || {
        sink.count() > before
    })
    .await;
    let (cpu0, _) = proc_stats(pid);
    let mut note = Instant::now();
    let elapsed = wait_for("the drain", Duration::from_secs(600), || {
        if note.elapsed() > Duration::from_secs(5) {
            eprintln!("drain: sink at {} of {expected}", sink.count());
            note = Instant::now();
        }
        sink.count() >= expected
    })
    .await;
    let (cpu1, hwm) = proc_stats(pid);
    let depth_deadline = Instant::now() + Duration::from_secs(30);
    while s.queue_depth().await > 0 && Instant::now() < depth_deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop(child);
    s.cleanup().await;
    let secs = elapsed.as_secs_f64();
    Drain {
        jobs_per_s: jobs as f64 / secs,
        deliveries_per_s: (jobs * urls.len()) as f64 / secs,
        cpu_us_per_job: (cpu1 - cpu0) * 1e6 / jobs as f64,
        peak_rss_mib: hwm as f64 / 1024.0,
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn latency(sink: &Sink, rate: u64, seconds: u64) -> (f64, f64, f64, usize) {
    let s = Scenario::new("latency").await;
    let child = s.spawn_worker(&[]);
    // Warm up: one job, delivered, before the clock starts.
    let url = format!("{}/t/{{{{t}}}}", sink.base_url());
    let before = sink.count();
    s.publish([(
        "warm".to_string(),
        job("warm", std::slice::from_ref(&url), now_micros()),
    )])
    .await;
    wait_for("the warm-up job", Duration::from_secs(60), || {
        sink.count() > before
    })
    .await;
    sink.take_latencies();

    let total = rate * seconds;
    let expected = sink.count() + total;
    let period = Duration::from_nanos(1_000_000_000 / rate);
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let start = Instant::now();
    let mut confirms = Vec::new();
    for i in 0..total {
        ticker.tick().await;
        let id = format!("lat-{i}");
        let body = job(&id, std::slice::from_ref(&url), now_micros());
        confirms.push(s.start_publish(id, &body).await);
    }
    let offered = total as f64 / start.elapsed().as_secs_f64();
    for c in confirms {
        c.await.unwrap();
    }
    wait_for("the latency run", Duration::from_secs(120), || {
        sink.count() >= expected
    })
    .await;
    let mut l = sink.take_latencies();
    l.sort_unstable();
    stop(child);
    s.cleanup().await;
    (percentile(&l, 0.5), percentile(&l, 0.99), offered, l.len())
}

/// Healthy deliveries per second with and without a black-holed receiver taking 20%
/// of jobs (each such job has one integration to the healthy sink and one to the
/// black hole, so the healthy sink's count is the healthy work).
async fn isolation(
    sink: &Sink,
    black_hole: &Sink,
    jobs: usize,
    extra: &[(&str, &str)],
) -> (f64, f64) {
    let healthy = format!("{}/healthy", sink.base_url());
    let hang = format!("{}/hang", black_hole.base_url());
    let baseline = drain(
        "iso-base",
        sink,
        jobs,
        std::slice::from_ref(&healthy),
        extra,
    )
    .await;

    let s = Scenario::new("iso-bh").await;
    s.publish((0..jobs).map(|i| {
        let id = format!("bh-{i}");
        let urls = if i % 5 == 0 {
            vec![healthy.clone(), hang.clone()]
        } else {
            vec![healthy.clone()]
        };
        let body = job(&id, &urls, 0);
        (id, body)
    }))
    .await;
    let expected = sink.count() + jobs as u64;
    let child = s.spawn_worker(extra);
    let before = sink.count();
    wait_for("the first delivery", Duration::from_secs(60), || {
        sink.count() > before
    })
    .await;
    let elapsed = wait_for("healthy deliveries", Duration::from_secs(600), || {
        sink.count() >= expected
    })
    .await;
    stop(child);
    s.cleanup().await;
    (
        baseline.deliveries_per_s,
        jobs as f64 / elapsed.as_secs_f64(),
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let stop = CancellationToken::new();
        let sink = Sink::start(false, stop.clone()).await.unwrap();
        let black_hole = Sink::start(false, stop.clone()).await.unwrap();
        let jobs = env_usize("BENCH_JOBS", 20_000);
        let backlog = env_usize("BENCH_BACKLOG", 100_000);
        let url = |p: &str| format!("{}/{p}", sink.base_url());
        // BENCH_ONLY=latency,isolation runs just those scenarios.
        let only = std::env::var("BENCH_ONLY").unwrap_or_default();
        let run = |name: &str| only.is_empty() || only.split(',').any(|o| o == name);

        println!("machine: {} cores; worker = release `callhook worker` child process", std::thread::available_parallelism().map_or(0, |n| n.get()));
        let ceiling_rate = ceiling(&sink, 64, Duration::from_secs(3)).await;
        println!("| scenario | figure |\n|---|---|");
        println!("| sink ceiling (plain reqwest loop, 64 concurrent) | {ceiling_rate:.0} req/s |");

        if run("throughput") {
        let one = drain("one", &sink, jobs, &[url("one")], &[]).await;
        println!(
            "| drain {jobs} jobs × 1 integration | {:.0} jobs/s, {:.0} deliveries/s ({:.2} of ceiling), {:.0} µs CPU/job, peak RSS {:.1} MiB |",
            one.jobs_per_s, one.deliveries_per_s, one.deliveries_per_s / ceiling_rate, one.cpu_us_per_job, one.peak_rss_mib
        );
        let three_jobs = jobs / 2;
        let three = drain("three", &sink, three_jobs, &[url("a"), url("b"), url("c")], &[]).await;
        println!(
            "| drain {three_jobs} jobs × 3 integrations | {:.0} jobs/s, {:.0} deliveries/s ({:.2} of ceiling), {:.0} µs CPU/job, peak RSS {:.1} MiB |",
            three.jobs_per_s, three.deliveries_per_s, three.deliveries_per_s / ceiling_rate, three.cpu_us_per_job, three.peak_rss_mib
        );
        }

        if run("latency") {
        let (p50, p99, offered, n) = latency(&sink, 1000, 10).await;
        println!("| latency enqueue → sink at {offered:.0} jobs/s offered ({n} jobs) | p50 {p50:.2} ms, p99 {p99:.2} ms |");
        }

        if run("isolation") {
        let iso_jobs = jobs / 2;
        let (base, with_bh) = isolation(&sink, &black_hole, iso_jobs, &[]).await;
        println!(
            "| healthy deliveries/s, 20% of jobs also to a black hole ({iso_jobs} jobs) | {with_bh:.0} vs {base:.0} without: {:.2} of the rate |",
            with_bh / base
        );
        }

        if run("backlog") {
        let big = drain("backlog", &sink, backlog, &[url("backlog")], &[]).await;
        println!(
            "| drain a {backlog}-job backlog × 1 integration | {:.0} jobs/s, peak RSS {:.1} MiB |",
            big.jobs_per_s, big.peak_rss_mib
        );
        }
        stop.cancel();
    });
}
