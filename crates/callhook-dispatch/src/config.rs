//! Dispatcher settings, their defaults and their validation.

use std::time::Duration;

use ipnet::IpNet;

use crate::error::{Error, Result};

/// How the dispatcher sends. `Default` gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchConfig {
    /// The whole attempt: waiting for a per-host slot, connecting, the response
    /// headers and reading the body. Default 15 s.
    pub timeout: Duration,
    /// Establishing the TCP connection (and TLS handshake). Default 5 s.
    pub connect_timeout: Duration,
    /// Deliveries in flight at once over the whole dispatcher. Default 1024.
    pub max_in_flight: usize,
    /// Deliveries in flight at once to one `host:port`. Default 64.
    pub max_per_host: usize,
    /// Deliveries that may wait for a slot of one host on top of those in flight
    /// once the host has finished none for a while (half the timeout, at most 1 s);
    /// more fail at once as `timeout` ("host saturated"). Default 64.
    pub max_queued_per_host: usize,
    /// Response bytes kept per attempt; the rest is not read. Default 64 KiB.
    pub max_response_body: usize,
    /// Networks exempt from the default block list (`CALLHOOK_ALLOWED_TARGETS`).
    /// Default empty.
    pub allowed_targets: Vec<IpNet>,
    /// Extra trusted root certificates (DER), on top of the system's, for
    /// receivers behind a private CA. Default empty.
    pub extra_root_certificates: Vec<Vec<u8>>,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            max_in_flight: 1024,
            max_per_host: 64,
            max_queued_per_host: 64,
            max_response_body: 64 * 1024,
            allowed_targets: Vec::new(),
            extra_root_certificates: Vec::new(),
        }
    }
}

impl DispatchConfig {
    /// Checks every setting, naming the first one out of range.
    pub fn validate(&self) -> Result<()> {
        let max_permits = tokio::sync::Semaphore::MAX_PERMITS;
        if self.timeout.is_zero() {
            return Err(Error::Config("timeout must be more than zero".into()));
        }
        if self.connect_timeout.is_zero() {
            return Err(Error::Config(
                "connect_timeout must be more than zero".into(),
            ));
        }
        if self.max_in_flight == 0 || self.max_in_flight > max_permits {
            return Err(Error::Config(format!(
                "max_in_flight must be 1 to {max_permits}, got {}",
                self.max_in_flight
            )));
        }
        if self.max_per_host == 0 || self.max_per_host > max_permits {
            return Err(Error::Config(format!(
                "max_per_host must be 1 to {max_permits}, got {}",
                self.max_per_host
            )));
        }
        Ok(())
    }
}

/// Parses an allow-list as `CALLHOOK_ALLOWED_TARGETS` spells it: CIDRs or single
/// addresses separated by commas and/or whitespace, e.g. `127.0.0.0/8, ::1`.
pub fn parse_allowed_targets(list: &str) -> Result<Vec<IpNet>> {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    Error::Config(format!(
                        "allowed_targets: {item:?} is not a CIDR (like 127.0.0.0/8) or an IP address"
                    ))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = DispatchConfig::default();
        assert_eq!(c.timeout, Duration::from_secs(15));
        assert_eq!(c.connect_timeout, Duration::from_secs(5));
        assert_eq!(c.max_in_flight, 1024);
        assert_eq!(c.max_per_host, 64);
        assert_eq!(c.max_response_body, 65536);
        assert!(c.allowed_targets.is_empty());
        c.validate().unwrap();
    }

    #[test]
    fn out_of_range_settings_are_named() {
        for (config, word) in [
            (
                DispatchConfig {
                    timeout: Duration::ZERO,
                    ..Default::default()
                },
                "timeout",
            ),
            (
                DispatchConfig {
                    connect_timeout: Duration::ZERO,
                    ..Default::default()
                },
                "connect_timeout",
            ),
            (
                DispatchConfig {
                    max_in_flight: 0,
                    ..Default::default()
                },
                "max_in_flight",
            ),
            (
                DispatchConfig {
                    max_per_host: 0,
                    ..Default::default()
                },
                "max_per_host",
            ),
            (
                DispatchConfig {
                    max_per_host: usize::MAX,
                    ..Default::default()
                },
                "max_per_host",
            ),
        ] {
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains(word), "{err}");
        }
    }

    #[test]
    fn allow_lists_parse_cidrs_and_addresses() {
        let nets = parse_allowed_targets(" 127.0.0.0/8, ::1  10.1.2.3\n").unwrap();
        assert_eq!(
            nets,
            vec![
                "127.0.0.0/8".parse::<IpNet>().unwrap(),
                "::1/128".parse().unwrap(),
                "10.1.2.3/32".parse().unwrap()
            ]
        );
        assert!(parse_allowed_targets("").unwrap().is_empty());
        let err = parse_allowed_targets("127.0.0.0/8,localhost").unwrap_err();
        assert!(err.to_string().contains("\"localhost\""), "{err}");
    }
}
