//! The `http:` step form.

use super::check::{At, Checker};
use super::model::{Http, HttpBody};
use super::node::{Node, Value};

const HTTP_KEYS: &[&str] = &[
    "method",
    "url",
    "headers",
    "json",
    "body",
    "timeout",
    "expect_status",
];
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

impl Checker<'_> {
    /// `http: { method, url, headers, json | body, timeout, expect_status }`.
    pub(super) fn http(&mut self, node: &Node, at: At<'_>) -> Option<Http> {
        let hf = self.fields(node, HTTP_KEYS, at)?;
        let field = |name: &'static str| At {
            step: at.step,
            field: name,
        };
        let method = match hf.get("method") {
            None => Some("GET".to_owned()),
            Some(m) => self.string(m, field("http.method")).and_then(|m| {
                let upper = m.to_ascii_uppercase();
                if METHODS.contains(&upper.as_str()) {
                    Some(upper)
                } else {
                    self.problem(
                        node.pos,
                        field("http.method"),
                        format!("unknown method `{m}`"),
                    )
                    .hint = Some(format!("use one of {}", METHODS.join(", ")));
                    None
                }
            }),
        };
        let url = match hf.get("url") {
            Some(u) => self.string(u, field("http.url")).filter(|u| {
                let ok =
                    u.starts_with("http://") || u.starts_with("https://") || u.starts_with("{{");
                if !ok {
                    self.problem(
                        node.pos,
                        field("http.url"),
                        format!("`{u}` is not an http:// or https:// URL"),
                    );
                }
                ok
            }),
            None => {
                self.problem(node.pos, field("http"), "missing required key `url`");
                None
            }
        };
        let mut headers = Vec::new();
        if let Some(h) = hf.get("headers") {
            match &h.value {
                Value::Map(entries) => {
                    for (k, v) in entries {
                        match (k.scalar_text(), v.scalar_text()) {
                            (Some(k), Some(v)) => headers.push((k, v)),
                            _ => self.expected(v, field("http.headers"), "a header value"),
                        }
                    }
                }
                _ => self.expected(
                    h,
                    field("http.headers"),
                    "a mapping of header names to values",
                ),
            }
        }
        let body = match (hf.get("json"), hf.get("body")) {
            (Some(_), Some(b)) => {
                self.problem(b.pos, field("http.body"), "give `json` or `body`, not both");
                HttpBody::None
            }
            (Some(j), None) => HttpBody::Json(j.to_json()),
            (None, Some(b)) => self
                .string(b, field("http.body"))
                .map_or(HttpBody::None, HttpBody::Text),
            (None, None) => HttpBody::None,
        };
        let timeout = hf
            .get("timeout")
            .and_then(|t| self.duration(t, field("http.timeout")));
        let expect_status = hf.get("expect_status").and_then(|e| {
            let items: Vec<&Node> = match &e.value {
                Value::Seq(items) => items.iter().collect(),
                _ => vec![e],
            };
            let mut codes = Vec::new();
            for item in items {
                match item.value {
                    Value::Int(c) if (100..=599).contains(&c) => codes.push(c as u16),
                    _ => {
                        self.problem(
                            item.pos,
                            field("http.expect_status"),
                            "statuses are integers from 100 to 599",
                        );
                        return None;
                    }
                }
            }
            Some(codes)
        });
        Some(Http {
            method: method?,
            url: url?,
            headers,
            body,
            timeout,
            expect_status,
        })
    }
}
