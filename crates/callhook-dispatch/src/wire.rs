//! What goes on the wire for a [`RenderedRequest`]: the checked URL, the headers as
//! sent (and as recorded), the body, and the signature headers.
//!
//! Validation here is the dispatcher's own, even though the renderer validates
//! too: a request that cannot be sent safely is `invalid_request`, whoever made it.

use std::borrow::Cow;
use std::net::IpAddr;
use std::time::SystemTime;

use bytes::Bytes;
use callhook_model::{ErrorKind, ErrorRecord, Method, RenderedRequest};
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use url::{Host, Url};

use crate::attempt::record_headers;
use crate::dispatcher::{Signing, USER_AGENT_VALUE};
use crate::policy::Policy;
use crate::sign::{WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP, sign};

/// A request ready to send.
pub(crate) struct Wire<'a> {
    /// The parsed URL, whose host passed the policy if it is an IP literal.
    pub(crate) url: Url,
    /// `host:port`, the per-host cap's key and the messages' name for the target.
    pub(crate) target: String,
    pub(crate) method: reqwest::Method,
    /// `None` for GET and DELETE.
    pub(crate) body: Option<Bytes>,
    pub(crate) headers: HeaderMap,
    /// `(name as configured, value)` in sending order, for the record.
    sent: Vec<(&'a str, Cow<'a, str>)>,
}

fn invalid(message: String) -> ErrorRecord {
    ErrorRecord {
        kind: ErrorKind::InvalidRequest,
        message,
    }
}

impl<'a> Wire<'a> {
    /// Checks the URL (and an IP-literal host against `policy`) and builds the
    /// headers: the configured ones in order, `User-Agent` unless configured,
    /// `Content-Type: application/json` in place of any configured one. When
    /// `signed`, configured `webhook-*` headers are dropped for [`Wire::sign`]'s.
    pub(crate) fn new(
        request: &'a RenderedRequest,
        signed: bool,
        policy: &Policy,
    ) -> Result<Wire<'a>, ErrorRecord> {
        let url = Url::parse(&request.url).map_err(|e| invalid(format!("url: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "url: the scheme must be http or https, not {:?}",
                url.scheme()
            )));
        }
        // reqwest never calls the resolver for an IP literal, so check it here. The
        // url crate has already normalized `127.1`, `2130706433`, `0x7f000001`.
        let literal: Option<IpAddr> = match url.host() {
            Some(Host::Ipv4(ip)) => Some(ip.into()),
            Some(Host::Ipv6(ip)) => Some(ip.into()),
            Some(Host::Domain(name)) => name.parse().ok(),
            None => return Err(invalid("url: it has no host".into())),
        };
        if let Some(ip) = literal {
            policy.check(ip).map_err(|blocked| ErrorRecord {
                kind: ErrorKind::Blocked,
                message: blocked.to_string(),
            })?;
        }
        let target = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or(0)
        );

        let mut headers = HeaderMap::with_capacity(request.headers.len() + 5);
        let mut sent = Vec::with_capacity(request.headers.len() + 5);
        let mut has_user_agent = false;
        for (name, value) in &request.headers {
            let lower = name.to_ascii_lowercase();
            let replaced = lower == "content-type"
                || (signed
                    && [WEBHOOK_ID, WEBHOOK_TIMESTAMP, WEBHOOK_SIGNATURE].contains(&&*lower));
            if replaced {
                continue;
            }
            if callhook_model::request::is_reserved_header(&lower) {
                return Err(invalid(format!(
                    "headers.{name}: is set by the HTTP client and cannot be configured"
                )));
            }
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(format!("headers.{name}: is not a valid header name")))?;
            let header_value = HeaderValue::from_str(value).map_err(|_| {
                invalid(format!(
                    "headers.{name}: the value must not contain line breaks or control characters"
                ))
            })?;
            has_user_agent |= header_name == USER_AGENT;
            headers.append(header_name, header_value);
            sent.push((name.as_str(), Cow::Borrowed(value.as_str())));
        }
        if !has_user_agent {
            headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
            sent.push(("User-Agent", Cow::Borrowed(USER_AGENT_VALUE)));
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        sent.push(("Content-Type", Cow::Borrowed("application/json")));

        let body = request
            .method
            .has_body()
            .then(|| request.body.clone().unwrap_or_default());
        Ok(Wire {
            url,
            target,
            method: method(request.method),
            body,
            headers,
            sent,
        })
    }

    /// Adds the Standard Webhooks headers, signing the body (or the empty string)
    /// with the current time.
    pub(crate) fn sign(&mut self, signing: Signing<'_>) -> Result<(), ErrorRecord> {
        let timestamp = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let body = self.body.as_deref().unwrap_or_default();
        let signature = sign(signing.key.expose(), signing.webhook_id, timestamp, body);
        for (name, value) in [
            (WEBHOOK_ID, signing.webhook_id.to_string()),
            (WEBHOOK_TIMESTAMP, timestamp.to_string()),
            (WEBHOOK_SIGNATURE, signature),
        ] {
            let header_value = HeaderValue::from_str(&value)
                .map_err(|_| invalid(format!("{name}: {value:?} is not a valid header value")))?;
            self.headers
                .insert(HeaderName::from_static(name), header_value);
            self.sent.push((name, Cow::Owned(value)));
        }
        Ok(())
    }

    /// The headers for the record, secrets redacted.
    pub(crate) fn record_headers(&self) -> serde_json::Map<String, serde_json::Value> {
        record_headers(self.sent.iter().map(|(n, v)| (*n, v.as_ref())))
    }
}

fn method(m: Method) -> reqwest::Method {
    match m {
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Get => reqwest::Method::GET,
        Method::Delete => reqwest::Method::DELETE,
    }
}
