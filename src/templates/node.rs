//! A YAML document as a tree whose every node knows its line and column.
//!
//! Templates are read into this tree first, and the tree is then checked by hand, so that
//! every problem in a file is reported at once with its position — serde's derive stops at
//! the first unknown key.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A position in the source file (1-based; 0 when unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u64,
    pub column: u64,
}

/// One YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

/// The value of a YAML node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The name of this node's kind, for "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar rendered as text (numbers and booleans too), for keys and `env` values.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(format!("{f:?}")),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The node as plain JSON (positions dropped), for free-form fields such as `handler_config`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.scalar_text().unwrap_or_default(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

impl Node {
    /// A tree from plain JSON (no positions), for values read from other formats.
    pub fn from_json(value: &serde_json::Value) -> Node {
        use serde_json::Value as J;
        let value = match value {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => n
                .as_i64()
                .map_or_else(|| Value::Float(n.as_f64().unwrap_or(0.0)), Value::Int),
            J::String(s) => Value::Str(s.clone()),
            J::Array(items) => Value::Seq(items.iter().map(Node::from_json).collect()),
            J::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| {
                        (
                            Node {
                                pos: Pos::default(),
                                value: Value::Str(k.clone()),
                            },
                            Node::from_json(v),
                        )
                    })
                    .collect(),
            ),
        };
        Node {
            pos: Pos::default(),
            value,
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        Ok(Node {
            pos: Pos {
                line: spanned.referenced.line(),
                column: spanned.referenced.column(),
            },
            value: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<Node, Node>()? {
            if !matches!(
                k.value,
                Value::Str(_) | Value::Int(_) | Value::Bool(_) | Value::Float(_)
            ) {
                return Err(de::Error::custom(format!(
                    "mapping keys must be scalars, found {} at line {}",
                    k.kind(),
                    k.pos.line
                )));
            }
            entries.push((k, v));
        }
        Ok(Value::Map(entries))
    }
}

/// Parse YAML text into a positioned tree. Booleans are YAML 1.2's `true`/`false` only,
/// so `NO` stays a string; duplicate keys are an error. The line reader builds the tree of
/// the block style templates are written in; the quick reader, of other documents whose
/// meaning it can be sure of; the full reader does otherwise.
pub fn parse(text: &str) -> Result<Node, String> {
    if let Some(node) = super::lines::read(text) {
        return Ok(node);
    }
    match super::quick::read(text) {
        Some(node) => Ok(node),
        None => parse_fully(text),
    }
}

/// [`parse`] by the full reader alone (serde-saphyr): what the quick reader must agree with.
pub fn parse_fully(text: &str) -> Result<Node, String> {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    // The default budget (250,000 nodes) stops at about 25,000 steps; templates of 100,000
    // steps and more are real. Alias expansion keeps its default limits.
    let mut budget = options.budget.clone().unwrap_or_default();
    budget.max_nodes = 20_000_000;
    budget.max_events = 50_000_000;
    options.budget = Some(budget);
    serde_saphyr::from_str_with_options::<Node>(text, options).map_err(|e| plain(&e.to_string()))
}

/// The reader's message in tasker's words: no advice about the library's own options.
fn plain(message: &str) -> String {
    if let Some(at) = message.find("budget breached") {
        let what = if message[at..].contains("Anchor") || message[at..].contains("Alias") {
            "its aliases expand to more values than tasker reads (over a million uses of \
             anchors): a template never needs that many"
        } else if message[at..].contains("Depth") {
            let place = message[..at].trim_end_matches([' ', ':']);
            return format!(
                "{place}: the document nests lists and mappings deeper than tasker reads \
                 (64 levels): a template never needs that many"
            );
        } else {
            "it holds more than tasker reads in one template (20 million values)"
        };
        let place = message[..at].trim_end_matches([' ', ':']);
        return format!("{place}: the document is too big to read: {what}");
    }
    message
        .replace(
            "recursion limit exceeded",
            "the document nests lists and mappings deeper than tasker reads (64 levels): a template never needs that many",
        )
        .replace(", set DuplicateKeyPolicy in Options if acceptable", "")
        .replace(
            "multiple YAML documents detected; use from_str_multiple or from_str_multiple_with_options",
            "more than one YAML document: a template is a single document (remove the `---` line)",
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_kept_for_nested_nodes() {
        let node = parse("a: 1\nb:\n  - x\n  - c: NO\n").expect("valid yaml");
        let Value::Map(entries) = &node.value else {
            panic!("not a map")
        };
        assert_eq!(entries[1].0.pos.line, 2);
        let Value::Seq(items) = &entries[1].1.value else {
            panic!("not a seq")
        };
        assert_eq!(items[1].pos.line, 4);
        let Value::Map(inner) = &items[1].value else {
            panic!("not a map")
        };
        assert_eq!(inner[0].1.value, Value::Str("NO".into()));
    }

    #[test]
    fn syntax_errors_mention_the_line() {
        let err = parse("a: [1, 2\nb: 3\n").expect_err("invalid yaml");
        assert!(err.contains("line"), "{err}");
    }
}
