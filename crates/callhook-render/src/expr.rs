//! `{{expression}}` placeholders: finding them in text, parsing, and resolving them
//! against a job's data.

use callhook_model::{CallInfo, Job};
use serde_json::Value;

/// Where an expression's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `call_info.<field>` (or the whole Call Info object).
    CallInfo,
    /// `call_summary`.
    CallSummary,
    /// `data_capture.<label>`.
    DataCapture,
    /// `structured_output[.path]`.
    StructuredOutput,
    /// `call_trigger_data[.path]`.
    CallTriggerData,
    /// A name that is none of the above: never resolves.
    Unknown,
}

impl Source {
    fn parse(name: &str) -> Source {
        match name {
            "call_info" => Source::CallInfo,
            "call_summary" => Source::CallSummary,
            "data_capture" => Source::DataCapture,
            "structured_output" => Source::StructuredOutput,
            "call_trigger_data" => Source::CallTriggerData,
            _ => Source::Unknown,
        }
    }
}

/// One step of a path: an object key, which is also an array index when numeric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    key: Box<str>,
    index: Option<usize>,
}

impl Segment {
    fn new(key: &str) -> Segment {
        let index = if key.bytes().all(|b| b.is_ascii_digit()) {
            key.parse().ok()
        } else {
            None
        };
        Segment {
            key: key.into(),
            index,
        }
    }
}

/// A parsed expression: a source and a path into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    /// The first name of the expression.
    pub source: Source,
    /// The source's name as written.
    pub head: Box<str>,
    /// The rest of the path.
    pub path: Vec<Segment>,
}

/// Whether `s` is an identifier: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_ident(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl Expr {
    /// Parses the text between the braces. `None` when it is not an expression,
    /// in which case the placeholder is kept as literal text.
    pub fn parse(inner: &str) -> Option<Expr> {
        let inner = inner.trim();
        let mut parts = inner.split('.');
        let head = parts.next()?;
        if !is_ident(head) {
            return None;
        }
        let mut path = Vec::new();
        for part in parts {
            if part.is_empty() || part.contains(['{', '}']) {
                return None;
            }
            path.push(Segment::new(part));
        }
        Some(Expr {
            source: Source::parse(head),
            head: head.into(),
            path,
        })
    }

    /// The expression as text, for messages.
    pub fn display(&self) -> String {
        let mut s = self.head.to_string();
        for seg in &self.path {
            s.push('.');
            s.push_str(&seg.key);
        }
        s
    }

    /// Resolves against a job. `None` when the value is absent.
    pub fn resolve<'a>(&self, job: &'a Job) -> Option<Resolved<'a>> {
        match self.source {
            Source::CallInfo => match self.path.as_slice() {
                [] => Some(Resolved::CallInfo(&job.call_info)),
                [field] => job.call_info.field(&field.key).map(Resolved::Str),
                _ => None,
            },
            Source::CallSummary => match self.path.as_slice() {
                [] => job.call_summary.as_deref().map(Resolved::Str),
                _ => None,
            },
            Source::DataCapture => walk(job.data_capture.as_ref()?, &self.path),
            Source::StructuredOutput => walk(job.structured_output.as_ref()?, &self.path),
            Source::CallTriggerData => walk(job.call_trigger_data.as_ref()?, &self.path),
            Source::Unknown => None,
        }
    }

    /// Resolves the whole expression (head included) as a path into `root`, the way
    /// URL placeholders address `call_trigger_data`.
    pub fn resolve_in<'a>(&self, root: &'a Value) -> Option<Resolved<'a>> {
        let mut path = Vec::with_capacity(self.path.len() + 1);
        path.push(Segment::new(&self.head));
        path.extend(self.path.iter().cloned());
        walk(root, &path)
    }
}

/// A resolved value, borrowed from the job.
#[derive(Debug, Clone, Copy)]
pub enum Resolved<'a> {
    /// A plain string (Call Info fields, the summary).
    Str(&'a str),
    /// A JSON value from the data sections.
    Value(&'a Value),
    /// The whole Call Info object.
    CallInfo(&'a CallInfo),
}

impl Resolved<'_> {
    /// Whether the value is JSON null.
    pub fn is_null(&self) -> bool {
        matches!(self, Resolved::Value(Value::Null))
    }

    /// Appends the value as JSON.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Resolved::Str(s) => crate::json::string_into(out, s),
            Resolved::Value(v) => crate::json::value_into(out, v),
            Resolved::CallInfo(ci) => {
                out.push(b'{');
                let mut first = true;
                for (name, value) in ci.fields() {
                    let Some(value) = value else { continue };
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    crate::json::string_into(out, name);
                    out.push(b':');
                    crate::json::string_into(out, value);
                }
                out.push(b'}');
            }
        }
    }

    /// The value as text: strings as they are, anything else as compact JSON.
    pub(crate) fn write_text(&self, out: &mut Vec<u8>) {
        match self {
            Resolved::Str(s) => out.extend_from_slice(s.as_bytes()),
            Resolved::Value(Value::String(s)) => out.extend_from_slice(s.as_bytes()),
            other => other.write_json(out),
        }
    }
}

fn walk<'a>(root: &'a Value, path: &[Segment]) -> Option<Resolved<'a>> {
    let mut current = root;
    let mut i = 0;
    while i < path.len() {
        match current {
            Value::Object(map) => {
                if let Some(next) = map.get(&*path[i].key) {
                    current = next;
                    i += 1;
                } else {
                    // A key with dots in it: try the longest run of segments first.
                    let (next, used) = (i + 2..=path.len()).rev().find_map(|end| {
                        let joined = path[i..end]
                            .iter()
                            .map(|s| &*s.key)
                            .collect::<Vec<_>>()
                            .join(".");
                        map.get(&joined).map(|v| (v, end))
                    })?;
                    current = next;
                    i = used;
                }
            }
            Value::Array(items) => {
                current = items.get(path[i].index?)?;
                i += 1;
            }
            _ => return None,
        }
    }
    Some(Resolved::Value(current))
}

/// A piece of text split at placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece<'t> {
    /// Literal text.
    Text(&'t str),
    /// A placeholder, with its full original text (`{{ x }}`) for leaving it as-is.
    Expr(Expr, &'t str),
}

/// Splits `text` into literal text and well-formed placeholders. Malformed ones stay
/// in the text.
pub(crate) fn split(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut literal_start = 0;
    let mut search = 0;
    while let Some(open) = text[search..].find("{{").map(|i| search + i) {
        let Some(close) = text[open + 2..].find("}}").map(|i| open + 2 + i) else {
            break;
        };
        match Expr::parse(&text[open + 2..close]) {
            Some(expr) => {
                if open > literal_start {
                    pieces.push(Piece::Text(&text[literal_start..open]));
                }
                pieces.push(Piece::Expr(expr, &text[open..close + 2]));
                literal_start = close + 2;
                search = close + 2;
            }
            // Not an expression: keep the braces literal and look again one byte on,
            // so `{{{x}}}` still finds `{{x}}`.
            None => search = open + 1,
        }
    }
    if literal_start < text.len() || pieces.is_empty() {
        pieces.push(Piece::Text(&text[literal_start..]));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_sources_paths_and_whitespace() {
        let e = Expr::parse("  structured_output.appointment.date ").unwrap();
        assert_eq!(e.source, Source::StructuredOutput);
        assert_eq!(e.display(), "structured_output.appointment.date");
        assert_eq!(Expr::parse("foo.bar").unwrap().source, Source::Unknown);
        assert_eq!(
            Expr::parse("data_capture.first name").unwrap().path.len(),
            1
        );
        for bad in [
            "",
            "  ",
            "1abc",
            "a..b",
            "a.",
            ".a",
            "not an expression!",
            "{x",
        ] {
            assert_eq!(Expr::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn split_keeps_malformed_braces_literal() {
        let texts = |s| {
            split(s)
                .into_iter()
                .map(|p| match p {
                    Piece::Text(t) => format!("T({t})"),
                    Piece::Expr(e, _) => format!("E({})", e.display()),
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(texts("a {{ x }} b"), ["T(a )", "E(x)", "T( b)"]);
        assert_eq!(texts("{{ unclosed"), ["T({{ unclosed)"]);
        assert_eq!(texts("}} {{}} {{ ! }}"), ["T(}} {{}} {{ ! }})"]);
        assert_eq!(texts("{{{x}}}"), ["T({)", "E(x)", "T(})"]);
        assert_eq!(texts("{{a}}{{b}}"), ["E(a)", "E(b)"]);
        assert_eq!(texts(""), ["T()"]);
    }
}
