//! Standard Webhooks signing (<https://www.standardwebhooks.com>).
//!
//! A signed request carries `webhook-id`, `webhook-timestamp` (unix seconds) and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. The id must
//! stay the same across retries of one job's integration so that receivers can
//! deduplicate: [`webhook_id`] derives it from the job and integration ids.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The header carrying the message id.
pub const WEBHOOK_ID: &str = "webhook-id";
/// The header carrying the signing time, unix seconds.
pub const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
/// The header carrying the signature.
pub const WEBHOOK_SIGNATURE: &str = "webhook-signature";

/// The signature of one message: `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`.
///
/// `body` is the exact bytes sent; requests without a body sign the empty string.
pub fn sign(key: &[u8], webhook_id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable_hmac(),
    };
    mac.update(webhook_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cold]
fn unreachable_hmac() -> ! {
    // `Hmac::new_from_slice` only errs for fixed-size-key MACs; HMAC takes any key.
    unreachable!("HMAC accepts keys of every length")
}

/// The `webhook-id` of one job's integration: `msg_` followed by 24 URL-safe base64
/// characters of SHA-256 over both ids. Deterministic, so a retry carries the id the
/// first attempt did; never contains spaces or commas.
pub fn webhook_id(job_id: &str, integration_id: &str) -> String {
    let mut hash = Sha256::new();
    // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
    hash.update((job_id.len() as u64).to_be_bytes());
    hash.update(job_id.as_bytes());
    hash.update(integration_id.as_bytes());
    let digest = hash.finalize();
    format!("msg_{}", URL_SAFE_NO_PAD.encode(&digest[..18]))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use callhook_model::SigningKey;

    #[test]
    fn spec_test_vector() {
        let key = SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                key.expose(),
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn standardwebhooks_crate_verifies_our_signatures() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let key = SigningKey::parse(secret).unwrap();
        let wh = standardwebhooks::Webhook::new(secret).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        for body in [&br#"{"a":1}"#[..], b""] {
            let id = webhook_id("job-1", "int_crm");
            let mut headers = http::HeaderMap::new();
            headers.insert(WEBHOOK_ID, id.parse().unwrap());
            headers.insert(WEBHOOK_TIMESTAMP, now.to_string().parse().unwrap());
            headers.insert(
                WEBHOOK_SIGNATURE,
                sign(key.expose(), &id, now, body).parse().unwrap(),
            );
            wh.verify(body, &headers).unwrap();
        }
    }

    #[test]
    fn webhook_ids_are_stable_distinct_and_header_safe() {
        let a = webhook_id("0b6f0d3e-2f7c-4a43-9d1b-3c8e1f0a9d21", "int_crm");
        assert_eq!(
            a,
            webhook_id("0b6f0d3e-2f7c-4a43-9d1b-3c8e1f0a9d21", "int_crm")
        );
        assert!(a.starts_with("msg_"));
        assert_eq!(a.len(), 4 + 24);
        assert!(
            a[4..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{a}"
        );
        assert_ne!(
            a,
            webhook_id("0b6f0d3e-2f7c-4a43-9d1b-3c8e1f0a9d21", "int_sheet")
        );
        assert_ne!(webhook_id("ab", "c"), webhook_id("a", "bc"));
        assert_ne!(webhook_id("", "x, y"), webhook_id("x, y", ""));
    }
}
