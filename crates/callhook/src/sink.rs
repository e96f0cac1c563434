//! A minimal local HTTP receiver: the demo's webhook endpoint and the benchmark's sink.
//!
//! It answers every request with `200 ok` (or holds it forever on paths under
//! `/hang`, to play a black-holed endpoint), counts them, and can keep each one for
//! inspection. A path `/t/<microseconds since the epoch>` also records the latency
//! from that time to the request's arrival (the benchmark stamps jobs that way).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// One request as the sink received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers, names lower-case, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Bytes,
}

/// A running sink; it stops when `shutdown` fires or the process ends.
#[derive(Clone)]
pub struct Sink {
    addr: SocketAddr,
    count: Arc<AtomicU64>,
    kept: Option<Arc<Mutex<Vec<Received>>>>,
    latencies: Arc<std::sync::Mutex<Vec<u64>>>,
}

impl Sink {
    /// Starts a sink on 127.0.0.1 on a free port; `keep` stores every request.
    pub async fn start(keep: bool, shutdown: CancellationToken) -> std::io::Result<Sink> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let sink = Sink {
            addr: listener.local_addr()?,
            count: Arc::new(AtomicU64::new(0)),
            kept: keep.then(|| Arc::new(Mutex::new(Vec::new()))),
            latencies: Arc::default(),
        };
        let server = sink.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    a = listener.accept() => a,
                };
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let sink = server.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let sink = sink.clone();
                        async move { sink.answer(req).await }
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service);
                    tokio::select! {
                        _ = conn => {}
                        _ = shutdown.cancelled() => {}
                    }
                });
            }
        });
        Ok(sink)
    }

    async fn answer(&self, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
        let hang = req.uri().path().starts_with("/hang");
        if let Some(sent) = req
            .uri()
            .path()
            .strip_prefix("/t/")
            .and_then(|rest| rest.split('/').next())
            .and_then(|t| t.parse::<u64>().ok())
        {
            let latency = now_micros().saturating_sub(sent);
            if let Ok(mut l) = self.latencies.lock() {
                l.push(latency);
            }
        }
        let method = req.method().to_string();
        let path = req
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_string(), ToString::to_string);
        let headers = req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = req.into_body().collect().await?.to_bytes();
        if hang {
            std::future::pending::<()>().await;
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        if let Some(kept) = &self.kept {
            kept.lock().await.push(Received {
                method,
                path,
                headers,
                body,
            });
        }
        Ok(Response::new(Full::new(Bytes::from_static(b"ok"))))
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests answered so far (held ones are not counted).
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Takes the latencies recorded so far (microseconds), leaving none.
    pub fn take_latencies(&self) -> Vec<u64> {
        self.latencies
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }

    /// The requests kept so far (empty unless started with `keep`).
    pub async fn received(&self) -> Vec<Received> {
        match &self.kept {
            Some(kept) => kept.lock().await.clone(),
            None => Vec::new(),
        }
    }
}

/// Microseconds since the Unix epoch, as `/t/<micros>` paths carry.
pub fn now_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}
