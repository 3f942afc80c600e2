//! The event type: a catalog kind (or a custom name), its task, and its fields.
//!
//! The engine emits each event exactly once, after the change it describes is committed, and
//! persists it in the same transaction with a per-task sequence number.

use serde_json::{Map, Value, json};

use super::catalog::{CATALOG, Category, Kind};
use crate::model::State;

/// An event's name: one of the catalog's, or a custom event a template declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Name {
    Known(Kind),
    Custom(String),
}

/// Where an event sits in the task's trace: the span it belongs to and its ancestors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TraceRef {
    pub trace_id: u128,
    /// The span of this run of the task.
    pub task_span: u64,
    /// The parent of the task span (an outer trace's span, or the first run's root).
    pub task_parent: Option<u64>,
    pub step_span: Option<u64>,
    pub attempt_span: Option<u64>,
}

impl TraceRef {
    /// The W3C `traceparent` naming `span`.
    pub fn traceparent(&self, span: u64) -> String {
        format!("00-{:032x}-{span:016x}-01", self.trace_id)
    }
}

/// One event: its name, task, time, and the fields that apply to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The per-task sequence number (set when the event is recorded).
    pub seq: u64,
    pub name: Name,
    pub task_id: i64,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    pub fields: Map<String, Value>,
    /// Telemetry's view; not part of the JSON form.
    pub trace: Option<TraceRef>,
}

impl Event {
    pub fn new(kind: Kind, task_id: i64) -> Event {
        Event {
            seq: 0,
            name: Name::Known(kind),
            task_id,
            timestamp: crate::clock::now_ms(),
            fields: Map::new(),
            trace: None,
        }
    }

    /// A declared custom event.
    pub fn custom(name: &str, task_id: i64) -> Event {
        Event {
            name: Name::Custom(name.to_owned()),
            ..Event::new(Kind::TaskStartRequested, task_id)
        }
    }

    /// Set a field.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Event {
        self.fields.insert(key.to_owned(), value.into());
        self
    }

    pub fn step(self, name: &str, attempt: u32) -> Event {
        self.with("step_name", name).with("attempt", attempt)
    }

    pub fn states(self, from: State, to: State) -> Event {
        self.with("from_state", from.as_str())
            .with("to_state", to.as_str())
    }

    pub fn kind(&self) -> Option<Kind> {
        match self.name {
            Name::Known(k) => Some(k),
            Name::Custom(_) => None,
        }
    }

    pub fn name(&self) -> &str {
        match &self.name {
            Name::Known(k) => k.name(),
            Name::Custom(n) => n,
        }
    }

    pub fn category(&self) -> Category {
        match self.name {
            Name::Known(k) => k.category(),
            Name::Custom(_) => Category::Custom,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }

    pub fn u64(&self, key: &str) -> Option<u64> {
        self.fields.get(key).and_then(Value::as_u64)
    }

    /// An event read back from its JSON form (the event log).
    pub fn from_json(doc: &Value) -> Option<Event> {
        let Value::Object(map) = doc else { return None };
        let name = map.get("name")?.as_str()?;
        let kind = CATALOG.iter().find(|s| s.name == name).map(|s| s.kind);
        let timestamp = map
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map_or(0, |t| t.timestamp_millis());
        let fields = map
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "seq" | "name" | "task_id" | "timestamp"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Some(Event {
            seq: map.get("seq")?.as_u64()?,
            name: kind.map_or_else(|| Name::Custom(name.to_owned()), Name::Known),
            task_id: map.get("task_id")?.as_i64()?,
            timestamp,
            fields,
            trace: None,
        })
    }

    /// The JSON form: `{"seq", "name", "task_id", "timestamp", …fields}`.
    pub fn to_json(&self) -> Value {
        let mut doc = Map::with_capacity(self.fields.len() + 4);
        doc.insert("seq".into(), json!(self.seq));
        doc.insert("name".into(), json!(self.name()));
        doc.insert("task_id".into(), json!(self.task_id));
        doc.insert(
            "timestamp".into(),
            json!(crate::clock::rfc3339(self.timestamp)),
        );
        for (k, v) in &self.fields {
            doc.insert(k.clone(), v.clone());
        }
        Value::Object(doc)
    }
}
