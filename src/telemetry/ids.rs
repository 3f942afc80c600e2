//! Span ids chosen by the engine: the engine names every span before it exists (a step's
//! process gets its attempt's `TRACEPARENT` when it starts), and the spans are built when
//! the work is done. This generator hands out the ids set just before each span is built.

use std::cell::Cell;

use opentelemetry::{SpanId, TraceId};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};

thread_local! {
    static NEXT: Cell<(Option<u128>, Option<u64>)> = const { Cell::new((None, None)) };
}

/// Use `trace` (for a span without a parent) and `span` for the next span built on this
/// thread.
pub fn preset(trace: u128, span: u64) {
    NEXT.with(|n| n.set((Some(trace), Some(span))));
}

/// Ids from [`preset`], else random ones.
#[derive(Debug, Default)]
pub struct Preset {
    random: RandomIdGenerator,
}

impl IdGenerator for Preset {
    fn new_trace_id(&self) -> TraceId {
        NEXT.with(|n| {
            let (trace, span) = n.get();
            n.set((None, span));
            trace.map_or_else(|| self.random.new_trace_id(), TraceId::from)
        })
    }

    fn new_span_id(&self) -> SpanId {
        NEXT.with(|n| {
            let (trace, span) = n.get();
            n.set((trace, None));
            span.map_or_else(|| self.random.new_span_id(), SpanId::from)
        })
    }
}
