//! Custom Template bodies: compiled once into a plan, rendered per job.
//!
//! Compiling walks the template once and turns it into a list of operations: runs
//! of pre-serialized JSON (everything without placeholders, keys included) and the
//! expressions between them. Rendering appends the runs and writes each expression's
//! value, so a render is one pass over a flat list with no parsing and no
//! intermediate `Value`.

use callhook_model::Job;
use serde_json::Value;

use crate::expr::{Expr, Piece, Source, split};
use crate::json;

#[derive(Debug, Clone)]
enum Op {
    /// `statics[start..end]`, copied as is.
    Static { start: usize, end: usize },
    /// A string that is exactly one expression: the value with its raw type.
    Whole(Expr),
    /// An expression inside a longer string: the value as escaped text.
    Embedded(Expr),
}

/// A compiled Custom Template.
#[derive(Debug, Clone)]
pub struct Template {
    statics: Vec<u8>,
    ops: Vec<Op>,
    warnings: Vec<String>,
}

/// One step of the path to a template node, kept unformatted until a warning needs it.
#[derive(Clone, Copy)]
enum At<'v> {
    Key(&'v str),
    Index(usize),
}

fn describe(path: &[At<'_>]) -> String {
    let mut s = String::from("template");
    for step in path {
        match step {
            At::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            At::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

struct Compiler {
    statics: Vec<u8>,
    ops: Vec<Op>,
    /// Where the pending static run began in `statics`.
    run_start: usize,
    warnings: Vec<String>,
}

impl Compiler {
    fn flush(&mut self) {
        if self.statics.len() > self.run_start {
            self.ops.push(Op::Static {
                start: self.run_start,
                end: self.statics.len(),
            });
        }
        self.run_start = self.statics.len();
    }

    fn expr(&mut self, op: Op) {
        self.flush();
        self.ops.push(op);
    }

    fn check(&mut self, expr: &Expr, path: &[At<'_>]) {
        if expr.source == Source::Unknown {
            self.warnings.push(format!(
                "{}: unknown source {:?} in {{{{{}}}}}: it renders as null (sources: call_info, call_summary, data_capture, structured_output, call_trigger_data)",
                describe(path),
                &*expr.head,
                expr.display()
            ));
        }
    }

    fn value<'v>(&mut self, v: &'v Value, path: &mut Vec<At<'v>>) {
        match v {
            Value::String(s) => self.string(s, path),
            Value::Array(items) => {
                self.statics.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.statics.push(b',');
                    }
                    path.push(At::Index(i));
                    self.value(item, path);
                    path.pop();
                }
                self.statics.push(b']');
            }
            Value::Object(map) => {
                self.statics.push(b'{');
                for (i, (key, item)) in map.iter().enumerate() {
                    if i > 0 {
                        self.statics.push(b',');
                    }
                    if key.contains("{{") && split(key).iter().any(|p| matches!(p, Piece::Expr(..)))
                    {
                        self.warnings.push(format!(
                            "{}: the key {key:?} holds a placeholder; keys are not substituted",
                            describe(path)
                        ));
                    }
                    json::string_into(&mut self.statics, key);
                    self.statics.push(b':');
                    path.push(At::Key(key));
                    self.value(item, path);
                    path.pop();
                }
                self.statics.push(b'}');
            }
            scalar => json::value_into(&mut self.statics, scalar),
        }
    }

    fn string(&mut self, s: &str, path: &[At<'_>]) {
        if !s.contains("{{") {
            json::string_into(&mut self.statics, s);
            return;
        }
        let pieces = split(s);
        if let [Piece::Expr(expr, _)] = pieces.as_slice() {
            self.check(expr, path);
            self.expr(Op::Whole(expr.clone()));
            return;
        }
        self.statics.push(b'"');
        for piece in pieces {
            match piece {
                Piece::Text(t) => json::escape_into(&mut self.statics, t),
                Piece::Expr(expr, _) => {
                    self.check(&expr, path);
                    self.expr(Op::Embedded(expr));
                }
            }
        }
        self.statics.push(b'"');
    }
}

impl Template {
    /// Compiles a template. Never fails: text that is not a well-formed placeholder
    /// stays literal (see the crate docs).
    pub fn compile(template: &Value) -> Template {
        let mut c = Compiler {
            statics: Vec::with_capacity(256),
            ops: Vec::new(),
            run_start: 0,
            warnings: Vec::new(),
        };
        c.value(template, &mut Vec::new());
        c.flush();
        Template {
            statics: c.statics,
            ops: c.ops,
            warnings: c.warnings,
        }
    }

    /// Things in the template that are probably mistakes (unknown sources,
    /// placeholders in keys), each with where it is.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Renders the body for a job into a fresh buffer.
    pub fn render(&self, job: &Job) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.statics.len() + 64);
        self.render_into(job, &mut out);
        out
    }

    /// Appends the body for a job to `out`.
    pub fn render_into(&self, job: &Job, out: &mut Vec<u8>) {
        for op in &self.ops {
            match op {
                Op::Static { start, end } => out.extend_from_slice(&self.statics[*start..*end]),
                Op::Whole(expr) => match expr.resolve(job) {
                    Some(v) => v.write_json(out),
                    None => out.extend_from_slice(b"null"),
                },
                Op::Embedded(expr) => match expr.resolve(job) {
                    Some(crate::expr::Resolved::Str(s)) => json::escape_into(out, s),
                    Some(crate::expr::Resolved::Value(Value::String(s))) => {
                        json::escape_into(out, s)
                    }
                    Some(v) => {
                        let mut text = Vec::new();
                        v.write_json(&mut text);
                        // Compact JSON from serde_json is valid UTF-8.
                        json::escape_into(out, &String::from_utf8_lossy(&text));
                    }
                    None => out.extend_from_slice(b"null"),
                },
            }
        }
    }
}
