//! Header validation and the forced `Content-Type`.

use crate::error::{RenderError, Result};

/// Validates configured headers and appends `Content-Type: application/json`,
/// dropping any configured Content-Type.
pub(crate) fn render(configured: &[(String, String)]) -> Result<Vec<(String, String)>> {
    let mut out = Vec::with_capacity(configured.len() + 1);
    for (name, value) in configured {
        let header_err = |message: String| RenderError::Header {
            name: name.clone(),
            message,
        };
        http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| header_err("is not a valid header name".into()))?;
        if callhook_model::request::is_reserved_header(name) {
            return Err(header_err(
                "is set by the HTTP client and cannot be configured".into(),
            ));
        }
        http::HeaderValue::from_str(value).map_err(|_| {
            header_err(
                "the value must be visible ASCII without line breaks or control characters".into(),
            )
        })?;
        if name.eq_ignore_ascii_case("content-type") {
            continue;
        }
        out.push((name.clone(), value.clone()));
    }
    out.push(("Content-Type".into(), "application/json".into()));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn content_type_is_forced_and_last() {
        assert_eq!(
            render(&h(&[
                ("Authorization", "Bearer x"),
                ("content-type", "text/plain")
            ]))
            .unwrap(),
            h(&[
                ("Authorization", "Bearer x"),
                ("Content-Type", "application/json")
            ])
        );
        assert_eq!(
            render(&[]).unwrap(),
            h(&[("Content-Type", "application/json")])
        );
    }

    #[test]
    fn invalid_and_reserved_headers_are_typed_errors() {
        for (pairs, msg) in [
            (
                h(&[("Bad Name", "x")]),
                "headers.Bad Name: is not a valid header name",
            ),
            (h(&[("", "x")]), "headers.: is not a valid header name"),
            (
                h(&[("X-A", "line\r\nInjected: 1")]),
                "headers.X-A: the value must be visible ASCII without line breaks or control characters",
            ),
            (
                h(&[("Content-Length", "5")]),
                "headers.Content-Length: is set by the HTTP client and cannot be configured",
            ),
            (
                h(&[("Host", "internal")]),
                "headers.Host: is set by the HTTP client and cannot be configured",
            ),
        ] {
            assert_eq!(render(&pairs).unwrap_err().to_string(), msg);
        }
    }
}
