//! Test receivers on 127.0.0.1 port 0 and helpers to build requests.
//!
//! [`Receiver`] is a hyper server whose behaviour is a closure; it records every
//! request it got and counts the connections it accepted and the requests it held
//! at once. [`raw_server`] hands accepted TCP streams to a closure for behaviour
//! hyper would not produce (resets, garbage). Nothing here listens or connects
//! anywhere but loopback.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use callhook_dispatch::{DispatchConfig, Dispatcher, RenderedRequest};
use callhook_model::Method;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Response bodies of test receivers.
pub type Body = BoxBody<Bytes, io::Error>;

/// What the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: hyper::Method,
    pub uri: hyper::Uri,
    pub version: hyper::Version,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

type Handler =
    Arc<dyn Fn(Received) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> + Send + Sync>;

/// Counts requests held at once (possibly shared by several receivers).
#[derive(Debug, Default)]
pub struct Concurrency {
    current: AtomicUsize,
    max: AtomicUsize,
}

impl Concurrency {
    pub fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
    pub fn current(&self) -> usize {
        self.current.load(Ordering::SeqCst)
    }
    fn enter(self: &Arc<Self>) -> Held {
        let now = self.current.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        Held(self.clone())
    }
}

/// One request held; dropping it (even when the client gives up) leaves.
struct Held(Arc<Concurrency>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.current.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A hyper receiver on 127.0.0.1:0.
pub struct Receiver {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    pub connections: Arc<AtomicUsize>,
    pub concurrency: Arc<Concurrency>,
}

impl Receiver {
    /// A receiver answering every request with `handler`.
    pub async fn start<F, Fut>(handler: F) -> Receiver
    where
        F: Fn(Received) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<Body>> + Send + 'static,
    {
        Receiver::start_with(Arc::new(Concurrency::default()), None, handler).await
    }

    /// A receiver answering `status` with `body`.
    pub async fn answering(status: u16, body: &'static str) -> Receiver {
        Receiver::start(move |_| async move { text(status, body) }).await
    }

    /// A receiver with a shared concurrency counter and optional TLS.
    pub async fn start_with<F, Fut>(
        concurrency: Arc<Concurrency>,
        tls: Option<tokio_rustls::TlsAcceptor>,
        handler: F,
    ) -> Receiver
    where
        F: Fn(Received) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<Body>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let handler: Handler = Arc::new(move |r| Box::pin(handler(r)));
        let received = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (rec, conns, conc) = (received.clone(), connections.clone(), concurrency.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                conns.fetch_add(1, Ordering::SeqCst);
                let (handler, rec, conc, tls) =
                    (handler.clone(), rec.clone(), conc.clone(), tls.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (handler, rec, conc) = (handler.clone(), rec.clone(), conc.clone());
                        async move {
                            let _held = conc.enter();
                            let (parts, body) = req.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let got = Received {
                                method: parts.method,
                                uri: parts.uri,
                                version: parts.version,
                                headers: parts.headers,
                                body,
                            };
                            rec.lock().expect("lock").push(got.clone());
                            Ok::<_, Infallible>(handler(got).await)
                        }
                    });
                    let builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    match tls {
                        None => {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = builder
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            }
                        }
                    }
                });
            }
        });
        Receiver {
            addr,
            received,
            connections,
            concurrency,
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    pub fn connection_count(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// A TCP server on 127.0.0.1:0 handing each accepted stream to `f`.
pub async fn raw_server<F, Fut>(f: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let f = Arc::new(f);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(f(stream));
        }
    });
    addr
}

/// Reads from `stream` until the end of the request headers (or EOF).
pub async fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    buf
}

/// A full response.
pub fn text(status: u16, body: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).expect("status"))
        .body(
            http_body_util::Full::new(body.into())
                .map_err(|never| match never {})
                .boxed(),
        )
        .expect("response")
}

/// A streamed body fed through a channel of capacity 1, so the sender is never
/// more than a chunk or two ahead of what the connection took.
pub fn channel_body() -> (mpsc::Sender<Bytes>, Body) {
    let (tx, rx) = mpsc::channel(1);
    (tx, ChannelBody(rx).boxed())
}

struct ChannelBody(mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.0.poll_recv(cx).map(|c| c.map(|b| Ok(Frame::data(b))))
    }
}

/// A response with `status` whose body comes from `tx`.
pub fn streamed(status: u16, body: Body) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(body)
        .expect("response")
}

/// A POST of `body` to `url` with the forced Content-Type, as the renderer makes it.
pub fn post(url: &str, body: &str) -> RenderedRequest {
    RenderedRequest {
        method: Method::Post,
        url: url.to_string(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: Some(Bytes::from(body.to_string())),
    }
}

/// A request without a body.
pub fn bodiless(method: Method, url: &str) -> RenderedRequest {
    RenderedRequest {
        method,
        url: url.to_string(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: None,
    }
}

/// Loopback allowed, short timeouts: the usual test configuration.
pub fn config() -> DispatchConfig {
    DispatchConfig {
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        allowed_targets: vec!["127.0.0.0/8".parse().expect("cidr")],
        ..DispatchConfig::default()
    }
}

pub fn dispatcher(config: DispatchConfig) -> Dispatcher {
    Dispatcher::new(config).expect("dispatcher")
}

/// Polls `cond` until it holds or `within` passes.
pub async fn wait_for(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cond()
}

/// This process's resident set size in KiB, from /proc/self/status.
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A resolver stub: fixed answers per name, "Name or service not known" otherwise.
#[derive(Debug, Default)]
pub struct Stub {
    answers: std::collections::HashMap<String, Vec<std::net::IpAddr>>,
    pub asked: Mutex<Vec<String>>,
}

impl Stub {
    /// `pairs` of (name, address); a name may appear several times.
    pub fn new(pairs: &[(&str, &str)]) -> Arc<Stub> {
        let mut answers = std::collections::HashMap::<String, Vec<_>>::new();
        for (name, ip) in pairs {
            answers
                .entry(name.to_string())
                .or_default()
                .push(ip.parse().expect("ip"));
        }
        Arc::new(Stub {
            answers,
            asked: Mutex::new(Vec::new()),
        })
    }
}

impl callhook_dispatch::Lookup for Stub {
    fn lookup(&self, host: String) -> callhook_dispatch::LookupFuture {
        self.asked.lock().expect("lock").push(host.clone());
        let answer = self.answers.get(&host).cloned();
        Box::pin(async move {
            answer.ok_or_else(|| {
                io::Error::other("failed to lookup address information: Name or service not known")
            })
        })
    }
}
