//! Outcome rules: which responses succeed, and the error kind of everything else.

use std::time::{Duration, Instant};

use callhook_dispatch::DispatchConfig;
use callhook_model::{ErrorKind, Outcome};
use tokio::io::AsyncWriteExt;

use crate::support::*;

#[tokio::test]
async fn any_2xx_succeeds() {
    let d = dispatcher(config());
    for status in [200, 204, 299] {
        let rx = Receiver::answering(status, if status == 204 { "" } else { "ok" }).await;
        let attempt = d.send(&post(&rx.url("/hook"), r#"{"a":1}"#), None).await;
        assert_eq!(attempt.outcome, Outcome::Succeeded, "{status}: {attempt:?}");
        assert_eq!(attempt.error, None);
        let response = attempt.response.unwrap();
        assert_eq!(response.status, status);
        assert_eq!(response.body, if status == 204 { "" } else { "ok" });
        assert!(!response.body_truncated);
        assert_eq!(rx.requests().len(), 1);
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let d = dispatcher(config());
    for status in [301, 302, 308] {
        let rx = Receiver::start(move |_| async move {
            let mut r = text(status, "moved");
            r.headers_mut()
                .insert("location", "/elsewhere?token=abc".parse().unwrap());
            r
        })
        .await;
        let attempt = d.send(&post(&rx.url("/hook"), "{}"), None).await;
        assert_eq!(attempt.outcome, Outcome::Failed);
        let error = attempt.error.unwrap();
        assert_eq!(error.kind, ErrorKind::Status, "{status}");
        assert!(
            error.message.contains(&status.to_string())
                && error.message.contains("redirects are not followed")
                && error.message.contains("/elsewhere?token=[redacted]"),
            "{}",
            error.message
        );
        assert_eq!(attempt.response.unwrap().body, "moved");
        // Only the original request arrived: the Location was not visited.
        let paths: Vec<_> = rx
            .requests()
            .iter()
            .map(|r| r.uri.path().to_string())
            .collect();
        assert_eq!(paths, ["/hook"]);
    }
}

#[tokio::test]
async fn client_and_server_errors_fail_with_status_and_body() {
    let d = dispatcher(config());
    for status in [400, 404, 410, 500] {
        let rx =
            Receiver::start(move |_| async move { text(status, format!("error {status}")) }).await;
        let attempt = d.send(&post(&rx.url("/"), "{}"), None).await;
        assert_eq!(attempt.outcome, Outcome::Failed);
        let error = attempt.error.unwrap();
        assert_eq!(error.kind, ErrorKind::Status);
        assert!(
            error.message.starts_with(&format!("status {status}")),
            "{}",
            error.message
        );
        let response = attempt.response.unwrap();
        assert_eq!(response.status, status);
        assert_eq!(response.body, format!("error {status}"));
    }
}

#[tokio::test]
async fn a_server_slower_than_the_timeout_times_out() {
    let rx = Receiver::start(|_| async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        text(200, "too late")
    })
    .await;
    let d = dispatcher(DispatchConfig {
        timeout: Duration::from_millis(300),
        ..config()
    });
    let t = Instant::now();
    let attempt = d.send(&post(&rx.url("/"), "{}"), None).await;
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let error = attempt.error.unwrap();
    assert_eq!(error.kind, ErrorKind::Timeout);
    assert!(error.message.contains("no response"), "{}", error.message);
    assert!(attempt.response.is_none());
    assert!(attempt.duration >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_body_dripping_past_the_timeout_is_too_slow() {
    let rx = Receiver::start(|_| async {
        let (tx, body) = channel_body();
        tokio::spawn(async move {
            for _ in 0..200 {
                if tx.send("x".into()).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        streamed(200, body)
    })
    .await;
    let d = dispatcher(DispatchConfig {
        timeout: Duration::from_millis(500),
        ..config()
    });
    let t = Instant::now();
    let attempt = d.send(&post(&rx.url("/"), "{}"), None).await;
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(attempt.outcome, Outcome::Failed);
    let error = attempt.error.unwrap();
    assert_eq!(error.kind, ErrorKind::ResponseTooSlow, "{}", error.message);
    assert!(error.message.contains("status 200"), "{}", error.message);
    let response = attempt.response.unwrap();
    assert_eq!(response.status, 200);
    assert!(!response.body.is_empty() && response.body.chars().all(|c| c == 'x'));
}

#[tokio::test]
async fn connection_refused_is_connect() {
    // Bind and drop to get a port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let d = dispatcher(config());
    let attempt = d
        .send(&post(&format!("http://127.0.0.1:{port}/"), "{}"), None)
        .await;
    let error = attempt.error.unwrap();
    assert_eq!(error.kind, ErrorKind::Connect, "{}", error.message);
    assert!(
        error.message.contains(&format!("127.0.0.1:{port}")),
        "{}",
        error.message
    );
    assert!(attempt.response.is_none());
}

#[tokio::test]
async fn a_reset_mid_response_is_protocol() {
    let addr = raw_server(|mut stream| async move {
        read_head(&mut stream).await;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial")
            .await;
        let _ = stream.flush().await;
        let _ = stream.set_zero_linger();
        drop(stream); // RST
    })
    .await;
    let d = dispatcher(config());
    let attempt = d.send(&post(&format!("http://{addr}/"), "{}"), None).await;
    assert_eq!(attempt.outcome, Outcome::Failed);
    let error = attempt.error.unwrap();
    assert_eq!(error.kind, ErrorKind::Protocol, "{}", error.message);
    let response = attempt.response.unwrap();
    assert_eq!(response.status, 200);
}

#[tokio::test]
async fn a_reset_before_the_response_is_protocol() {
    let addr = raw_server(|mut stream| async move {
        read_head(&mut stream).await;
        let _ = stream.set_zero_linger();
        drop(stream);
    })
    .await;
    let d = dispatcher(config());
    let attempt = d.send(&post(&format!("http://{addr}/"), "{}"), None).await;
    let error = attempt.error.unwrap();
    assert_eq!(error.kind, ErrorKind::Protocol, "{}", error.message);
    assert!(attempt.response.is_none());
}

#[tokio::test]
async fn garbage_instead_of_http_is_protocol() {
    let addr = raw_server(|mut stream| async move {
        read_head(&mut stream).await;
        let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").await;
        let _ = stream.shutdown().await;
    })
    .await;
    let d = dispatcher(config());
    let attempt = d.send(&post(&format!("http://{addr}/"), "{}"), None).await;
    let error = attempt.error.unwrap();
    assert_eq!(error.kind, ErrorKind::Protocol, "{}", error.message);
    assert!(error.message.contains("invalid HTTP"), "{}", error.message);
}

#[tokio::test]
async fn a_name_that_does_not_resolve_is_dns() {
    // A stub resolver answering like getaddrinfo for a name under `.invalid`: the
    // system resolver would ask this machine's (non-loopback) DNS server.
    let d = callhook_dispatch::Dispatcher::with_lookup(config(), Stub::new(&[])).unwrap();
    let attempt = d
        .send(&post("http://no-such-host.invalid/hook", "{}"), None)
        .await;
    let error = attempt.error.unwrap();
    assert_eq!(error.kind, ErrorKind::Dns, "{}", error.message);
    assert!(
        error.message.contains("no-such-host.invalid"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("Name or service not known"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn a_connect_that_never_completes_times_out() {
    // A listener that never accepts, with its backlog of one already used: the
    // kernel drops further SYNs, as a black-holed host would.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let _filler = tokio::net::TcpStream::connect(addr).await.unwrap();
    let d = dispatcher(DispatchConfig {
        connect_timeout: Duration::from_millis(300),
        timeout: Duration::from_secs(3),
        ..config()
    });
    let t = Instant::now();
    let attempt = d.send(&post(&format!("http://{addr}/"), "{}"), None).await;
    let error = attempt.error.unwrap();
    assert_eq!(error.kind, ErrorKind::Timeout, "{}", error.message);
    assert!(
        error.message.contains("connecting to") && error.message.contains("300 ms"),
        "{}",
        error.message
    );
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    drop(listener);
}
