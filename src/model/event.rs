//! The event type: what happened, as a typed payload per catalog kind (or a declared
//! custom event), with its task, sequence number and time.
//!
//! The engine emits each event exactly once, after the change it describes is committed, and
//! persists it in the same transaction with a per-task sequence number. JSON is the form at
//! the edges (the event log, `--events-out`, hooks): [`Event::to_json`] writes it, and
//! [`Event::from_json`] reads it back; in between, readers match on [`What`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::catalog::{CATALOG, Category, Kind};
use super::{FailureClass, State};

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

    /// The span of step `step_id` in this run: any process that knows the run's span
    /// names it alike, so a step's attempts run by several workers share one.
    pub fn step_span_of(&self, step_id: i64) -> u64 {
        mix(&[self.task_span, step_id as u64, 0x5354_4550])
    }

    /// The span of attempt `attempt` of step `step_id`: named alike by the worker that
    /// runs it (its process's `TRACEPARENT`) and by whoever exports the task's spans.
    pub fn attempt_span_of(&self, step_id: i64, attempt: u32) -> u64 {
        mix(&[
            self.trace_id as u64,
            (self.trace_id >> 64) as u64,
            step_id as u64,
            u64::from(attempt),
        ])
    }

    /// This run's place for event `e`, read back from the log: its step's and attempt's
    /// spans when it is about a step `step_id` knows the id of, else the run's.
    pub fn placing(&self, e: &Event, step_id: impl Fn(&str) -> Option<i64>) -> TraceRef {
        match e
            .step()
            .and_then(|(name, attempt)| Some((step_id(name)?, attempt)))
        {
            Some((id, attempt)) => self.for_step(id, attempt),
            None => *self,
        }
    }

    /// This run's place for an event about step `step_id`'s attempt `attempt`.
    pub fn for_step(&self, step_id: i64, attempt: u32) -> TraceRef {
        TraceRef {
            step_span: Some(self.step_span_of(step_id)),
            attempt_span: (attempt > 0).then(|| self.attempt_span_of(step_id, attempt)),
            ..*self
        }
    }
}

/// A span id from `parts` (SplitMix64 over them; never zero), the same on every machine.
fn mix(parts: &[u64]) -> u64 {
    let mut h: u64 = 0x7461_736b_6572_0001;
    for &p in parts {
        h ^= p;
        h = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = h;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        h = z ^ (z >> 31);
    }
    h.max(1)
}

/// Why nothing can start (`workflow.no_viable_steps`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Waiting {
    /// Steps wait out a backoff.
    WaitingForRetry,
    /// Failed or cancelled steps block the rest.
    Blocked,
}

/// What an event says: one variant per catalog kind, its fields in the catalog's order, and
/// the custom events a template declares. The JSON form is `{"name", …fields}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name")]
pub enum What {
    #[serde(rename = "task.initialize_requested")]
    TaskInitializeRequested {
        task_name: String,
        namespace: String,
        version: String,
        step_count: u64,
        context: Value,
    },
    #[serde(rename = "task.start_requested")]
    TaskStartRequested { from_state: State, to_state: State },
    #[serde(rename = "task.completed")]
    TaskCompleted {
        from_state: State,
        to_state: State,
        duration_ms: u64,
    },
    #[serde(rename = "task.failed")]
    TaskFailed {
        from_state: State,
        to_state: State,
        duration_ms: u64,
        failed_steps: Vec<String>,
    },
    #[serde(rename = "task.retry_requested")]
    TaskRetryRequested {
        from_state: State,
        to_state: State,
        actor: String,
        reason: String,
        steps: Vec<String>,
    },
    /// By the run (with how long it ran), or by `tasker cancel` on a task no runner holds.
    #[serde(rename = "task.cancelled")]
    TaskCancelled {
        from_state: State,
        to_state: State,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        duration_ms: Option<u64>,
        actor: String,
        reason: String,
    },
    #[serde(rename = "task.resolved_manually")]
    TaskResolvedManually {
        from_state: State,
        to_state: State,
        actor: String,
        reason: String,
    },
    #[serde(rename = "step.initialize_requested")]
    StepInitializeRequested { step_name: String },
    #[serde(rename = "step.execution_requested")]
    StepExecutionRequested {
        step_name: String,
        attempt: u32,
        from_state: State,
        to_state: State,
        queue_wait_ms: u64,
    },
    #[serde(rename = "step.before_handle")]
    StepBeforeHandle {
        step_name: String,
        attempt: u32,
        handler: String,
    },
    #[serde(rename = "step.completed")]
    StepCompleted {
        step_name: String,
        attempt: u32,
        from_state: State,
        to_state: State,
        duration_ms: u64,
        exit_code: Option<i32>,
    },
    #[serde(rename = "step.failed")]
    StepFailed {
        step_name: String,
        attempt: u32,
        from_state: State,
        to_state: State,
        duration_ms: u64,
        error_class: FailureClass,
        error_message: String,
        /// Another attempt follows.
        retryable: bool,
        exit_code: Option<i32>,
    },
    /// By the run (`reason`: `retry`, or `interrupted`), or by `tasker retry` (no reason).
    #[serde(rename = "step.retry_requested")]
    StepRetryRequested {
        step_name: String,
        attempt: u32,
        from_state: State,
        to_state: State,
        actor: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    #[serde(rename = "step.cancelled")]
    StepCancelled {
        step_name: String,
        attempt: u32,
        from_state: State,
        to_state: State,
        actor: String,
        reason: String,
    },
    #[serde(rename = "step.resolved_manually")]
    StepResolvedManually {
        step_name: String,
        from_state: State,
        to_state: State,
        actor: String,
        reason: String,
    },
    #[serde(rename = "workflow.task_started")]
    WorkflowTaskStarted { step_count: u64, ready_steps: u64 },
    #[serde(rename = "workflow.viable_steps_discovered")]
    WorkflowViableStepsDiscovered { steps: Vec<String>, count: u64 },
    #[serde(rename = "workflow.no_viable_steps")]
    WorkflowNoViableSteps {
        reason: Waiting,
        waiting_steps: Vec<String>,
    },
    #[serde(rename = "workflow.task_finalization_started")]
    WorkflowTaskFinalizationStarted {},
    #[serde(rename = "workflow.task_finalization_completed")]
    WorkflowTaskFinalizationCompleted { to_state: State, duration_ms: u64 },
    #[serde(rename = "observability.step.backoff")]
    StepBackoff {
        step_name: String,
        attempt: u32,
        delay_ms: u64,
        /// When the next attempt is due (ms; RFC 3339 in JSON).
        #[serde(with = "stamp")]
        next_retry_at: i64,
    },
    #[serde(rename = "observability.step.max_retries_reached")]
    StepMaxRetriesReached {
        step_name: String,
        attempt: u32,
        retry_limit: u32,
    },
    #[serde(rename = "observability.step.timeout")]
    StepTimeout {
        step_name: String,
        attempt: u32,
        timeout_ms: u64,
    },
    #[serde(rename = "observability.task.orphan_recovered")]
    OrphanRecovered {
        previous_owner_pid: Option<u32>,
        previous_owner_host: Option<String>,
        interrupted_steps: Vec<String>,
    },
    /// A custom event a template declared, written by a step to `TASKER_EVENTS`.
    #[serde(skip)]
    Custom {
        name: String,
        step_name: String,
        attempt: u32,
        payload: Value,
    },
}

/// A timestamp in milliseconds, written as RFC 3339.
mod stamp {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::clock::rfc3339(*ms))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let text = String::deserialize(d)?;
        chrono::DateTime::parse_from_rfc3339(&text)
            .map(|t| t.timestamp_millis())
            .map_err(serde::de::Error::custom)
    }
}

impl What {
    /// Its catalog kind; none for a custom event.
    pub fn kind(&self) -> Option<Kind> {
        use What as W;
        Some(match self {
            W::TaskInitializeRequested { .. } => Kind::TaskInitializeRequested,
            W::TaskStartRequested { .. } => Kind::TaskStartRequested,
            W::TaskCompleted { .. } => Kind::TaskCompleted,
            W::TaskFailed { .. } => Kind::TaskFailed,
            W::TaskRetryRequested { .. } => Kind::TaskRetryRequested,
            W::TaskCancelled { .. } => Kind::TaskCancelled,
            W::TaskResolvedManually { .. } => Kind::TaskResolvedManually,
            W::StepInitializeRequested { .. } => Kind::StepInitializeRequested,
            W::StepExecutionRequested { .. } => Kind::StepExecutionRequested,
            W::StepBeforeHandle { .. } => Kind::StepBeforeHandle,
            W::StepCompleted { .. } => Kind::StepCompleted,
            W::StepFailed { .. } => Kind::StepFailed,
            W::StepRetryRequested { .. } => Kind::StepRetryRequested,
            W::StepCancelled { .. } => Kind::StepCancelled,
            W::StepResolvedManually { .. } => Kind::StepResolvedManually,
            W::WorkflowTaskStarted { .. } => Kind::WorkflowTaskStarted,
            W::WorkflowViableStepsDiscovered { .. } => Kind::WorkflowViableStepsDiscovered,
            W::WorkflowNoViableSteps { .. } => Kind::WorkflowNoViableSteps,
            W::WorkflowTaskFinalizationStarted {} => Kind::WorkflowTaskFinalizationStarted,
            W::WorkflowTaskFinalizationCompleted { .. } => Kind::WorkflowTaskFinalizationCompleted,
            W::StepBackoff { .. } => Kind::StepBackoff,
            W::StepMaxRetriesReached { .. } => Kind::StepMaxRetriesReached,
            W::StepTimeout { .. } => Kind::StepTimeout,
            W::OrphanRecovered { .. } => Kind::OrphanRecovered,
            W::Custom { .. } => return None,
        })
    }

    /// The step and attempt it is about, for the events that name both.
    pub fn step(&self) -> Option<(&str, u32)> {
        use What as W;
        match self {
            W::StepExecutionRequested {
                step_name, attempt, ..
            }
            | W::StepBeforeHandle {
                step_name, attempt, ..
            }
            | W::StepCompleted {
                step_name, attempt, ..
            }
            | W::StepFailed {
                step_name, attempt, ..
            }
            | W::StepRetryRequested {
                step_name, attempt, ..
            }
            | W::StepCancelled {
                step_name, attempt, ..
            }
            | W::StepBackoff {
                step_name, attempt, ..
            }
            | W::StepMaxRetriesReached {
                step_name, attempt, ..
            }
            | W::StepTimeout {
                step_name, attempt, ..
            }
            | W::Custom {
                step_name, attempt, ..
            } => Some((step_name, *attempt)),
            _ => None,
        }
    }
}

/// One event: what happened, to which task, when, and its place in the log and the trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The per-task sequence number (set when the event is recorded).
    pub seq: u64,
    pub task_id: i64,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    pub what: What,
    /// Telemetry's view; not part of the JSON form.
    pub trace: Option<TraceRef>,
}

impl Event {
    pub fn new(what: What, task_id: i64) -> Event {
        Event {
            seq: 0,
            task_id,
            timestamp: crate::clock::now_ms(),
            what,
            trace: None,
        }
    }

    pub fn kind(&self) -> Option<Kind> {
        self.what.kind()
    }

    pub fn name(&self) -> &str {
        match &self.what {
            What::Custom { name, .. } => name,
            what => what.kind().map_or("", Kind::name),
        }
    }

    pub fn category(&self) -> Category {
        self.kind().map_or(Category::Custom, Kind::category)
    }

    /// The step and attempt it is about, if it names both.
    pub fn step(&self) -> Option<(&str, u32)> {
        self.what.step()
    }

    /// An event read back from its JSON form (the event log); none if it is not one.
    pub fn from_json(doc: &Value) -> Option<Event> {
        let Value::Object(map) = doc else { return None };
        let name = map.get("name")?.as_str()?;
        let timestamp = map
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map_or(0, |t| t.timestamp_millis());
        let what = if CATALOG.iter().any(|s| s.name == name) {
            What::deserialize(doc).ok()?
        } else {
            What::Custom {
                name: name.to_owned(),
                step_name: map.get("step_name")?.as_str()?.to_owned(),
                attempt: u32::try_from(map.get("attempt")?.as_u64()?).ok()?,
                payload: map.get("payload").cloned().unwrap_or(Value::Null),
            }
        };
        Some(Event {
            seq: map.get("seq")?.as_u64()?,
            task_id: map.get("task_id")?.as_i64()?,
            timestamp,
            what,
            trace: None,
        })
    }

    /// The JSON form: `{"seq", "name", "task_id", "timestamp", …fields}`.
    /// [`Event::to_json`] as text, written straight from the typed event into one buffer:
    /// the same keys in the same order, without building the JSON tree or a string a field
    /// (events are written to the log, `--events-out` and hooks as text, a few every step).
    pub fn to_json_text(&self) -> String {
        use std::io::Write as _;
        let name = self.name();
        let mut out: Vec<u8> = Vec::with_capacity(256);
        let _ = write!(out, "{{\"seq\":{},\"name\":", self.seq);
        let _ = serde_json::to_writer(&mut out, name);
        let _ = write!(out, ",\"task_id\":{},\"timestamp\":\"", self.task_id);
        crate::clock::write_rfc3339(&mut out, self.timestamp);
        out.push(b'"');
        match &self.what {
            What::Custom {
                step_name,
                attempt,
                payload,
                ..
            } => {
                out.extend_from_slice(b",\"step_name\":");
                let _ = serde_json::to_writer(&mut out, step_name);
                let _ = write!(out, ",\"attempt\":{attempt},\"payload\":");
                let _ = serde_json::to_writer(&mut out, payload);
                out.push(b'}');
            }
            what => {
                // The typed fields, tagged with the name first: the tag is left out.
                let at = out.len();
                let _ = serde_json::to_writer(&mut out, what);
                let tag_len = b"{\"name\":".len() + name.len() + 2;
                let tagged = out[at..].starts_with(b"{\"name\":\"")
                    && out.get(at + 9..at + tag_len - 1) == Some(name.as_bytes());
                debug_assert!(
                    tagged,
                    "{} is tagged {name}",
                    String::from_utf8_lossy(&out[at..])
                );
                if !tagged {
                    return self.to_json().to_string();
                }
                out.drain(at..at + tag_len);
            }
        }
        String::from_utf8(out).unwrap_or_else(|_| self.to_json().to_string())
    }

    pub fn to_json(&self) -> Value {
        let mut doc = Map::with_capacity(12);
        doc.insert("seq".into(), json!(self.seq));
        doc.insert("name".into(), json!(self.name()));
        doc.insert("task_id".into(), json!(self.task_id));
        doc.insert(
            "timestamp".into(),
            json!(crate::clock::rfc3339(self.timestamp)),
        );
        match &self.what {
            What::Custom {
                step_name,
                attempt,
                payload,
                ..
            } => {
                doc.insert("step_name".into(), json!(step_name));
                doc.insert("attempt".into(), json!(attempt));
                doc.insert("payload".into(), payload.clone());
            }
            what => {
                if let Ok(Value::Object(fields)) = serde_json::to_value(what) {
                    doc.extend(fields.into_iter().filter(|(k, _)| k != "name"));
                }
            }
        }
        Value::Object(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every catalog kind's typed form reads the catalog's example and writes it back the
    /// same: the same keys, in the catalog's order, with the same values.
    #[test]
    fn each_kind_reads_and_writes_the_catalog_shape() {
        for spec in CATALOG {
            let example = super::super::catalog::example(spec);
            let event = Event::from_json(&example)
                .unwrap_or_else(|| panic!("{} does not read as its kind", spec.name));
            assert_eq!(event.kind(), Some(spec.kind));
            assert_eq!(event.to_json(), example, "{}", spec.name);
            let keys: Vec<&str> = match &example {
                Value::Object(m) => m.keys().map(String::as_str).skip(4).collect(),
                _ => Vec::new(),
            };
            let fields: Vec<&str> = spec.fields.iter().map(|(f, _)| *f).collect();
            assert_eq!(keys, fields, "{}", spec.name);
        }
    }

    /// The text written straight from the typed event is the JSON tree's, byte for byte,
    /// for every kind and a custom event.
    #[test]
    fn the_text_form_is_the_json_forms_text() {
        let mut docs: Vec<Value> = CATALOG.iter().map(super::super::catalog::example).collect();
        docs.push(json!({"seq": 3, "name": "order.charged", "task_id": 1,
            "timestamp": "2026-11-27T10:00:00.000Z", "step_name": "charge \"x\"", "attempt": 2,
            "payload": {"amount": 10, "note": "é\n"}}));
        for doc in docs {
            let event = Event::from_json(&doc).expect("event");
            assert_eq!(event.to_json_text(), event.to_json().to_string(), "{doc}");
        }
    }

    #[test]
    fn a_custom_event_round_trips() {
        let doc = json!({"seq": 3, "name": "order.charged", "task_id": 1,
            "timestamp": "2026-11-27T10:00:00.000Z", "step_name": "charge", "attempt": 2,
            "payload": {"amount": 10}});
        let event = Event::from_json(&doc).expect("custom");
        assert_eq!(event.category(), Category::Custom);
        assert_eq!(event.step(), Some(("charge", 2)));
        assert_eq!(event.to_json(), doc);
    }
}
