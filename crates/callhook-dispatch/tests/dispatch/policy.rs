//! The network policy through the dispatcher: literals in every spelling, names
//! through the resolver, the allow-list, and DNS pinning.
//!
//! Safety: non-loopback addresses are only ever sent to after the same test has
//! shown that the refusal path it relies on is wired, and each address is checked
//! to be blocked by the policy first, so a bug fails the test before any packet
//! could leave for such an address.

use callhook_dispatch::{DispatchConfig, Dispatcher, Policy, is_blocked};
use callhook_model::{ErrorKind, Outcome};

use crate::support::*;

const LOOPBACK_SPELLINGS: [&str; 9] = [
    "127.0.0.1",
    "localhost",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "0.0.0.0",
];

#[tokio::test]
async fn loopback_in_every_spelling_is_blocked_by_default() {
    let rx = Receiver::answering(200, "ok").await;
    let d = dispatcher(DispatchConfig {
        allowed_targets: vec![],
        ..config()
    });
    for host in LOOPBACK_SPELLINGS {
        let url = format!("http://{host}:{}/hook", rx.port());
        let attempt = d.send(&post(&url, "{}"), None).await;
        assert_eq!(attempt.outcome, Outcome::Failed, "{host}");
        let error = attempt.error.unwrap();
        assert_eq!(error.kind, ErrorKind::Blocked, "{host}: {}", error.message);
        let expected_ip = match host {
            "[::1]" => "::1",
            "[::ffff:127.0.0.1]" => "::ffff:127.0.0.1",
            "0.0.0.0" => "0.0.0.0",
            _ => "127.0.0.1",
        };
        assert!(
            error.message.contains(expected_ip) && error.message.contains("blocked range"),
            "{host}: {}",
            error.message
        );
        assert!(
            error.message.contains("loopback") || error.message.contains("this network"),
            "{host}: {}",
            error.message
        );
    }
    // Refused before connecting: the receiver never saw a connection.
    assert_eq!(rx.connection_count(), 0);
}

#[tokio::test]
async fn loopback_in_every_spelling_passes_with_the_allow_list() {
    let rx = Receiver::answering(200, "ok").await;
    let allowed = ["127.0.0.0/8", "::1/128", "0.0.0.0/32"];
    let d = dispatcher(DispatchConfig {
        allowed_targets: allowed.iter().map(|c| c.parse().unwrap()).collect(),
        ..config()
    });
    for host in LOOPBACK_SPELLINGS {
        let url = format!("http://{host}:{}/hook", rx.port());
        let attempt = d.send(&post(&url, "{}"), None).await;
        // Nothing listens on ::1 (and 0.0.0.0 may not reach 127.0.0.1): those may
        // fail to connect, but are never blocked.
        assert_ne!(
            attempt.error_kind(),
            Some(ErrorKind::Blocked),
            "{host}: {attempt:?}"
        );
        if !matches!(host, "[::1]" | "0.0.0.0") {
            assert_eq!(attempt.outcome, Outcome::Succeeded, "{host}: {attempt:?}");
        }
    }
    assert!(rx.requests().len() >= LOOPBACK_SPELLINGS.len() - 2);
}

#[tokio::test]
async fn names_are_checked_on_what_they_resolve_to_and_pinned_to_it() {
    let rx = Receiver::answering(200, "pinned").await;
    let blocked = [
        ("private10.test", "10.20.30.40"),
        ("private172.test", "172.16.5.4"),
        ("private192.test", "192.168.1.1"),
        ("metadata.test", "169.254.169.254"),
        ("cgnat.test", "100.64.1.1"),
        ("benchmark.test", "198.18.0.7"),
        ("doc.test", "203.0.113.5"),
        ("multicast.test", "224.0.0.251"),
        ("reserved.test", "240.1.2.3"),
        ("broadcast.test", "255.255.255.255"),
        ("unique-local.test", "fd00::1"),
        ("link-local6.test", "fe80::1"),
        ("mapped.test", "::ffff:10.0.0.1"),
        ("nat64.test", "64:ff9b::a9fe:a9fe"),
        ("sixtofour.test", "2002:a00:1::1"),
        ("teredo.test", "2001::1"),
        ("loopback.test", "127.0.0.1"),
    ];
    let mut pairs: Vec<(&str, &str)> = blocked.to_vec();
    pairs.push(("pinned.test", "127.0.0.1"));
    let stub = Stub::new(&pairs);
    let d = Dispatcher::with_lookup(
        DispatchConfig {
            allowed_targets: vec![],
            ..config()
        },
        stub.clone(),
    )
    .unwrap();
    let pinned = Dispatcher::with_lookup(config(), stub.clone()).unwrap();

    // 1. The stub is what the client resolves with, and the connection goes to the
    //    address it answered (the name does not exist anywhere else).
    let url = format!("http://pinned.test:{}/hook", rx.port());
    let attempt = pinned.send(&post(&url, "{}"), None).await;
    assert_eq!(attempt.outcome, Outcome::Succeeded, "{attempt:?}");
    assert_eq!(
        rx.requests()[0].headers["host"],
        format!("pinned.test:{}", rx.port())
    );
    // 2. The resolver refuses before connecting: loopback, with no allow-list.
    let attempt = d
        .send(
            &post(&format!("http://loopback.test:{}/", rx.port()), "{}"),
            None,
        )
        .await;
    assert_eq!(
        attempt.error_kind(),
        Some(ErrorKind::Blocked),
        "{attempt:?}"
    );
    assert_eq!(rx.connection_count(), 1);

    // 3. Every other range, refused the same way (a closed port besides).
    for (name, ip) in blocked {
        assert!(
            Policy::default().check(ip.parse().unwrap()).is_err(),
            "{ip} must be blocked before it is sent to"
        );
        let attempt = d
            .send(&post(&format!("http://{name}:9/x"), "{}"), None)
            .await;
        let error = attempt.error.unwrap();
        assert_eq!(error.kind, ErrorKind::Blocked, "{name}: {}", error.message);
        assert!(
            error.message.contains(name) && error.message.contains(ip),
            "{name}: {}",
            error.message
        );
    }
    assert!(
        stub.asked
            .lock()
            .unwrap()
            .contains(&"metadata.test".to_string())
    );
}

#[tokio::test]
async fn blocked_ip_literals_are_refused_before_connecting() {
    let rx = Receiver::answering(200, "ok").await;
    let d = dispatcher(DispatchConfig {
        allowed_targets: vec![],
        ..config()
    });
    // The literal check is wired: loopback is refused and nothing connects.
    let attempt = d.send(&post(&rx.url("/"), "{}"), None).await;
    assert_eq!(attempt.error_kind(), Some(ErrorKind::Blocked));
    assert_eq!(rx.connection_count(), 0);
    for (host, ip, range) in [
        ("169.254.169.254", "169.254.169.254", "link-local"),
        ("10.0.0.1", "10.0.0.1", "private (10.0.0.0/8)"),
        ("0xa9fea9fe", "169.254.169.254", "link-local"),
        ("[fd00::1]", "fd00::1", "unique-local"),
        (
            "[::ffff:10.0.0.1]",
            "::ffff:10.0.0.1",
            "IPv4-mapped private",
        ),
        (
            "[::ffff:a9fe:a9fe]",
            "::ffff:169.254.169.254",
            "IPv4-mapped link-local",
        ),
        ("[64:ff9b::a00:1]", "64:ff9b::a00:1", "NAT64"),
    ] {
        assert!(is_blocked(ip.parse().unwrap()).is_some(), "{ip}");
        let attempt = d
            .send(
                &post(&format!("http://{host}:9/latest/meta-data"), "{}"),
                None,
            )
            .await;
        let error = attempt.error.unwrap();
        assert_eq!(error.kind, ErrorKind::Blocked, "{host}: {}", error.message);
        assert!(
            error.message.contains(ip) && error.message.contains(range),
            "{host}: {}",
            error.message
        );
    }
}

#[tokio::test]
async fn a_name_with_some_blocked_addresses_uses_only_the_allowed_ones() {
    let rx = Receiver::answering(200, "ok").await;
    // ::1 is not on the allow-list (127.0.0.0/8) and nothing listens there: were
    // it kept, connections would try it first (it is answered first) and fail.
    let stub = Stub::new(&[("dual.test", "::1"), ("dual.test", "127.0.0.1")]);
    let d = Dispatcher::with_lookup(config(), stub).unwrap();
    for _ in 0..3 {
        let attempt = d
            .send(
                &post(&format!("http://dual.test:{}/", rx.port()), "{}"),
                None,
            )
            .await;
        assert_eq!(attempt.outcome, Outcome::Succeeded, "{attempt:?}");
    }
}
