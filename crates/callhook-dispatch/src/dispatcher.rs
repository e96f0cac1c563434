//! The dispatcher: sends one rendered request and reports the [`Attempt`].
//!
//! One shared reqwest client (connection pool, HTTP/1.1 and HTTP/2 by ALPN), no
//! proxy, no redirects, and the policy resolver of `resolve`. Each delivery:
//! 1. waits for a global in-flight permit — back-pressure, not counted against the
//!    timeout;
//! 2. starts the attempt clock, validates the request and checks an IP-literal host
//!    against the policy (reqwest never resolves literals);
//! 3. waits for its host's slot, within the timeout: a host that holds all its
//!    slots fails its queued deliveries as `timeout` instead of stalling others;
//! 4. signs (the timestamp is taken now), sends, and reads at most
//!    `max_response_body` bytes of the response, all before the same deadline.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use callhook_model::{ErrorKind, ErrorRecord, Outcome, RenderedRequest, ResponseRecord};
use callhook_model::{RequestRecord, SigningKey, redact};
use tokio::sync::Semaphore;

use crate::attempt::{Attempt, record_body, record_headers};
use crate::body::read_capped;
use crate::classify::classify;
use crate::config::DispatchConfig;
use crate::error::{Error, Result};
use crate::hosts::HostSlots;
use crate::policy::Policy;
use crate::resolve::{Lookup, PolicyResolver, SystemLookup};
use crate::wire::Wire;

/// The `User-Agent` sent when the integration sets none.
pub const USER_AGENT_VALUE: &str = concat!("callhook/", env!("CARGO_PKG_VERSION"));

/// How to sign a request the Standard Webhooks way.
#[derive(Debug, Clone, Copy)]
pub struct Signing<'a> {
    /// The integration's key.
    pub key: &'a SigningKey,
    /// The message id, stable across retries: see [`crate::webhook_id`].
    pub webhook_id: &'a str,
}

/// Sends rendered requests. Cheap to clone: clones share the client, the pool and
/// the caps.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    config: DispatchConfig,
    policy: Arc<Policy>,
    global: Arc<Semaphore>,
    hosts: Arc<HostSlots>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("config", &self.inner.config)
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

impl Dispatcher {
    /// A dispatcher resolving names with the system resolver.
    pub fn new(config: DispatchConfig) -> Result<Dispatcher> {
        Dispatcher::with_lookup(config, Arc::new(SystemLookup))
    }

    /// A dispatcher resolving names with `lookup` (the policy still applies to its
    /// answers). For tests, and for embedders with their own DNS.
    pub fn with_lookup(config: DispatchConfig, lookup: Arc<dyn Lookup>) -> Result<Dispatcher> {
        config.validate()?;
        let policy = Arc::new(Policy::new(config.allowed_targets.clone()));
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(PolicyResolver::new(lookup, policy.clone())))
            .connect_timeout(config.connect_timeout)
            .pool_max_idle_per_host(config.max_per_host)
            .referer(false)
            .tcp_nodelay(true);
        for der in &config.extra_root_certificates {
            let cert = reqwest::Certificate::from_der(der).map_err(Error::Client)?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder.build().map_err(Error::Client)?;
        Ok(Dispatcher {
            inner: Arc::new(Inner {
                client,
                global: Arc::new(Semaphore::new(config.max_in_flight)),
                hosts: Arc::new(HostSlots::new(
                    config.max_per_host,
                    config.max_queued_per_host,
                    // A host that finishes nothing for this long, with its queue
                    // full, is treated as black-holed.
                    (config.timeout / 2).min(Duration::from_secs(1)),
                )),
                policy,
                config,
            }),
        })
    }

    /// The settings in force.
    pub fn config(&self) -> &DispatchConfig {
        &self.inner.config
    }

    /// Deliveries holding a global in-flight permit right now (for metrics).
    pub fn in_flight(&self) -> usize {
        self.inner.config.max_in_flight - self.inner.global.available_permits()
    }

    /// Hosts with deliveries waiting or in flight (for metrics and tests).
    pub fn hosts_tracked(&self) -> usize {
        self.inner.hosts.len()
    }

    /// Sends one request and reports how it went. Never fails and never panics:
    /// every problem becomes a failed [`Attempt`] with an [`ErrorKind`].
    ///
    /// Waits first for a global in-flight permit (not counted against the
    /// timeout); from then on everything happens within `timeout`.
    pub async fn send(&self, request: &RenderedRequest, signing: Option<Signing<'_>>) -> Attempt {
        let _in_flight = self.inner.global.clone().acquire_owned().await.ok();
        let started_at = SystemTime::now();
        let clock = Instant::now();
        let deadline = tokio::time::Instant::now() + self.inner.config.timeout;
        let mut attempt = Attempt {
            outcome: Outcome::Failed,
            request: RequestRecord {
                method: request.method.as_str().to_string(),
                url: redact::url(&request.url),
                headers: serde_json::Map::new(),
                body: request
                    .body
                    .as_deref()
                    .filter(|_| request.method.has_body())
                    .and_then(record_body),
            },
            response: None,
            error: None,
            started_at,
            duration: Duration::ZERO,
        };
        let result = self.deliver(request, signing, deadline, &mut attempt).await;
        attempt.duration = clock.elapsed();
        match result {
            Ok(()) => attempt.outcome = Outcome::Succeeded,
            Err(error) => {
                attempt.outcome = Outcome::Failed;
                attempt.error = Some(error);
            }
        }
        tracing::debug!(
            method = %attempt.request.method,
            url = %attempt.request.url,
            outcome = attempt.outcome.as_str(),
            status = attempt.response.as_ref().map(|r| r.status),
            error_kind = attempt.error_kind().map(ErrorKind::as_str),
            duration_ms = attempt.duration.as_millis() as u64,
            "delivery attempt"
        );
        attempt
    }

    async fn deliver(
        &self,
        request: &RenderedRequest,
        signing: Option<Signing<'_>>,
        deadline: tokio::time::Instant,
        attempt: &mut Attempt,
    ) -> Result<(), ErrorRecord> {
        let config = &self.inner.config;
        let fail = |kind, message: String| ErrorRecord { kind, message };
        let mut wire = match Wire::new(request, signing.is_some(), &self.inner.policy) {
            Ok(wire) => wire,
            Err(error) => {
                // Record what was asked for, since nothing was sent.
                attempt.request.headers = record_headers(
                    request
                        .headers
                        .iter()
                        .map(|(n, v)| (n.as_str(), v.as_str())),
                );
                return Err(error);
            }
        };
        let target = std::mem::take(&mut wire.target);

        // A slot got with less than a tenth of the timeout left is as good as none:
        // it could only start a request bound to time out, and would hold the slot
        // meanwhile. Failing it now lets the queue behind it drain in bounded time.
        let saturated = || {
            fail(
                ErrorKind::Timeout,
                format!(
                    "never got a slot for {target}: the host is saturated, with {} deliveries \
                     in flight and {} waiting (max_per_host, max_queued_per_host) and none \
                     finished lately",
                    config.max_per_host, config.max_queued_per_host,
                ),
            )
        };
        let waiting_since = tokio::time::Instant::now();
        // One timer for the whole attempt, shared by every phase.
        let timer = tokio::time::sleep_until(deadline);
        tokio::pin!(timer);
        let admitted = match self.inner.hosts.register(&target) {
            Ok(mut slot) => tokio::select! {
                biased;
                admitted = slot.admitted() => admitted.map(|()| slot),
                () = &mut timer => Err(crate::hosts::Saturated),
            },
            Err(saturated) => Err(saturated),
        };
        let Ok(mut slot) = admitted else {
            attempt.request.headers = wire.record_headers();
            return Err(saturated());
        };
        let got_slot = tokio::select! {
            biased;
            () = slot.acquire() => true,
            () = &mut timer => false,
        };
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if !got_slot || left < config.timeout / 10 {
            attempt.request.headers = wire.record_headers();
            return Err(fail(
                ErrorKind::Timeout,
                format!(
                    "never got a slot for {target} in time: all {} (max_per_host) were taken \
                     for {} of the {} timeout",
                    config.max_per_host,
                    human(waiting_since.elapsed()),
                    human(config.timeout),
                ),
            ));
        }

        // Signed as late as possible, so the timestamp is the sending time.
        let signed = signing.map(|signing| wire.sign(signing)).transpose();
        attempt.request.headers = wire.record_headers();
        signed?;
        let mut builder = self
            .inner
            .client
            .request(wire.method, wire.url)
            .headers(wire.headers);
        if let Some(body) = wire.body {
            builder = builder.body(body);
        }
        let sent = tokio::select! {
            biased;
            sent = builder.send() => sent,
            () = &mut timer => {
                return Err(fail(
                    ErrorKind::Timeout,
                    format!("no response from {target} within {}", human(config.timeout)),
                ));
            }
        };
        let response = match sent {
            Ok(response) => response,
            Err(e) => return Err(classify(&e, &target, config.connect_timeout, false)),
        };
        // Any answer, whatever its status, shows the host is alive.
        slot.answered();

        let status = response.status();
        let location = response
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(redact::url);
        let (body, body_error) =
            read_capped(response, config.max_response_body, timer, &target).await;
        let (text, encoding) = body.encode();
        attempt.response = Some(ResponseRecord {
            status: status.as_u16(),
            body: text,
            body_truncated: body.truncated(),
            body_encoding: encoding,
        });

        if !status.is_success() {
            let mut message = format!("status {status}");
            if status.is_redirection() {
                message.push_str("; redirects are not followed");
                if let Some(location) = location {
                    message.push_str(&format!(" (Location: {location})"));
                }
            }
            if let Some(e) = body_error {
                message.push_str(&format!("; the body was cut short: {}", e.message));
            }
            return Err(fail(ErrorKind::Status, message));
        }
        match body_error {
            None => Ok(()),
            Some(e) if e.kind == ErrorKind::Timeout => Err(fail(
                ErrorKind::ResponseTooSlow,
                format!(
                    "status {status} arrived from {target} but the body did not finish \
                     within {}",
                    human(config.timeout)
                ),
            )),
            Some(mut e) => {
                e.message = format!("{} (status {status})", e.message);
                Err(e)
            }
        }
    }
}

/// A duration for messages: `15 s`, `250 ms`.
pub(crate) fn human(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}
