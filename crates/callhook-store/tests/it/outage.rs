//! A private `redis-server` that goes away and comes back on the same port.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use callhook_model::{Outcome, Trigger};
use callhook_store::{RecordOutcome, Store, StoreConfig};

use crate::helpers::{config, record};

/// A `redis-server` child, killed on drop.
struct Server(Child);

impl Server {
    fn start(port: u16) -> Server {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed");
        Server(child)
    }

    fn stop(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn errors_are_retryable_while_redis_is_down_and_the_store_recovers() {
    let port = free_port();
    let config = StoreConfig {
        response_timeout: Duration::from_millis(500),
        connection_timeout: Duration::from_millis(500),
        ..StoreConfig {
            url: format!("redis://127.0.0.1:{port}").into(),
            ..config()
        }
    };

    // Down from the start: a lazy store answers retryable errors.
    let lazy = Store::connect_lazy(config.clone()).unwrap();
    let err = lazy.ping().await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    let err = Store::connect(config.clone()).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");

    let server = Server::start(port);
    let store = eventually("redis to start", || {
        let config = config.clone();
        async move { Store::connect(config).await.ok() }
    })
    .await;
    let first = record(
        "job-o",
        "agent_o",
        "int",
        Trigger::Delivery,
        Outcome::Succeeded,
    );
    assert!(matches!(
        store.record(&first).await.unwrap(),
        RecordOutcome::Stored { .. }
    ));

    server.stop();
    // Every call fails, retryably, while it is down.
    let rec = record(
        "job-o",
        "agent_o",
        "int2",
        Trigger::Delivery,
        Outcome::Succeeded,
    );
    for _ in 0..3 {
        let err = store.record(&rec).await.unwrap_err();
        assert!(err.is_retryable(), "{err}");
        let err = store.put_job("job-o", b"{}").await.unwrap_err();
        assert!(err.is_retryable(), "{err}");
    }

    let _server = Server::start(port);
    eventually("the store to reconnect", || {
        let store = store.clone();
        async move { store.ping().await.ok() }
    })
    .await;
    // The restarted server is empty (no persistence); the store works on it.
    assert!(matches!(
        store.record(&rec).await.unwrap(),
        RecordOutcome::Stored {
            duplicate: false,
            ..
        }
    ));
    store.put_job("job-o", b"{}").await.unwrap();
    assert_eq!(
        store.get_job("job-o").await.unwrap().as_deref(),
        Some(&b"{}"[..])
    );
    // The lazy store made while it was down works now too.
    eventually("the lazy store", || {
        let lazy = lazy.clone();
        async move { lazy.ping().await.ok() }
    })
    .await;
}
