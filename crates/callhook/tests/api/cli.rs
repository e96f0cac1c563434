//! The binary: `callhook logs` (table, JSON, `--follow`), `callhook retry` by id and
//! in bulk, and `callhook api` serving alone with an OTLP endpoint configured (no
//! collector listening: export fails quietly, nothing panics, SIGTERM exits 0).

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, amqp_url, eventually, redis_url, spawn_app};

fn callhook(app: &TestApp) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_callhook"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CALLHOOK_PREFIX", &app.prefix)
        .env("CALLHOOK_AMQP_URL", amqp_url())
        .env("CALLHOOK_REDIS_URL", redis_url());
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_follow_and_retry_from_the_command_line() {
    let app = spawn_app().await;
    app.receiver.set_status("/c", 500);
    let job = app.job(vec![
        json!({"id": "int_c", "url": app.receiver.url("/c")}),
        json!({"id": "int_d", "url": app.receiver.url("/d")}),
    ]);
    app.publish(&job).await;
    let failed = app.wait_attempt(&job.0, "int_c", 1).await;
    app.wait_attempt(&job.0, "int_d", 1).await;

    let (code, out, err) = run(callhook(&app).args(["logs", "--agent", &app.agent_id, "--json"]));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let (code, out, _) = run(callhook(&app).args([
        "logs",
        "--agent",
        &app.agent_id,
        "--outcome",
        "failed",
        "--json",
        "--limit",
        "5",
    ]));
    assert_eq!(code, 0);
    let only: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["attempt_id"], failed.attempt_id.as_str());
    let (code, table, _) = run(callhook(&app).args(["logs", "--agent", &app.agent_id]));
    assert_eq!(code, 0);
    assert!(table.lines().next().unwrap().contains("OUTCOME"), "{table}");
    assert!(
        table.contains(&failed.attempt_id) && table.contains("500 status"),
        "{table}"
    );
    let (code, _, err) =
        run(callhook(&app).args(["logs", "--agent", &app.agent_id, "--since", "soon"]));
    assert_eq!(code, 2);
    assert!(err.contains("--since"), "{err}");

    // Follow the agent's records from now on, as a log consumer would.
    let mut follow = callhook(&app)
        .args(["logs", "--follow", "--agent", &app.agent_id, "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(follow.stderr.take().unwrap());
    let mut ready = String::new();
    stderr.read_line(&mut ready).unwrap();
    assert!(ready.contains("following"), "{ready}");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = follow.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });

    // Retry the failure by id from the command line; the follower sees attempt 2.
    app.receiver.set_status("/c", 200);
    let (code, out, err) = run(callhook(&app).args(["retry", "--attempt", &failed.attempt_id]));
    assert_eq!(code, 0, "{out}{err}");
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["queued"], 1);
    let retried = app.wait_attempt(&job.0, "int_c", 2).await;
    let line = rx.recv_timeout(Duration::from_secs(20)).unwrap();
    let seen: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(seen["attempt_id"], retried.attempt_id.as_str());
    assert_eq!(seen["trigger"], "retry");
    let _ = follow.kill();
    let _ = follow.wait();

    // In bulk: nothing failed any more; the same id again is an error item (exit 1).
    let (code, out, _) =
        run(callhook(&app).args(["retry", "--agent", &app.agent_id, "--integration", "int_c"]));
    assert_eq!(code, 0, "{out}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["queued"], 0);
    let (code, out, _) = run(callhook(&app).args(["retry", "--attempt", &failed.attempt_id]));
    assert_eq!(code, 1);
    assert!(out.contains("succeeded"), "{out}");
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_runs_alone_with_otlp_configured() {
    let app = spawn_app().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = callhook(&app)
        .arg("api")
        .env("CALLHOOK_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("CALLHOOK_API_TOKENS", &app.token)
        .env("CALLHOOK_ALLOWED_TARGETS", "127.0.0.0/8")
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{closed}"),
        )
        .env("RUST_LOG", "debug")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    eventually("callhook api to answer", || async {
        app.client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .ok()
            .filter(|r| r.status() == 200)
    })
    .await;
    let resp = app
        .client
        .post(format!("{base}/v1/integrations/test"))
        .header("API-Token", &app.token)
        .header("content-type", "application/json")
        .body(
            json!({"integration": {"id": "alone", "url": app.receiver.url("/alone")}}).to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(app.receiver.requests_to("/alone").len(), 1);
    let ready = app
        .client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert!(
        Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        (status, err)
    })
    .await
    .unwrap();
    let (status, err) = status;
    assert!(status.success(), "{status:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("exporting spans over OTLP"), "{err}");
    assert!(!err.contains(&app.token), "the token was logged: {err}");
    app.cleanup().await;
}
