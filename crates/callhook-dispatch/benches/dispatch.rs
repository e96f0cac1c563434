//! Dispatcher throughput against a minimal local HTTP sink, next to a plain
//! reqwest loop against the same sink at the same concurrency.
//!
//! Run: `cargo bench -p callhook-dispatch --bench dispatch`. Environment:
//! `BENCH_DELIVERIES` (per run, default 20000), `BENCH_CONCURRENCY` (default 64),
//! `BENCH_ROUNDS` (default 7), `BENCH_ONLY` (one variant's name, to profile it).
//!
//! Each round runs every variant once, back to back; the ratio is taken within a
//! round (the runs of one round see the same machine load) and its median over
//! the rounds is reported, with each variant's best and median rate.
//!
//! The sink is this same binary re-run as a child process (a one-thread hyper
//! server on 127.0.0.1:0), so the CPU time read from `/proc/self/stat` is the
//! client's alone. The client runs on a one-worker tokio runtime: on a 2-core
//! machine the client and the sink get a core each. Nothing leaves loopback.

use std::io::{BufRead, Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use callhook_dispatch::{DispatchConfig, Dispatcher, Signing, webhook_id};
use callhook_model::{Method, RenderedRequest, SigningKey};

const SINK_ENV: &str = "CALLHOOK_DISPATCH_BENCH_SINK";

/// A realistic Auto-mode body (~0.6 KB).
const BODY: &str = r#"{"call_log_id":"8de63236-e013-42dd-9d99-1be5521701d4","phone_number":"+919876543210","agent_name":"Renewals agent","call_status":"picked","call_type":"outbound","call_summary":"The customer confirmed the appointment for 12 June at 10:00.","data_capture":{"customer_name":"John Doe","appointment_confirmed":true},"structured_output":{"intent":"appointment_confirmation","appointment":{"date":"2026-06-12","time":"10:00"}},"call_trigger_data":{"phone_number":"+919876543210","person_name":"John Doe","crm_id":"lead_42","meta":{"campaign_id":"june-renewals"}}}"#;

fn main() {
    if std::env::var_os(SINK_ENV).is_some() {
        run_sink();
        return;
    }
    let deliveries = env_or("BENCH_DELIVERIES", 20_000);
    let concurrency = env_or("BENCH_CONCURRENCY", 64);
    let rounds = env_or("BENCH_ROUNDS", 7);

    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => fail(&format!("cannot find this binary to start the sink: {e}")),
    };
    let mut sink = match Command::new(exe)
        .env(SINK_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => fail(&format!("cannot start the sink: {e}")),
    };
    let mut line = String::new();
    if let Some(out) = sink.stdout.take() {
        let _ = std::io::BufReader::new(out).read_line(&mut line);
    }
    let port: u16 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| fail(&format!("the sink said {line:?}, not a port")));
    let url = format!("http://127.0.0.1:{port}/hook");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("runtime: {e}")));
    let results = runtime.block_on(bench(&url, deliveries, concurrency, rounds));
    drop(sink.stdin.take()); // the sink exits when its stdin closes
    let _ = sink.kill();
    let _ = sink.wait();

    let sign_ns = if std::env::var_os("BENCH_ONLY").is_none() {
        time_sign()
    } else {
        f64::NAN
    };
    println!(
        "\ncallhook-dispatch bench: {deliveries} deliveries per run, concurrency {concurrency}, \
         {rounds} rounds, client on 1 tokio worker, sink in a child process\n"
    );
    println!(
        "| variant | best deliveries/s | median deliveries/s | median CPU µs/delivery (client) | failed |"
    );
    println!("|---|---:|---:|---:|---:|");
    for name in VARIANTS {
        let runs: Vec<&Run> = results
            .iter()
            .flatten()
            .filter(|r| r.name == name)
            .collect();
        if runs.is_empty() {
            continue;
        }
        let rates: Vec<f64> = runs.iter().map(|r| r.per_second).collect();
        let cpu: Vec<f64> = runs.iter().map(|r| r.cpu_us_per_delivery).collect();
        println!(
            "| {name} | {:.0} | {:.0} | {:.1} | {} |",
            rates.iter().cloned().fold(0.0, f64::max),
            median(rates),
            median(cpu),
            runs.iter().map(|r| r.failed).sum::<usize>()
        );
    }
    let ratios = |name: &str| -> Vec<f64> {
        results
            .iter()
            .filter_map(|round| {
                let rate = |n: &str| round.iter().find(|r| r.name == n).map(|r| r.per_second);
                Some(rate(name)? / rate("plain reqwest")?)
            })
            .collect()
    };
    let (plain, signed) = (ratios("dispatcher"), ratios("dispatcher, signed"));
    if !plain.is_empty() {
        let shown: Vec<String> = plain.iter().map(|r| format!("{r:.2}")).collect();
        println!(
            "\nratio dispatcher / plain reqwest, per round: {}; median {:.2} (signed: {:.2}); \
             target >= 0.70",
            shown.join(" "),
            median(plain),
            median(signed)
        );
    }
    println!("sign() of the {}-byte body: {sign_ns:.0} ns", BODY.len());
}

const VARIANTS: [&str; 3] = ["dispatcher", "dispatcher, signed", "plain reqwest"];

/// The median (NaN for no values).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// Nanoseconds per `sign` of the bench body.
fn time_sign() -> f64 {
    let key =
        SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_or_else(|e| fail(&e));
    let n = 100_000;
    let start = Instant::now();
    let mut total = 0;
    for i in 0..n {
        total += callhook_dispatch::sign(key.expose(), "msg_x", 1_700_000_000 + i, BODY.as_bytes())
            .len();
    }
    std::hint::black_box(total);
    start.elapsed().as_nanos() as f64 / n as f64
}

struct Run {
    name: &'static str,
    per_second: f64,
    cpu_us_per_delivery: f64,
    failed: usize,
}

/// Every round's runs (the warm-up round left out).
async fn bench(url: &str, deliveries: usize, concurrency: usize, rounds: usize) -> Vec<Vec<Run>> {
    let dispatcher = Dispatcher::new(DispatchConfig {
        allowed_targets: vec!["127.0.0.0/8".parse().unwrap_or_else(|_| fail("cidr"))],
        max_per_host: concurrency,
        ..DispatchConfig::default()
    })
    .unwrap_or_else(|e| fail(&e.to_string()));
    let plain = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap_or_else(|e| fail(&e.to_string()));
    let request = Arc::new(RenderedRequest {
        method: Method::Post,
        url: url.to_string(),
        headers: vec![
            ("Authorization".into(), "Bearer s3cr3t".into()),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: Some(Bytes::from_static(BODY.as_bytes())),
    });
    let key = Arc::new(
        SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_or_else(|e| fail(&e)),
    );
    let id: Arc<str> = webhook_id("job-1", "int_crm").into();

    let mut all: Vec<Vec<Run>> = Vec::new();
    let warmup = (deliveries / 10).max(100);
    for round in 0..=rounds {
        let n = if round == 0 { warmup } else { deliveries };
        let mut runs = Vec::new();
        if wanted("dispatcher") {
            let (d, r) = (dispatcher.clone(), request.clone());
            runs.push(
                run("dispatcher", n, concurrency, move || {
                    let (d, r) = (d.clone(), r.clone());
                    async move { d.send(&r, None).await.succeeded() }
                })
                .await,
            );
        }
        if wanted("dispatcher, signed") {
            let (d, r, key, id) = (dispatcher.clone(), request.clone(), key.clone(), id.clone());
            runs.push(
                run("dispatcher, signed", n, concurrency, move || {
                    let (d, r, key, id) = (d.clone(), r.clone(), key.clone(), id.clone());
                    async move {
                        let signing = Signing {
                            key: &key,
                            webhook_id: &id,
                        };
                        d.send(&r, Some(signing)).await.succeeded()
                    }
                })
                .await,
            );
        }
        if wanted("plain reqwest") {
            let (c, url) = (plain.clone(), url.to_string());
            runs.push(
                run("plain reqwest", n, concurrency, move || {
                    let (c, url) = (c.clone(), url.clone());
                    async move {
                        let sent = c
                            .post(&url)
                            .header("Authorization", "Bearer s3cr3t")
                            .header("Content-Type", "application/json")
                            .body(Bytes::from_static(BODY.as_bytes()))
                            .send()
                            .await;
                        match sent {
                            Ok(resp) => {
                                let ok = resp.status().is_success();
                                resp.bytes().await.is_ok() && ok
                            }
                            Err(_) => false,
                        }
                    }
                })
                .await,
            );
        }
        if round == 0 {
            continue; // warm-up: connections and allocator
        }
        for r in &runs {
            eprintln!(
                "round {round}: {:<20} {:>8.0}/s {:>6.1} µs CPU",
                r.name, r.per_second, r.cpu_us_per_delivery
            );
        }
        all.push(runs);
    }
    all
}

/// Runs `deliveries` calls of `one` from `concurrency` tasks.
async fn run<F, Fut>(name: &'static str, deliveries: usize, concurrency: usize, one: F) -> Run
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let cpu_before = cpu_ticks();
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (next, failed, one) = (next.clone(), failed.clone(), one.clone());
        tasks.spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < deliveries {
                if !one().await {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = start.elapsed().as_secs_f64();
    let cpu_seconds = cpu_ticks().saturating_sub(cpu_before) as f64 / 100.0;
    Run {
        name,
        per_second: deliveries as f64 / elapsed,
        cpu_us_per_delivery: cpu_seconds * 1e6 / deliveries as f64,
        failed: failed.load(Ordering::Relaxed),
    }
}

/// User + system CPU time of this process, in clock ticks (100 per second on
/// Linux), from `/proc/self/stat`.
fn cpu_ticks() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0;
    };
    // Fields after the command name (which may contain spaces) start at `state`;
    // utime and stime are fields 14 and 15 of the line, 11 and 12 after it.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

/// The sink: a one-thread hyper HTTP/1.1 server answering `200 ok` to everything,
/// until its stdin closes.
fn run_sink() {
    use http_body_util::BodyExt;
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("sink runtime: {e}")));
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| fail(&format!("sink bind: {e}")));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        println!("{port}");
        let _ = std::io::stdout().flush();
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    |req: hyper::Request<hyper::body::Incoming>| async move {
                        let _ = req.into_body().collect().await;
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(
                            http_body_util::Full::new(Bytes::from_static(b"ok")),
                        ))
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

/// Whether `BENCH_ONLY` (a variant's name) is unset or names this variant.
fn wanted(variant: &str) -> bool {
    std::env::var("BENCH_ONLY").map_or(true, |only| only == variant)
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

fn fail(message: &str) -> ! {
    eprintln!("bench: {message}");
    std::process::exit(2)
}
