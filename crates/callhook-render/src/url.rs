//! URL placeholders: `{{key}}` from `call_trigger_data`, percent-encoded.
//!
//! A placeholder's path is looked up in `call_trigger_data` first; when it is not
//! found there and its first name is a template source (`{{call_info.call_log_id}}`),
//! it resolves as a template expression instead. Strings are substituted as they are,
//! other values as compact JSON, then percent-encoded as a URL component so a value
//! can never change the URL's structure. Unresolved placeholders, and those whose
//! value is null, are left as written.

use callhook_model::Job;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::{RenderError, Result};
use crate::expr::{Piece, Resolved, Source, split};

/// Everything but `A–Z a–z 0–9 - . _ ~` is escaped (RFC 3986 unreserved).
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Longest URL we send, after substitution.
pub(crate) const MAX_URL_LEN: usize = 8 * 1024;

fn lookup<'a>(job: &'a Job, expr: &crate::expr::Expr) -> Option<Resolved<'a>> {
    let from_trigger = job
        .call_trigger_data
        .as_ref()
        .and_then(|root| expr.resolve_in(root));
    let found = match from_trigger {
        Some(found) => Some(found),
        None if expr.source != Source::Unknown => expr.resolve(job),
        None => None,
    };
    found.filter(|v| !v.is_null())
}

/// Substitutes placeholders and checks the result is an absolute http(s) URL.
pub(crate) fn render(template: &str, job: &Job) -> Result<String> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut text = Vec::new();
    for piece in split(template) {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Expr(expr, original) => match lookup(job, &expr) {
                Some(value) => {
                    text.clear();
                    value.write_text(&mut text);
                    out.extend(utf8_percent_encode(
                        &String::from_utf8_lossy(&text),
                        COMPONENT,
                    ));
                }
                None => out.push_str(original),
            },
        }
    }
    check(&out)
}

fn check(candidate: &str) -> Result<String> {
    if candidate.len() > MAX_URL_LEN {
        return Err(RenderError::Url(format!(
            "the URL is {} bytes after substitution, more than the {MAX_URL_LEN} allowed",
            candidate.len()
        )));
    }
    let url = ::url::Url::parse(candidate.trim()).map_err(|e| {
        RenderError::Url(format!(
            "{:?} is not a valid absolute URL: {e}",
            callhook_model::redact::url(candidate)
        ))
    })?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(RenderError::Url(format!(
                "the scheme must be http or https, got {other:?}"
            )));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(RenderError::Url("the URL has no host".into()));
    }
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use callhook_model::Job;
    use serde_json::json;

    fn job(trigger: serde_json::Value) -> Job {
        Job::from_value(json!({
            "job_id": "j", "agent_id": "a",
            "call_info": {"call_log_id": "c-1", "call_status": "picked"},
            "call_trigger_data": trigger,
            "integrations": []
        }))
        .unwrap()
    }

    #[test]
    fn the_seed_example_substitutes_crm_id() {
        let j = job(json!({"crm_id": "lead_42"}));
        assert_eq!(
            render("https://api.example.com/leads/{{crm_id}}/calls", &j).unwrap(),
            "https://api.example.com/leads/lead_42/calls"
        );
    }

    #[test]
    fn values_are_percent_encoded_as_a_component() {
        let j = job(
            json!({"v": "a b/c?d", "u": "ü&=#%", "n": 42, "f": 1.5, "b": true,
                           "o": {"k": 1}, "meta": {"campaign_id": "june-renewals"}}),
        );
        assert_eq!(
            render("https://x.test/{{v}}?q={{u}}&n={{n}}&f={{f}}&b={{b}}", &j).unwrap(),
            "https://x.test/a%20b%2Fc%3Fd?q=%C3%BC%26%3D%23%25&n=42&f=1.5&b=true"
        );
        assert_eq!(
            render("https://x.test/{{o}}/{{ meta.campaign_id }}", &j).unwrap(),
            "https://x.test/%7B%22k%22%3A1%7D/june-renewals"
        );
    }

    #[test]
    fn unresolved_and_null_placeholders_are_left_as_is() {
        let j = job(json!({"nothing": null}));
        // The URL parser percent-encodes the braces it keeps in a path.
        assert_eq!(
            render("https://x.test/{{missing}}/{{nothing}}", &j).unwrap(),
            "https://x.test/%7B%7Bmissing%7D%7D/%7B%7Bnothing%7D%7D"
        );
        assert_eq!(
            render("https://x.test/?q={{missing}}", &j).unwrap(),
            "https://x.test/?q={{missing}}"
        );
    }

    #[test]
    fn template_sources_work_when_trigger_data_lacks_the_key() {
        let j = job(json!({}));
        assert_eq!(
            render("https://x.test/calls/{{call_info.call_log_id}}", &j).unwrap(),
            "https://x.test/calls/c-1"
        );
    }

    #[test]
    fn a_value_cannot_change_the_host() {
        let j = job(json!({"h": "evil.test/"}));
        let url = render("https://{{h}}x.test/", &j);
        // `evil.test%2Fx.test` is not a valid host: the value could not add a path.
        assert!(url.is_err(), "{url:?}");
    }

    #[test]
    fn bad_urls_are_typed_errors() {
        let j = job(json!({}));
        for (url, msg) in [
            (
                "ftp://x.test/",
                "url: the scheme must be http or https, got \"ftp\"",
            ),
            (
                "/relative",
                "url: \"/relative\" is not a valid absolute URL: relative URL without a base",
            ),
            (
                "https://user:pw@/",
                "url: \"https://user:[redacted]@/\" is not a valid absolute URL: empty host",
            ),
        ] {
            assert_eq!(render(url, &j).unwrap_err().to_string(), msg);
        }
        let long = format!("https://x.test/{}", "a".repeat(MAX_URL_LEN));
        assert!(
            render(&long, &j)
                .unwrap_err()
                .to_string()
                .contains("more than the 8192")
        );
    }

    #[test]
    fn ip_spellings_are_normalized() {
        let j = job(json!({}));
        assert_eq!(render("http://127.1/", &j).unwrap(), "http://127.0.0.1/");
        assert_eq!(
            render("http://2130706433/", &j).unwrap(),
            "http://127.0.0.1/"
        );
        assert_eq!(
            render("http://0x7f000001/", &j).unwrap(),
            "http://127.0.0.1/"
        );
    }
}
