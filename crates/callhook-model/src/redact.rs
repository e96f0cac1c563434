//! Which request parts carry secrets, and how records and logs show them.
//!
//! A header is secret when its name is `Authorization`, `Proxy-Authorization`,
//! `Cookie` or `Set-Cookie`, or contains `token`, `secret`, `key`, `auth`,
//! `password`, `session` or `signature` (ignoring case). In URLs, a password in the
//! userinfo and the value of any query parameter whose name looks secret by the same
//! rule are redacted.

/// What a redacted value is shown as.
pub const REDACTED: &str = "[redacted]";

const SECRET_NAMES: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];
const SECRET_WORDS: [&str; 7] = [
    "token",
    "secret",
    "key",
    "auth",
    "password",
    "session",
    "signature",
];

/// Whether a header (or query parameter) of this name carries a secret.
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_NAMES.contains(&lower.as_str()) || SECRET_WORDS.iter().any(|w| lower.contains(w))
}

/// The value to record for a header.
pub fn header_value<'a>(name: &str, value: &'a str) -> &'a str {
    if is_secret_name(name) {
        REDACTED
    } else {
        value
    }
}

/// A URL with its userinfo password and secret-looking query values redacted.
///
/// Works on the text so it never fails: the input need not be a valid URL.
pub fn url(url: &str) -> String {
    let (before_fragment, fragment) = match url.find('#') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let (base, query) = match before_fragment.find('?') {
        Some(i) => (&before_fragment[..i], Some(&before_fragment[i + 1..])),
        None => (before_fragment, None),
    };
    let mut out = String::with_capacity(url.len());
    out.push_str(&redact_userinfo(base));
    if let Some(query) = query {
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((name, _)) if is_secret_name(name) => {
                    out.push_str(name);
                    out.push('=');
                    out.push_str(REDACTED);
                }
                _ => out.push_str(pair),
            }
        }
    }
    out.push_str(fragment);
    out
}

fn redact_userinfo(base: &str) -> String {
    let Some(scheme_end) = base.find("://") else {
        return base.to_string();
    };
    let authority_start = scheme_end + 3;
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let authority = &base[authority_start..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let password = if userinfo.contains(':') {
                format!(":{REDACTED}")
            } else {
                String::new()
            };
            format!(
                "{}{user}{password}{}{}",
                &base[..authority_start],
                &authority[at..],
                &base[authority_end..]
            )
        }
        None => base.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_header_names() {
        for name in [
            "Authorization",
            "proxy-authorization",
            "Cookie",
            "X-Api-Key",
            "X-Auth-Token",
            "client_secret",
            "X-PASSWORD",
            "x-session-id",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["Content-Type", "Accept", "X-Request-Id", "User-Agent"] {
            assert!(!is_secret_name(name), "{name}");
        }
        assert_eq!(header_value("Authorization", "Bearer x"), REDACTED);
        assert_eq!(header_value("Accept", "*/*"), "*/*");
    }

    #[test]
    fn urls_lose_passwords_and_secret_query_values() {
        assert_eq!(
            url("https://user:pw@example.com/a?token=abc&page=2&api_key=k#frag"),
            "https://user:[redacted]@example.com/a?token=[redacted]&page=2&api_key=[redacted]#frag"
        );
        assert_eq!(
            url("https://example.com/a?x=1"),
            "https://example.com/a?x=1"
        );
        assert_eq!(url("https://u@example.com/"), "https://u@example.com/");
        assert_eq!(url("not a url"), "not a url");
    }
}
