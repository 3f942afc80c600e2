//! `{{ context.a.b }}`, `{{ steps.NAME.results.x }}`, `{{ task.id }}`, `{{ env.X }}`.
//!
//! References are parsed when a template is validated (so a bad one is refused before
//! anything runs) and resolved when a step starts. Shell text is handled apart, by
//! [`super::shell`]: there a value never becomes shell text.

use serde_json::Value;

/// What a `{{ … }}` refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref {
    /// A path in the task context (empty: the whole context).
    Context(Vec<String>),
    /// A path in the results of step `name` (empty: the whole results).
    Step { name: String, path: Vec<String> },
    /// `task.id`, `task.uuid`, `task.name`, `task.namespace`, `task.version`.
    Task(String),
    /// An environment variable.
    Env(String),
}

/// A piece of a string: literal text or a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Ref(Ref),
}

const TASK_FIELDS: &[&str] = &["id", "uuid", "name", "namespace", "version"];

/// Split `text` into literal text and references.
pub fn parse(text: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Text(rest[..open].to_owned()));
        }
        let after = &rest[open + 2..];
        let close = after
            .find("}}")
            .ok_or_else(|| format!("unclosed `{{{{` in {text:?}"))?;
        pieces.push(Piece::Ref(parse_ref(after[..close].trim())?));
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_owned()));
    }
    Ok(pieces)
}

/// The references in `text`.
pub fn refs(text: &str) -> Result<Vec<Ref>, String> {
    Ok(parse(text)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Ref(r) => Some(r),
            Piece::Text(_) => None,
        })
        .collect())
}

/// Split a dotted path, where a segment may be written `["with.dots"]` or `[0]`.
fn segments(expr: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = expr.chars().peekable();
    let mut cur = String::new();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if cur.is_empty() && out.is_empty() {
                    return Err(format!("empty name in `{expr}`"));
                }
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            '[' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                let quote = chars.next_if(|q| *q == '"' || *q == '\'');
                let mut inner = String::new();
                loop {
                    match chars.next() {
                        Some(q) if Some(q) == quote && chars.peek() == Some(&']') => {
                            chars.next();
                            break;
                        }
                        Some(']') if quote.is_none() => break,
                        Some(ch) => inner.push(ch),
                        None => return Err(format!("unclosed `[` in `{expr}`")),
                    }
                }
                out.push(inner);
            }
            c if c.is_whitespace() => return Err(format!("unexpected space in `{expr}`")),
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    if out.is_empty() {
        return Err("empty reference `{{ }}`".into());
    }
    Ok(out)
}

fn parse_ref(expr: &str) -> Result<Ref, String> {
    let mut segs = segments(expr)?.into_iter();
    let root = segs.next().unwrap_or_default();
    let rest: Vec<String> = segs.collect();
    match root.as_str() {
        "context" => Ok(Ref::Context(rest)),
        "steps" => {
            let mut it = rest.into_iter();
            let name = it
                .next()
                .ok_or_else(|| format!("`{expr}`: name a step, as in `steps.NAME.results`"))?;
            match it.next().as_deref() {
                Some("results") => Ok(Ref::Step {
                    name,
                    path: it.collect(),
                }),
                _ => Err(format!(
                    "`{expr}`: a step is read through its results, as in `steps.{name}.results`"
                )),
            }
        }
        "task" => match rest.as_slice() {
            [field] if TASK_FIELDS.contains(&field.as_str()) => Ok(Ref::Task(field.clone())),
            _ => Err(format!(
                "`{expr}`: the task fields are {}",
                TASK_FIELDS
                    .iter()
                    .map(|f| format!("`task.{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        },
        "env" => match rest.as_slice() {
            [name] => Ok(Ref::Env(name.clone())),
            _ => Err(format!("`{expr}`: write `env.NAME`")),
        },
        other => Err(format!(
            "unknown reference `{other}` in `{{{{ {expr} }}}}`: use `context.`, `steps.NAME.results`, `task.` or `env.`"
        )),
    }
}

/// Resolves references when a step starts.
pub trait Scope {
    /// The value, or `None` when it does not exist.
    fn lookup(&self, r: &Ref) -> Option<Value>;
}

/// Follow `path` into `value` (object keys, array indices).
pub fn walk<'v>(value: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, seg| match v {
        Value::Object(map) => map.get(seg),
        Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// `{{ env.NAME }}`: the step's own `env` (later entries winning), then tasker's environment.
pub fn env_value(env: &[(String, String)], name: &str) -> Option<Value> {
    env.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var(name).ok())
        .map(Value::String)
}

/// A value as text: strings as they are, anything else as compact JSON.
pub fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Describe a reference the way it was written.
pub fn describe(r: &Ref) -> String {
    match r {
        Ref::Context(p) if p.is_empty() => "context".into(),
        Ref::Context(p) => format!("context.{}", p.join(".")),
        Ref::Step { name, path } if path.is_empty() => format!("steps.{name}.results"),
        Ref::Step { name, path } => format!("steps.{name}.results.{}", path.join(".")),
        Ref::Task(f) => format!("task.{f}"),
        Ref::Env(n) => format!("env.{n}"),
    }
}

/// The value of `r`, or a message saying it has none.
pub fn resolve(r: &Ref, scope: &dyn Scope) -> Result<Value, String> {
    scope
        .lookup(r)
        .ok_or_else(|| format!("`{{{{ {} }}}}` has no value", describe(r)))
}

/// Interpolate `text`, each reference's value given to `put` to insert.
pub fn render_with(
    text: &str,
    scope: &dyn Scope,
    put: &mut dyn FnMut(&mut String, &Ref, Value) -> Result<(), String>,
) -> Result<String, String> {
    if !text.contains("{{") {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    for piece in parse(text)? {
        match piece {
            Piece::Text(t) => out.push_str(&t),
            Piece::Ref(r) => {
                let v = resolve(&r, scope)?;
                put(&mut out, &r, v)?;
            }
        }
    }
    Ok(out)
}

/// Interpolate `text`, values as they are (never for shell text: see [`super::shell`]).
pub fn render(text: &str, scope: &dyn Scope) -> Result<String, String> {
    render_with(text, scope, &mut |out, _, v| {
        out.push_str(&text_of(&v));
        Ok(())
    })
}

/// Interpolate a URL. A reference that starts it (a base URL) is inserted as it is; one in
/// the host or port must hold nothing that moves the request to another host (`@`, `/`,
/// `?`, `#`); one in the path, query or fragment is percent-encoded, so a value is always
/// one piece of data (`a/../b?x` stays inside its path segment).
pub fn render_url(text: &str, scope: &dyn Scope) -> Result<String, String> {
    render_with(text, scope, &mut |out, r, v| {
        put_url_value(out, r, &text_of(&v))
    })
}

/// Add the value of `r` to the URL written so far, as [`render_url`] does.
pub fn put_url_value(out: &mut String, r: &Ref, v: &str) -> Result<(), String> {
    let past_host = out
        .find("://")
        .is_some_and(|i| out[i + 3..].contains(['/', '?', '#']));
    if !past_host {
        // In the host or port, a value may not move the request elsewhere: no user
        // part, no path, no query or fragment, no space.
        if !out.is_empty() && v.contains(['@', '/', '\\', '?', '#', ' ', '\t', '\n', '\r']) {
            return Err(format!(
                "`{{{{ {} }}}}` would change the URL's host: its value holds `@`, `/`, `\\`, `?`, `#` or a space, which a host or port cannot",
                describe(r)
            ));
        }
        out.push_str(v);
        return Ok(());
    }
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(())
}

/// Interpolate every string in a JSON value. A string that is exactly one reference takes
/// the referenced value with its type (`"{{ context.id }}"` → `42`).
pub fn render_json(value: &Value, scope: &dyn Scope) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) if s.contains("{{") => {
            let pieces = parse(s)?;
            match pieces.as_slice() {
                [Piece::Ref(r)] => resolve(r, scope)?,
                _ => Value::String(render(s, scope)?),
            }
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_json(v, scope))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), render_json(v, scope)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// Every string inside a JSON value, for validation.
pub fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Fixed(Value);

    impl Scope for Fixed {
        fn lookup(&self, r: &Ref) -> Option<Value> {
            match r {
                Ref::Context(p) => walk(&self.0, p).cloned(),
                Ref::Task(f) if f == "id" => Some(json!(7)),
                _ => None,
            }
        }
    }

    #[test]
    fn parses_every_kind() {
        assert_eq!(
            refs(
                "a {{ context.order.id }} {{steps.charge.results.id}} {{ task.id }} {{ env.HOME }}"
            ),
            Ok(vec![
                Ref::Context(vec!["order".into(), "id".into()]),
                Ref::Step {
                    name: "charge".into(),
                    path: vec!["id".into()]
                },
                Ref::Task("id".into()),
                Ref::Env("HOME".into()),
            ])
        );
        assert_eq!(
            refs(r#"{{ steps["odd name"].results.items[0] }}"#),
            Ok(vec![Ref::Step {
                name: "odd name".into(),
                path: vec!["items".into(), "0".into()]
            }])
        );
    }

    #[test]
    fn rejects_what_cannot_resolve() {
        for bad in [
            "{{ context.a",
            "{{ }}",
            "{{ ctx.a }}",
            "{{ task.owner }}",
            "{{ steps.a }}",
            "{{ steps.a.output }}",
            "{{ env }}",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_are_inserted_as_they_are() {
        let scope = Fixed(json!({"x": "$(touch pwned)"}));
        assert_eq!(
            render("a {{ context.x }}", &scope),
            Ok("a $(touch pwned)".into())
        );
        assert_eq!(render("n={{ task.id }}", &scope), Ok("n=7".into()));
        assert!(
            render("{{ context.missing }}", &scope)
                .unwrap_err()
                .contains("has no value")
        );
    }

    #[test]
    fn urls_keep_values_in_their_place() {
        let scope = Fixed(
            json!({"id": "a/../b?x=1#f", "port": "443@evil.example/#", "host": "api.example.test:8080", "base": "http://h:1/v1"}),
        );
        assert_eq!(
            render_url(
                "https://h/orders/{{ context.id }}?q={{ context.id }}",
                &scope
            ),
            Ok("https://h/orders/a%2F..%2Fb%3Fx%3D1%23f?q=a%2F..%2Fb%3Fx%3D1%23f".into())
        );
        assert_eq!(
            render_url("{{ context.base }}/x", &scope),
            Ok("http://h:1/v1/x".into())
        );
        assert_eq!(
            render_url("https://{{ context.host }}/x", &scope),
            Ok("https://api.example.test:8080/x".into())
        );
        for url in [
            "https://api.example.com:{{ context.port }}/v1",
            "https://{{ context.port }}.api.example.com/v1",
        ] {
            assert!(
                render_url(url, &scope)
                    .unwrap_err()
                    .contains("would change the URL's host"),
                "{url}"
            );
        }
    }

    #[test]
    fn json_keeps_types_for_whole_references() {
        let scope = Fixed(json!({"id": 42, "name": "x"}));
        let out = render_json(
            &json!({"id": "{{ context.id }}", "label": "n-{{ context.name }}", "list": ["{{ context.id }}"]}),
            &scope,
        );
        assert_eq!(out, Ok(json!({"id": 42, "label": "n-x", "list": [42]})));
    }
}
