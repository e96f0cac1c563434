//! Configuration: defaults, then an optional TOML file, then `CALLHOOK_*` variables.
//!
//! The file is named by `CALLHOOK_CONFIG`; its keys are the variable names without
//! the prefix, in lower case (`prefetch = 64`). Unknown keys are refused, and
//! [`Config::load`] validates everything at start with a message naming the setting.
//! URLs and API tokens are [`Secret`]s so `Debug` output never shows them.

use std::net::SocketAddr;
use std::time::Duration;

use callhook_model::Secret;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Every setting, with its default.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `CALLHOOK_AMQP_URL`.
    #[serde(with = "secret_string")]
    pub amqp_url: Secret<String>,
    /// `CALLHOOK_REDIS_URL`.
    #[serde(with = "secret_string")]
    pub redis_url: Secret<String>,
    /// `CALLHOOK_HTTP_ADDR`: health, metrics and the admin API.
    pub http_addr: SocketAddr,
    /// `CALLHOOK_API_TOKENS`: comma-separated; with none, the `/v1` routes stay closed.
    #[serde(deserialize_with = "secret_list", serialize_with = "ser_secret_list")]
    pub api_tokens: Vec<Secret<String>>,
    /// `CALLHOOK_PREFETCH`: unacknowledged jobs a worker holds per queue.
    pub prefetch: u16,
    /// `CALLHOOK_MAX_IN_FLIGHT`: HTTP requests in flight at once, all hosts.
    pub max_in_flight: usize,
    /// `CALLHOOK_MAX_PER_HOST`: HTTP requests in flight at once to one host.
    pub max_per_host: usize,
    /// `CALLHOOK_MAX_QUEUED_PER_HOST`: deliveries that may wait for one host's slots;
    /// more fail at once, so a black-holed host holds only its own share.
    pub max_queued_per_host: usize,
    /// `CALLHOOK_TIMEOUT_SECS`: a delivery's whole time budget.
    pub timeout_secs: f64,
    /// `CALLHOOK_CONNECT_TIMEOUT_SECS`.
    pub connect_timeout_secs: f64,
    /// `CALLHOOK_ALLOWED_TARGETS`: CIDRs exempt from the private-network block.
    #[serde(deserialize_with = "cidr_list")]
    pub allowed_targets: Vec<IpNet>,
    /// `CALLHOOK_MAX_RESPONSE_BODY`: response bytes kept per attempt.
    pub max_response_body: usize,
    /// `CALLHOOK_MAX_MESSAGE_BYTES`: larger jobs are dead-lettered.
    pub max_message_bytes: usize,
    /// `CALLHOOK_RETENTION_SECS`: how long job snapshots and attempt state live.
    pub retention_secs: u64,
    /// `CALLHOOK_SHUTDOWN_GRACE_SECS`: how long SIGTERM waits for in-flight jobs.
    pub shutdown_grace_secs: f64,
    /// `CALLHOOK_PREFIX`: prefix of every queue, exchange and Redis key.
    pub prefix: String,
    /// `CALLHOOK_WORKER_ID`: names this replica in records; default host and pid.
    pub worker_id: Option<String>,
    /// `CALLHOOK_LOG_FORMAT`: `text` or `json`.
    pub log_format: LogFormat,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            amqp_url: Secret::new("amqp://guest:guest@127.0.0.1:5672/%2f".into()),
            redis_url: Secret::new("redis://127.0.0.1:6379".into()),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            api_tokens: Vec::new(),
            prefetch: 1024,
            max_in_flight: 1024,
            max_per_host: 64,
            max_queued_per_host: 64,
            timeout_secs: 15.0,
            connect_timeout_secs: 5.0,
            allowed_targets: Vec::new(),
            max_response_body: 64 * 1024,
            max_message_bytes: 1024 * 1024,
            retention_secs: 7 * 24 * 3600,
            shutdown_grace_secs: 30.0,
            prefix: "callhook".into(),
            worker_id: None,
            log_format: LogFormat::Text,
        }
    }
}

impl Config {
    /// Loads defaults, the file named by `CALLHOOK_CONFIG` if any, then the
    /// environment, and validates the result.
    pub fn load() -> anyhow::Result<Config> {
        Self::from_figment(Self::figment())
    }

    /// The layered sources, for tests to extend.
    pub fn figment() -> Figment {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Ok(path) = std::env::var("CALLHOOK_CONFIG") {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment.merge(Env::prefixed("CALLHOOK_").ignore(&["CONFIG"]))
    }

    /// Extracts and validates.
    pub fn from_figment(figment: Figment) -> anyhow::Result<Config> {
        let config: Config = figment
            .extract()
            .map_err(|e| anyhow::anyhow!("configuration: {}", describe(e)))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        let fail = |name: &str, why: &str| Err(anyhow::anyhow!("configuration: {name}: {why}"));
        if !self.amqp_url.expose().starts_with("amqp://")
            && !self.amqp_url.expose().starts_with("amqps://")
        {
            return fail("CALLHOOK_AMQP_URL", "must start with amqp:// or amqps://");
        }
        if !["redis://", "rediss://", "redis+unix://", "unix://"]
            .iter()
            .any(|p| self.redis_url.expose().starts_with(p))
        {
            return fail(
                "CALLHOOK_REDIS_URL",
                "must start with redis:// or rediss://",
            );
        }
        if self.prefetch == 0 {
            return fail("CALLHOOK_PREFETCH", "must be at least 1");
        }
        if self.max_in_flight == 0 {
            return fail("CALLHOOK_MAX_IN_FLIGHT", "must be at least 1");
        }
        if self.max_per_host == 0 {
            return fail("CALLHOOK_MAX_PER_HOST", "must be at least 1");
        }
        for (name, secs) in [
            ("CALLHOOK_TIMEOUT_SECS", self.timeout_secs),
            ("CALLHOOK_CONNECT_TIMEOUT_SECS", self.connect_timeout_secs),
        ] {
            if !(secs.is_finite() && secs > 0.0 && secs <= 3600.0) {
                return fail(name, "must be a number of seconds above 0 and at most 3600");
            }
        }
        if !(self.shutdown_grace_secs.is_finite() && self.shutdown_grace_secs >= 0.0) {
            return fail("CALLHOOK_SHUTDOWN_GRACE_SECS", "must be 0 or more seconds");
        }
        if self.max_response_body == 0 {
            return fail("CALLHOOK_MAX_RESPONSE_BODY", "must be at least 1 byte");
        }
        if self.max_message_bytes < 1024 {
            return fail("CALLHOOK_MAX_MESSAGE_BYTES", "must be at least 1024 bytes");
        }
        if self.retention_secs < 60 {
            return fail("CALLHOOK_RETENTION_SECS", "must be at least 60 seconds");
        }
        if self.prefix.is_empty()
            || !self
                .prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
        {
            return fail(
                "CALLHOOK_PREFIX",
                "must be non-empty ASCII letters, digits, '-', '_', '.' or ':'",
            );
        }
        if self.api_tokens.iter().any(|t| t.expose().len() < 16) {
            return fail(
                "CALLHOOK_API_TOKENS",
                "every token must be at least 16 characters",
            );
        }
        Ok(())
    }

    /// The delivery timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_secs)
    }

    /// The connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.connect_timeout_secs)
    }

    /// The shutdown grace period.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs_f64(self.shutdown_grace_secs)
    }

    /// How long job snapshots and state are kept.
    pub fn retention(&self) -> Duration {
        Duration::from_secs(self.retention_secs)
    }

    /// This replica's id: the configured one, or `<host>-<pid>`.
    pub fn worker_id(&self) -> String {
        self.worker_id.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "callhook".into());
            format!("{host}-{}", std::process::id())
        })
    }
}

/// Names the variable a figment error is about, in `CALLHOOK_*` terms.
fn describe(e: figment::Error) -> String {
    e.into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let what = match &e.kind {
                figment::error::Kind::UnknownField(field, _) => {
                    format!("unknown setting CALLHOOK_{}", field.to_ascii_uppercase())
                }
                kind => kind.to_string(),
            };
            if key.is_empty() {
                what
            } else {
                format!("CALLHOOK_{}: {what}", key.to_ascii_uppercase())
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A list given as a TOML array or as one comma-separated string.
#[derive(Deserialize)]
#[serde(untagged)]
enum ListOrString {
    List(Vec<String>),
    String(String),
}

fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match ListOrString::deserialize(d)? {
        ListOrString::List(items) => items,
        ListOrString::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
    })
}

fn secret_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Secret<String>>, D::Error> {
    Ok(strings(d)?.into_iter().map(Secret::new).collect())
}

fn ser_secret_list<S: serde::Serializer>(v: &[Secret<String>], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|t| t.expose()))
}

fn cidr_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<IpNet>, D::Error> {
    strings(d)?
        .into_iter()
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    serde::de::Error::custom(format!("{s:?} is not a CIDR such as 127.0.0.0/8"))
                })
        })
        .collect()
}

mod secret_string {
    use callhook_model::Secret;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Secret<String>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.expose())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Secret<String>, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::providers::Serialized;

    fn with(pairs: &[(&str, &str)]) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        for (k, v) in pairs {
            figment = figment.merge(Toml::string(&format!("{k} = {v}")));
        }
        Config::from_figment(figment)
    }

    #[test]
    fn defaults_are_valid_and_match_the_contract() {
        let c = with(&[]).unwrap();
        assert_eq!(c.amqp_url.expose(), "amqp://guest:guest@127.0.0.1:5672/%2f");
        assert_eq!(c.redis_url.expose(), "redis://127.0.0.1:6379");
        assert_eq!(c.http_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.timeout(), Duration::from_secs(15));
        assert_eq!(c.max_response_body, 65536);
        assert_eq!(c.max_message_bytes, 1 << 20);
        assert_eq!(c.retention(), Duration::from_secs(604_800));
        assert!(c.api_tokens.is_empty());
    }

    #[test]
    fn lists_come_as_comma_separated_strings_or_arrays() {
        let c = with(&[
            ("allowed_targets", "\"127.0.0.0/8, ::1\""),
            ("api_tokens", "[\"aaaaaaaaaaaaaaaa\", \"bbbbbbbbbbbbbbbb\"]"),
        ])
        .unwrap();
        assert_eq!(c.allowed_targets.len(), 2);
        assert_eq!(c.allowed_targets[1].to_string(), "::1/128");
        assert_eq!(c.api_tokens.len(), 2);
    }

    #[test]
    fn bad_settings_name_the_variable() {
        for (pairs, expected) in [
            (
                vec![("prefetch", "0")],
                "CALLHOOK_PREFETCH: must be at least 1",
            ),
            (
                vec![("timeout_secs", "-1")],
                "CALLHOOK_TIMEOUT_SECS: must be",
            ),
            (
                vec![("allowed_targets", "\"10.0.0.0/33\"")],
                "CALLHOOK_ALLOWED_TARGETS",
            ),
            (
                vec![("amqp_url", "\"http://x\"")],
                "CALLHOOK_AMQP_URL: must start",
            ),
            (
                vec![("api_tokens", "\"short\"")],
                "CALLHOOK_API_TOKENS: every token",
            ),
            (vec![("prefech", "5")], "unknown setting CALLHOOK_PREFECH"),
            (vec![("prefetch", "\"many\"")], "CALLHOOK_PREFETCH"),
        ] {
            let err = with(&pairs).unwrap_err().to_string();
            assert!(err.contains(expected), "{pairs:?}: {err}");
        }
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c = with(&[
            ("amqp_url", "\"amqp://user:hunter2hunter2@rabbit:5672/%2f\""),
            ("api_tokens", "\"tok_abcdefghijklmnop\""),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("tok_abcdefghijklmnop"), "{shown}");
    }
}
