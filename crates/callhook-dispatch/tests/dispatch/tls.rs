//! TLS: a self-signed receiver is a `tls` failure; one whose CA is trusted
//! succeeds, over HTTP/2 when the receiver offers it.

use std::sync::Arc;

use callhook_dispatch::DispatchConfig;
use callhook_model::{ErrorKind, Outcome};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

struct Pki {
    ca_der: Vec<u8>,
    acceptor: tokio_rustls::TlsAcceptor,
}

/// A CA and a leaf for `localhost` / `127.0.0.1` signed by it, served with ALPN
/// h2 and http/1.1.
fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Pki {
        ca_der: ca_cert.der().to_vec(),
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    }
}

async fn tls_receiver(pki: &Pki) -> Receiver {
    Receiver::start_with(Arc::default(), Some(pki.acceptor.clone()), |_| async {
        text(200, "secure")
    })
    .await
}

#[tokio::test]
async fn an_untrusted_certificate_is_tls() {
    let pki = pki();
    let rx = tls_receiver(&pki).await;
    let d = dispatcher(config());
    let url = format!("https://127.0.0.1:{}/hook", rx.port());
    let attempt = d.send(&post(&url, "{}"), None).await;
    assert_eq!(attempt.outcome, Outcome::Failed);
    let error = attempt.error.unwrap();
    assert_eq!(error.kind, ErrorKind::Tls, "{}", error.message);
    assert!(error.message.contains("certificate"), "{}", error.message);
    assert!(rx.requests().is_empty());
}

#[tokio::test]
async fn a_trusted_private_ca_succeeds_over_http2() {
    let pki = pki();
    let rx = tls_receiver(&pki).await;
    let d = dispatcher(DispatchConfig {
        extra_root_certificates: vec![pki.ca_der.clone()],
        ..config()
    });
    for host in ["127.0.0.1", "localhost"] {
        let url = format!("https://{host}:{}/hook", rx.port());
        let attempt = d.send(&post(&url, r#"{"a":1}"#), None).await;
        assert_eq!(
            attempt.outcome,
            Outcome::Succeeded,
            "{host}: {:?}",
            attempt.error
        );
        assert_eq!(attempt.response.unwrap().body, "secure");
    }
    let got = rx.requests();
    assert!(
        got.iter().all(|r| r.version == hyper::Version::HTTP_2),
        "{got:?}"
    );
    assert_eq!(&got[0].body[..], br#"{"a":1}"#);
}

#[tokio::test]
async fn plain_http_answering_a_client_hello_is_tls() {
    let addr = raw_server(|mut stream| async move {
        let mut hello = [0u8; 1024];
        let _ = stream.read(&mut hello).await;
        let _ = stream
            .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .await;
        let _ = stream.shutdown().await;
    })
    .await;
    let d = dispatcher(config());
    let attempt = d.send(&post(&format!("https://{addr}/"), "{}"), None).await;
    let error = attempt.error.unwrap();
    assert_eq!(error.kind, ErrorKind::Tls, "{}", error.message);
}
