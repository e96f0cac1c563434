//! The network policy: which target addresses a delivery may connect to.
//!
//! Webhook URLs come from customers, so a URL must not reach the worker's own
//! network: loopback, private and link-local ranges (the cloud metadata service at
//! 169.254.169.254), CGNAT, unique-local, multicast, documentation and reserved
//! ranges, and the IPv6 forms that embed such an IPv4 address. [`is_blocked`] is the
//! default list; [`Policy`] adds the operator's allow-list (`CALLHOOK_ALLOWED_TARGETS`).
//!
//! The check runs on the addresses actually connected to: on IP literals in the URL
//! (see `dispatcher`) and inside the DNS resolver (see `resolve`), whose answer is
//! the only one the connection uses, so DNS rebinding cannot slip an address past it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// IPv4 ranges refused by default: `(network, prefix length, description, the
/// description when reached through an IPv4-mapped IPv6 address)`.
///
/// Order matters only for the description reported (the first match wins).
const V4_BLOCKED: [(u32, u8, &str, &str); 16] = [
    (
        0xffff_ffff,
        32,
        "broadcast (255.255.255.255/32)",
        "IPv4-mapped broadcast (::ffff:255.255.255.255)",
    ),
    (
        0x0000_0000,
        8,
        "\"this network\" (0.0.0.0/8)",
        "IPv4-mapped \"this network\" (::ffff:0.0.0.0/104)",
    ),
    (
        0x0a00_0000,
        8,
        "private (10.0.0.0/8)",
        "IPv4-mapped private (::ffff:10.0.0.0/104)",
    ),
    (
        0x6440_0000,
        10,
        "CGNAT shared address space (100.64.0.0/10)",
        "IPv4-mapped CGNAT (::ffff:100.64.0.0/106)",
    ),
    (
        0x7f00_0000,
        8,
        "loopback (127.0.0.0/8)",
        "IPv4-mapped loopback (::ffff:127.0.0.0/104)",
    ),
    (
        0xa9fe_0000,
        16,
        "link-local (169.254.0.0/16)",
        "IPv4-mapped link-local (::ffff:169.254.0.0/112)",
    ),
    (
        0xac10_0000,
        12,
        "private (172.16.0.0/12)",
        "IPv4-mapped private (::ffff:172.16.0.0/108)",
    ),
    (
        0xc000_0000,
        24,
        "IETF protocol assignments (192.0.0.0/24)",
        "IPv4-mapped IETF protocol assignments (::ffff:192.0.0.0/120)",
    ),
    (
        0xc000_0200,
        24,
        "documentation (192.0.2.0/24)",
        "IPv4-mapped documentation (::ffff:192.0.2.0/120)",
    ),
    (
        0xc058_6300,
        24,
        "6to4 relay anycast (192.88.99.0/24)",
        "IPv4-mapped 6to4 relay anycast (::ffff:192.88.99.0/120)",
    ),
    (
        0xc0a8_0000,
        16,
        "private (192.168.0.0/16)",
        "IPv4-mapped private (::ffff:192.168.0.0/112)",
    ),
    (
        0xc612_0000,
        15,
        "benchmarking (198.18.0.0/15)",
        "IPv4-mapped benchmarking (::ffff:198.18.0.0/111)",
    ),
    (
        0xc633_6400,
        24,
        "documentation (198.51.100.0/24)",
        "IPv4-mapped documentation (::ffff:198.51.100.0/120)",
    ),
    (
        0xcb00_7100,
        24,
        "documentation (203.0.113.0/24)",
        "IPv4-mapped documentation (::ffff:203.0.113.0/120)",
    ),
    (
        0xe000_0000,
        4,
        "multicast (224.0.0.0/4)",
        "IPv4-mapped multicast (::ffff:224.0.0.0/100)",
    ),
    (
        0xf000_0000,
        4,
        "reserved (240.0.0.0/4)",
        "IPv4-mapped reserved (::ffff:240.0.0.0/100)",
    ),
];

/// IPv6 ranges refused by default, after the IPv4-embedding forms are handled.
const V6_BLOCKED: [(u128, u8, &str); 16] = [
    (0, 128, "unspecified (::/128)"),
    (1, 128, "loopback (::1/128)"),
    (0xffff << 48, 96, "IPv4-translated (::ffff:0:0:0/96)"),
    (0, 96, "IPv4-compatible, deprecated (::/96)"),
    (
        0x0064_ff9b_0001 << 80,
        48,
        "local-use NAT64 (64:ff9b:1::/48)",
    ),
    (0x0100 << 112, 64, "discard-only (100::/64)"),
    (0x2001 << 112, 32, "Teredo (2001::/32)"),
    (0x2001_0002 << 96, 48, "benchmarking (2001:2::/48)"),
    (0x2001_0010 << 96, 28, "ORCHID (2001:10::/28)"),
    (0x2001_0020 << 96, 28, "ORCHIDv2 (2001:20::/28)"),
    (0x2001_0db8 << 96, 32, "documentation (2001:db8::/32)"),
    (0x2002 << 112, 16, "6to4 (2002::/16)"),
    (0x3fff << 112, 20, "documentation (3fff::/20)"),
    (0xfc00 << 112, 7, "unique-local (fc00::/7)"),
    (0xfe80 << 112, 10, "link-local (fe80::/10)"),
    (0xff00 << 112, 8, "multicast (ff00::/8)"),
];

/// NAT64 well-known prefix `64:ff9b::/96`: the address names the embedded IPv4 one.
const NAT64: u128 = 0x0064_ff9b << 96;

fn in_v4(addr: u32, net: u32, prefix: u8) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    addr & mask == net & mask
}

fn in_v6(addr: u128, net: u128, prefix: u8) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    addr & mask == net & mask
}

/// The matching IPv4 range: `(description, description when IPv4-mapped)`.
fn v4_blocked(ip: Ipv4Addr) -> Option<(&'static str, &'static str)> {
    let addr = u32::from(ip);
    V4_BLOCKED
        .iter()
        .find(|(net, prefix, _, _)| in_v4(addr, *net, *prefix))
        .map(|(_, _, why, mapped)| (*why, *mapped))
}

fn v6_blocked(ip: Ipv6Addr) -> Option<&'static str> {
    let addr = u128::from(ip);
    // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach the embedded
    // IPv4 address, so they are judged by it.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_blocked(v4).map(|(_, mapped)| mapped);
    }
    if in_v6(addr, NAT64, 96) {
        // The low 32 bits are the IPv4 address; the cast keeps exactly them.
        let v4 = Ipv4Addr::from((addr & 0xffff_ffff) as u32);
        return v4_blocked(v4).map(|_| "NAT64 of a blocked IPv4 address (64:ff9b::/96)");
    }
    if let Some(why) = V6_BLOCKED
        .iter()
        .find(|(net, prefix, _)| in_v6(addr, *net, *prefix))
        .map(|(_, _, why)| *why)
    {
        return Some(why);
    }
    // Everything outside 2000::/3 is unassigned or special-purpose today.
    if !in_v6(addr, 0x2000 << 112, 3) {
        return Some("not global unicast (outside 2000::/3)");
    }
    None
}

/// Whether an address is refused by default, and if so the range it is in,
/// e.g. `Some("loopback (127.0.0.0/8)")`.
///
/// IPv4-mapped (`::ffff:127.0.0.1`) and NAT64 (`64:ff9b::a00:1`) addresses are
/// judged by the IPv4 address they embed; IPv4-compatible (`::a.b.c.d`), 6to4,
/// Teredo and every IPv6 address outside global unicast `2000::/3` are refused.
pub fn is_blocked(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_blocked(v4).map(|(why, _)| why),
        IpAddr::V6(v6) => v6_blocked(v6),
    }
}

/// A target refused by the policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{ip} is in a blocked range: {range}; add it to CALLHOOK_ALLOWED_TARGETS to allow it")]
pub struct Blocked {
    /// The refused address.
    pub ip: IpAddr,
    /// The range it is in.
    pub range: &'static str,
}

/// The default block list with the operator's exemptions.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Policy {
    allowed: Vec<IpNet>,
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("allowed", &self.allowed)
            .finish()
    }
}

impl Policy {
    /// A policy that exempts these networks from the default block list.
    pub fn new(allowed: Vec<IpNet>) -> Policy {
        Policy { allowed }
    }

    /// Whether a connection to `ip` is allowed.
    ///
    /// An allow-list entry also covers the IPv4-mapped form of its addresses, so
    /// `127.0.0.0/8` lets `::ffff:127.0.0.1` through too.
    pub fn check(&self, ip: IpAddr) -> Result<(), Blocked> {
        let canonical = ip.to_canonical();
        if self
            .allowed
            .iter()
            .any(|net| net.contains(&ip) || net.contains(&canonical))
        {
            return Ok(());
        }
        match is_blocked(ip) {
            Some(range) => Err(Blocked { ip, range }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn every_default_range_is_blocked() {
        for (addr, range) in [
            ("0.0.0.0", "\"this network\""),
            ("0.1.2.3", "\"this network\""),
            ("10.0.0.1", "private (10.0.0.0/8)"),
            ("10.255.255.255", "private (10.0.0.0/8)"),
            ("100.64.0.1", "CGNAT"),
            ("100.127.255.254", "CGNAT"),
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("169.254.169.254", "link-local"),
            ("172.16.0.1", "private (172.16.0.0/12)"),
            ("172.31.255.255", "private (172.16.0.0/12)"),
            ("192.0.0.170", "IETF protocol assignments"),
            ("192.0.2.1", "documentation (192.0.2.0/24)"),
            ("192.88.99.1", "6to4 relay"),
            ("192.168.1.1", "private (192.168.0.0/16)"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("198.51.100.7", "documentation (198.51.100.0/24)"),
            ("203.0.113.9", "documentation (203.0.113.0/24)"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.254", "reserved"),
            ("255.255.255.255", "broadcast"),
            ("::", "unspecified"),
            ("::1", "loopback (::1/128)"),
            ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
            (
                "::ffff:10.1.2.3",
                "IPv4-mapped private (::ffff:10.0.0.0/104)",
            ),
            ("::ffff:169.254.169.254", "IPv4-mapped link-local"),
            ("::ffff:0.0.0.0", "IPv4-mapped \"this network\""),
            ("::ffff:192.0.2.1", "IPv4-mapped documentation"),
            ("::ffff:0:10.0.0.1", "IPv4-translated"),
            ("::10.0.0.1", "IPv4-compatible"),
            ("::8.8.8.8", "IPv4-compatible"),
            ("64:ff9b::7f00:1", "NAT64"),
            ("64:ff9b::a9fe:a9fe", "NAT64"),
            ("64:ff9b:1::1", "local-use NAT64"),
            ("100::1", "discard-only"),
            ("2001::1", "Teredo"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
            ("2001:2::1", "benchmarking (2001:2::/48)"),
            ("2001:10::1", "ORCHID"),
            ("2001:20::1", "ORCHIDv2"),
            ("2001:db8::1", "documentation (2001:db8::/32)"),
            ("2002:7f00:1::1", "6to4 (2002::/16)"),
            ("2002:808:808::1", "6to4 (2002::/16)"),
            ("3fff::1", "documentation (3fff::/20)"),
            ("fc00::1", "unique-local"),
            ("fd12:3456::1", "unique-local"),
            ("fe80::1", "link-local (fe80::/10)"),
            ("fec0::1", "not global unicast"),
            ("ff02::1", "multicast (ff00::/8)"),
            ("5f00::1", "not global unicast"),
            ("4000::1", "not global unicast"),
        ] {
            let got = is_blocked(ip(addr));
            assert!(
                got.is_some_and(|g| g.contains(range)),
                "{addr}: expected {range:?}, got {got:?}"
            );
        }
    }

    #[test]
    fn public_addresses_pass() {
        for addr in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "2001:4860:4860::8888",
            "2001:1::1",
            "2003::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert_eq!(is_blocked(ip(addr)), None, "{addr}");
        }
    }

    #[test]
    fn allow_list_exempts_networks_and_their_mapped_forms() {
        let policy = Policy::new(vec!["127.0.0.0/8".parse().unwrap()]);
        assert_eq!(policy.check(ip("127.0.0.1")), Ok(()));
        assert_eq!(policy.check(ip("127.9.9.9")), Ok(()));
        assert_eq!(policy.check(ip("::ffff:127.0.0.1")), Ok(()));
        assert_eq!(policy.check(ip("8.8.8.8")), Ok(()));
        let err = policy.check(ip("10.0.0.1")).unwrap_err();
        assert_eq!(err.range, "private (10.0.0.0/8)");
        assert_eq!(
            err.to_string(),
            "10.0.0.1 is in a blocked range: private (10.0.0.0/8); \
             add it to CALLHOOK_ALLOWED_TARGETS to allow it"
        );
        // 127.0.0.0/8 does not cover ::1: IPv6 loopback needs its own entry.
        assert!(policy.check(ip("::1")).is_err());
        let v6 = Policy::new(vec!["::1/128".parse().unwrap()]);
        assert_eq!(v6.check(ip("::1")), Ok(()));
        assert!(v6.check(ip("127.0.0.1")).is_err());
    }

    #[test]
    fn empty_policy_blocks_the_defaults() {
        let policy = Policy::default();
        let err = policy.check(ip("169.254.169.254")).unwrap_err();
        assert_eq!(err.ip, ip("169.254.169.254"));
        assert_eq!(err.range, "link-local (169.254.0.0/16)");
        assert_eq!(policy.check(ip("1.1.1.1")), Ok(()));
    }
}
