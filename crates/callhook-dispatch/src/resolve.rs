//! DNS resolution with the network policy applied to its answer.
//!
//! [`PolicyResolver`] is the reqwest [`Resolve`] of the dispatcher's client. It looks
//! the name up ([`Lookup`], the system resolver by default), drops every address the
//! [`Policy`] refuses and hands reqwest only the rest, so the addresses checked are
//! exactly the ones connected to: a name that answers a public address to one
//! lookup and `127.0.0.1` to the next (DNS rebinding) gains nothing. When every
//! address is refused the lookup fails with [`ResolveError::Blocked`], which the
//! dispatcher finds in reqwest's error chain and records as `blocked`.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::policy::{Blocked, Policy};

/// The future a [`Lookup`] returns.
pub type LookupFuture = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// Looks a host name up. The system resolver by default ([`SystemLookup`]); tests
/// and embedders may plug their own in with [`crate::Dispatcher::with_lookup`].
pub trait Lookup: Send + Sync + 'static {
    /// Every address of `host` (a name, never an IP literal).
    fn lookup(&self, host: String) -> LookupFuture;
}

/// The operating system's resolver (`getaddrinfo`, through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: String) -> LookupFuture {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

/// Why a name yielded nothing to connect to.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The lookup failed or answered no address.
    #[error("{host} did not resolve: {message}")]
    NotFound {
        /// The name looked up.
        host: String,
        /// What the resolver said.
        message: String,
    },
    /// Every address the name resolved to is refused by the policy.
    #[error("{host} resolves only to blocked addresses: {blocked}")]
    Blocked {
        /// The name looked up.
        host: String,
        /// The first refused address and its range.
        blocked: Blocked,
    },
}

/// The dispatcher's reqwest resolver: a [`Lookup`] filtered by a [`Policy`].
#[derive(Clone)]
pub struct PolicyResolver {
    lookup: Arc<dyn Lookup>,
    policy: Arc<Policy>,
}

impl PolicyResolver {
    /// A resolver that asks `lookup` and keeps only what `policy` allows.
    pub fn new(lookup: Arc<dyn Lookup>, policy: Arc<Policy>) -> PolicyResolver {
        PolicyResolver { lookup, policy }
    }

    /// Resolves `host` to the addresses a connection may use.
    pub async fn resolve_allowed(&self, host: String) -> Result<Vec<IpAddr>, ResolveError> {
        let answer =
            self.lookup
                .lookup(host.clone())
                .await
                .map_err(|e| ResolveError::NotFound {
                    host: host.clone(),
                    message: e.to_string(),
                })?;
        if answer.is_empty() {
            return Err(ResolveError::NotFound {
                host,
                message: "no addresses".into(),
            });
        }
        let mut first_blocked = None;
        let mut allowed = Vec::with_capacity(answer.len());
        for ip in answer {
            match self.policy.check(ip) {
                Ok(()) => allowed.push(ip),
                Err(blocked) => {
                    tracing::debug!(%host, %ip, range = blocked.range, "dropped a blocked address");
                    first_blocked.get_or_insert(blocked);
                }
            }
        }
        match (allowed.is_empty(), first_blocked) {
            (true, Some(blocked)) => Err(ResolveError::Blocked { host, blocked }),
            _ => Ok(allowed),
        }
    }
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let ips = this.resolve_allowed(host).await?;
            // Port 0 is replaced by the URL's port (or the scheme's default).
            let addrs: Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    struct Fixed(Vec<IpAddr>);

    impl Lookup for Fixed {
        fn lookup(&self, _host: String) -> LookupFuture {
            let ips = self.0.clone();
            Box::pin(async move { Ok(ips) })
        }
    }

    fn resolver(ips: &[&str], allowed: &[&str]) -> PolicyResolver {
        let ips = ips.iter().map(|s| s.parse().unwrap()).collect();
        let allowed = allowed.iter().map(|s| s.parse().unwrap()).collect();
        PolicyResolver::new(Arc::new(Fixed(ips)), Arc::new(Policy::new(allowed)))
    }

    #[tokio::test]
    async fn blocked_answers_are_refused_with_the_range() {
        for (ip, range) in [
            ("10.1.2.3", "private (10.0.0.0/8)"),
            ("169.254.169.254", "link-local (169.254.0.0/16)"),
            (
                "100.100.100.200",
                "CGNAT shared address space (100.64.0.0/10)",
            ),
            ("fd00::1", "unique-local (fc00::/7)"),
            (
                "::ffff:192.168.0.1",
                "IPv4-mapped private (::ffff:192.168.0.0/112)",
            ),
        ] {
            let err = resolver(&[ip], &[])
                .resolve_allowed("internal.test".into())
                .await
                .unwrap_err();
            match &err {
                ResolveError::Blocked { host, blocked } => {
                    assert_eq!(host, "internal.test");
                    assert_eq!(blocked.ip.to_string(), ip);
                    assert_eq!(blocked.range, range);
                }
                other => panic!("{ip}: {other:?}"),
            }
            assert!(err.to_string().contains(ip), "{err}");
        }
    }

    #[tokio::test]
    async fn blocked_addresses_are_dropped_from_mixed_answers() {
        let ips = resolver(&["10.0.0.1", "93.184.216.34", "::1"], &[])
            .resolve_allowed("mixed.test".into())
            .await
            .unwrap();
        assert_eq!(ips, vec!["93.184.216.34".parse::<IpAddr>().unwrap()]);
    }

    #[tokio::test]
    async fn the_allow_list_lets_addresses_through() {
        let ips = resolver(&["127.0.0.1", "::1"], &["127.0.0.0/8"])
            .resolve_allowed("localhost".into())
            .await
            .unwrap();
        assert_eq!(ips, vec!["127.0.0.1".parse::<IpAddr>().unwrap()]);
    }

    #[tokio::test]
    async fn empty_answers_are_not_found() {
        let err = resolver(&[], &[])
            .resolve_allowed("nothing.test".into())
            .await
            .unwrap_err();
        assert!(matches!(err, ResolveError::NotFound { .. }), "{err:?}");
    }
}
