//! Events as they reach their readers: the subscribers that receive them (the progress
//! display, the summary, telemetry, `--events-out`, hooks). The event type and the catalog
//! are the model's (`crate::model`).

pub mod hooks;

pub use crate::model::catalog::{self, CATALOG, Category, Kind};
pub use crate::model::{Event, TraceRef, Waiting, What};

/// Receives every event, in order, after the change it describes is committed.
pub trait Subscriber {
    fn on_event(&mut self, event: &Event);
    /// Something worth a word that changes nothing (a malformed `TASKER_EVENTS` line).
    fn warning(&mut self, _task_id: i64, _message: &str) {}
    /// The run is stopping on a signal (`message` says how): displays end their live part.
    fn stopping(&mut self, _message: &str) {}
}

/// A subscriber that ignores everything.
#[derive(Debug, Default)]
pub struct Ignore;

impl Subscriber for Ignore {
    fn on_event(&mut self, _event: &Event) {}
}

/// Several subscribers, each given every event in turn.
#[derive(Default)]
pub struct Fanout<'a> {
    pub subscribers: Vec<&'a mut dyn Subscriber>,
}

impl Subscriber for Fanout<'_> {
    fn on_event(&mut self, event: &Event) {
        for s in &mut self.subscribers {
            s.on_event(event);
        }
    }

    fn warning(&mut self, task_id: i64, message: &str) {
        for s in &mut self.subscribers {
            s.warning(task_id, message);
        }
    }

    fn stopping(&mut self, message: &str) {
        for s in &mut self.subscribers {
            s.stopping(message);
        }
    }
}

impl std::fmt::Debug for Fanout<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fanout({} subscribers)", self.subscribers.len())
    }
}

/// Writes each event as one JSON line (`run --events-out FILE`). A write that fails is
/// kept, not dropped: the run goes on, and says so at the end.
#[derive(Debug)]
pub struct JsonLines<W: std::io::Write> {
    pub out: W,
    /// The first write that failed; nothing is written after it.
    pub error: Option<std::io::Error>,
}

impl<W: std::io::Write> JsonLines<W> {
    pub fn new(out: W) -> Self {
        JsonLines { out, error: None }
    }
}

impl<W: std::io::Write> Subscriber for JsonLines<W> {
    fn on_event(&mut self, event: &Event) {
        if self.error.is_none()
            && let Err(e) =
                writeln!(self.out, "{}", event.to_json_text()).and_then(|()| self.out.flush())
        {
            self.error = Some(e);
        }
    }
}
