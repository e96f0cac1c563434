//! Response bodies: read as a stream, kept up to a cap, recorded safely.
//!
//! [`CappedBody`] keeps at most `cap` bytes and notes whether more arrived; the
//! dispatcher stops reading at the first byte past the cap and drops the response,
//! which closes the connection instead of draining the rest (so memory stays at the
//! cap plus one chunk, whatever the receiver sends).
//!
//! [`encode`] turns the kept bytes into the record's text: the bytes as text when
//! they are UTF-8 — if truncation cut a multi-byte character in two, the partial
//! character is dropped — and otherwise base64 (standard alphabet, padded) with
//! `body_encoding: "base64"`.

use std::pin::Pin;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use callhook_model::{ErrorKind, ErrorRecord};
use tokio::time::Sleep;

use crate::classify::classify;

/// What `body_encoding` says for a base64-encoded body.
pub const BASE64: &str = "base64";

/// A response body kept up to a cap.
#[derive(Debug)]
pub struct CappedBody {
    kept: Vec<u8>,
    cap: usize,
    truncated: bool,
}

impl CappedBody {
    /// An empty body that will keep at most `cap` bytes. `expected` (the
    /// Content-Length, if any) only sizes the first allocation.
    pub fn new(cap: usize, expected: Option<u64>) -> CappedBody {
        let first = expected
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(8 * 1024)
            .min(cap)
            .min(64 * 1024);
        CappedBody {
            kept: Vec::with_capacity(first),
            cap,
            truncated: false,
        }
    }

    /// Adds a chunk; returns `false` once the body went past the cap and reading
    /// must stop.
    pub fn push(&mut self, chunk: &[u8]) -> bool {
        let room = self.cap - self.kept.len();
        if chunk.len() <= room {
            self.kept.extend_from_slice(chunk);
            true
        } else {
            self.kept.extend_from_slice(&chunk[..room]);
            self.truncated = true;
            false
        }
    }

    /// Whether bytes past the cap arrived.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// How many bytes are kept.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The record's `(body, body_encoding)`; see [`encode`].
    pub fn encode(&self) -> (String, Option<String>) {
        encode(&self.kept, self.truncated)
    }
}

/// The record's `(body, body_encoding)` for kept bytes: text when they are UTF-8,
/// base64 (`Some("base64")`) otherwise. When `truncated`, an incomplete character at
/// the very end is the cap's doing, not the receiver's: it is dropped and the rest
/// is still text.
pub fn encode(kept: &[u8], truncated: bool) -> (String, Option<String>) {
    match std::str::from_utf8(kept) {
        Ok(text) => (text.to_string(), None),
        // `error_len() == None` means the input ended inside a character.
        Err(e) if truncated && e.error_len().is_none() => {
            match std::str::from_utf8(&kept[..e.valid_up_to()]) {
                Ok(text) => (text.to_string(), None),
                Err(_) => (STANDARD.encode(kept), Some(BASE64.to_string())),
            }
        }
        Err(_) => (STANDARD.encode(kept), Some(BASE64.to_string())),
    }
}

/// Reads the body until its end, the cap, an error or `deadline` fires. Past the
/// cap it stops and drops the response, which closes the connection.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
    mut deadline: Pin<&mut Sleep>,
    target: &str,
) -> (CappedBody, Option<ErrorRecord>) {
    let mut body = CappedBody::new(cap, response.content_length());
    loop {
        let chunk = tokio::select! {
            biased;
            chunk = response.chunk() => chunk,
            () = &mut deadline => {
                let error = ErrorRecord {
                    kind: ErrorKind::Timeout,
                    message: "the body did not finish in time".into(),
                };
                return (body, Some(error));
            }
        };
        match chunk {
            Err(e) => return (body, Some(classify(&e, target, Duration::ZERO, true))),
            Ok(None) => return (body, None),
            Ok(Some(chunk)) => {
                if !body.push(&chunk) {
                    return (body, None);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keeps_up_to_the_cap_and_marks_truncation() {
        let mut body = CappedBody::new(10, None);
        assert!(body.push(b"hello"));
        assert!(body.push(b"world"));
        assert!(!body.truncated());
        assert_eq!(body.len(), 10);
        // Exactly at the cap is not truncated; one more byte is.
        assert!(!body.push(b"!"));
        assert!(body.truncated());
        assert_eq!(body.encode(), ("helloworld".to_string(), None));
    }

    #[test]
    fn a_big_chunk_is_cut_at_the_cap() {
        let mut body = CappedBody::new(4, Some(1 << 40));
        assert!(!body.push(b"abcdefgh"));
        assert_eq!(body.encode().0, "abcd");
        assert!(body.truncated());
    }

    #[test]
    fn zero_cap_keeps_nothing() {
        let mut body = CappedBody::new(0, None);
        assert!(body.push(b""));
        assert!(!body.push(b"x"));
        assert!(body.is_empty());
        assert!(body.truncated());
    }

    #[test]
    fn utf8_is_text_and_other_bytes_are_base64() {
        assert_eq!(
            encode("héllo ✓".as_bytes(), false),
            ("héllo ✓".into(), None)
        );
        assert_eq!(encode(b"", false), (String::new(), None));
        assert_eq!(
            encode(&[0xff, 0xfe, 0x00, 0x41], false),
            ("//4AQQ==".into(), Some("base64".into()))
        );
        // Invalid bytes in the middle stay base64 even when truncated.
        assert_eq!(
            encode(&[b'a', 0xff, b'b'], true),
            ("Yf9i".into(), Some("base64".into()))
        );
    }

    #[test]
    fn a_character_split_by_the_cap_is_dropped() {
        let text = "ab✓".as_bytes(); // ✓ is 3 bytes
        for cut in 3..text.len() {
            let mut body = CappedBody::new(cut, None);
            body.push(text);
            assert_eq!(body.encode(), ("ab".to_string(), None), "cut at {cut}");
        }
        // Not truncated: a dangling partial character is the receiver's, so base64.
        assert_eq!(encode(&text[..4], false).1.as_deref(), Some("base64"));
    }
}
