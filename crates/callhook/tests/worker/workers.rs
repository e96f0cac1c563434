//! Workers under test: in process (`Worker::run` in a task) or the real binary as a
//! child process; and a tiny HTTP client for their ops routes.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use callhook::config::Config;
use callhook::worker::Worker;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::helpers::{DEADLINE, TestApp, eventually, free_port};

/// A worker running in this process.
pub struct RunningWorker {
    pub worker: Worker,
    pub token: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

impl RunningWorker {
    /// Waits until the consumer's connected flag is `want`.
    pub async fn wait_connected(&self, want: bool) {
        let worker = self.worker.clone();
        eventually(&format!("consumer_connected() == {want}"), || {
            let up = worker.consumer_connected();
            async move { (up == want).then_some(()) }
        })
        .await;
    }

    /// Fires the shutdown token; answers how long `run` took to return, and its result.
    pub async fn stop(mut self) -> (Duration, anyhow::Result<()>) {
        let started = Instant::now();
        self.token.cancel();
        let handle = self.handle.take().unwrap();
        let result = tokio::time::timeout(DEADLINE, handle)
            .await
            .expect("run returns after shutdown")
            .expect("the worker task does not panic");
        (started.elapsed(), result)
    }
}

impl Drop for RunningWorker {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

/// The real binary, `callhook worker`, as a child process. Killed on drop.
pub struct ChildWorker {
    child: Child,
    pub http_addr: SocketAddr,
}

impl ChildWorker {
    /// SIGKILL: no shutdown code runs, the broker requeues what it held.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM (through `kill(1)`), then waits for the exit.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success(), "kill -TERM {pid}");
        eventually("the binary to exit after SIGTERM", || {
            let exited = self.child.try_wait().unwrap();
            async move { exited }
        })
        .await
    }
}

impl Drop for ChildWorker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestApp {
    /// The configuration of the next worker: the app's with a fresh `worker_id`.
    pub fn worker_config(&self) -> Config {
        let n = self.workers.fetch_add(1, Ordering::SeqCst) + 1;
        let id = format!("{}-w{n}", self.prefix);
        self.worker_ids.lock().unwrap().push(id.clone());
        Config {
            worker_id: Some(id),
            ..self.config.clone()
        }
    }

    pub fn spawn_worker(&self) -> RunningWorker {
        self.spawn_worker_with(|_| {})
    }

    /// `Worker::new` then `run(token)` in a task of its own.
    pub fn spawn_worker_with(&self, tweak: impl FnOnce(&mut Config)) -> RunningWorker {
        let mut config = self.worker_config();
        tweak(&mut config);
        let worker = Worker::new(&config).unwrap();
        let token = CancellationToken::new();
        self.tokens.lock().unwrap().push(token.clone());
        let handle = tokio::spawn({
            let (worker, token) = (worker.clone(), token.clone());
            async move { worker.run(token).await }
        });
        RunningWorker {
            worker,
            token,
            handle: Some(handle),
        }
    }

    /// `callhook worker` with the app's configuration in `CALLHOOK_*` variables.
    pub fn spawn_binary(&self) -> ChildWorker {
        let config = self.worker_config();
        let http_addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_callhook"));
        cmd.arg("worker");
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("CALLHOOK_") {
                cmd.env_remove(name);
            }
        }
        let log = std::env::var("CALLHOOK_TEST_CHILD_LOG").ok();
        cmd.env("CALLHOOK_AMQP_URL", config.amqp_url.expose())
            .env("CALLHOOK_REDIS_URL", config.redis_url.expose())
            .env("CALLHOOK_HTTP_ADDR", http_addr.to_string())
            .env("CALLHOOK_PREFIX", &config.prefix)
            .env("CALLHOOK_WORKER_ID", config.worker_id.as_deref().unwrap())
            .env("CALLHOOK_ALLOWED_TARGETS", "127.0.0.0/8")
            .env("CALLHOOK_PREFETCH", config.prefetch.to_string())
            .env("CALLHOOK_TIMEOUT_SECS", config.timeout_secs.to_string())
            .env("CALLHOOK_SHUTDOWN_GRACE_SECS", "1")
            .env("RUST_LOG", log.as_deref().unwrap_or("warn"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(if log.is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            });
        ChildWorker {
            child: cmd.spawn().expect("the callhook binary starts"),
            http_addr,
        }
    }
}

/// `GET path` over HTTP/1.0: the status and the body.
pub async fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}
