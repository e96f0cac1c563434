//! The webhook receiver: a hyper server on 127.0.0.1:0 that records every request
//! (method, path, headers, body) and answers per path: a status sequence, a delay,
//! or a hang until the test releases it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    #[allow(dead_code)]
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{} {}: body is not JSON: {e}", self.method, self.path))
    }
}

/// How a path answers. The n-th request to a path (from 0) gets `statuses[n]`, the
/// last one repeating; it waits `delay` first, and for `gate` if there is one.
#[derive(Debug, Clone)]
pub struct Rule {
    pub statuses: Vec<u16>,
    pub delay: Duration,
    pub gate: Option<watch::Receiver<bool>>,
}

impl Default for Rule {
    fn default() -> Self {
        Rule {
            statuses: vec![200],
            delay: Duration::ZERO,
            gate: None,
        }
    }
}

/// Lets requests held by [`Receiver::hang`] answer.
pub struct Gate(watch::Sender<bool>);

impl Gate {
    pub fn release(&self) {
        self.0.send_replace(true);
    }
}

#[derive(Default)]
struct State {
    requests: Vec<Received>,
    rules: HashMap<String, Rule>,
    default: Rule,
}

/// A running receiver; it lives as long as the test's runtime.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Receiver {
            addr: listener.local_addr().unwrap(),
            state: Arc::default(),
        };
        let server = receiver.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let _ = stream.set_nodelay(true);
                let server = server.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let server = server.clone();
                        async move { Ok::<_, Infallible>(server.answer(req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        receiver
    }

    async fn answer(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_string(), ToString::to_string);
        let (rule, nth) = {
            let mut state = self.state.lock().unwrap();
            let nth = state.requests.iter().filter(|r| r.path == path).count();
            state.requests.push(Received {
                method: parts.method.to_string(),
                path: path.clone(),
                headers: parts.headers,
                body,
                at: Instant::now(),
            });
            let rule = state.rules.get(&path).unwrap_or(&state.default).clone();
            (rule, nth)
        };
        if !rule.delay.is_zero() {
            tokio::time::sleep(rule.delay).await;
        }
        if let Some(mut gate) = rule.gate {
            let _ = gate.wait_for(|open| *open).await;
        }
        let status = rule
            .statuses
            .get(nth)
            .or(rule.statuses.last())
            .copied()
            .unwrap_or(200);
        let mut response = Response::new(Full::new(Bytes::from_static(b"ok")));
        *response.status_mut() = StatusCode::from_u16(status).unwrap();
        response
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sets how `path` answers.
    pub fn set(&self, path: &str, rule: Rule) {
        self.state
            .lock()
            .unwrap()
            .rules
            .insert(path.to_string(), rule);
    }

    /// `path` answers these statuses in turn, the last one repeating.
    pub fn answer_with(&self, path: &str, statuses: &[u16]) {
        self.set(
            path,
            Rule {
                statuses: statuses.to_vec(),
                ..Rule::default()
            },
        );
    }

    /// Requests to `path` wait until the gate is released, then answer 200.
    pub fn hang(&self, path: &str) -> Gate {
        let (tx, rx) = watch::channel(false);
        self.set(
            path,
            Rule {
                gate: Some(rx),
                ..Rule::default()
            },
        );
        Gate(tx)
    }

    /// Every path without a rule of its own waits `delay`, then answers 200.
    pub fn delay_all(&self, delay: Duration) {
        self.state.lock().unwrap().default = Rule {
            delay,
            ..Rule::default()
        };
    }

    pub fn requests(&self) -> Vec<Received> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn requests_to(&self, path: &str) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    pub fn count(&self, path: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|r| r.path == path)
            .count()
    }
}
