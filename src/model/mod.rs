//! The model every layer shares, importing none of them: the six states and their
//! transition tables, actors, ids, failure classes, the event kinds and the event type.

pub mod catalog;
mod event;
mod failure;
mod ids;
pub mod state;
mod time;

pub use catalog::{CATALOG, Category, Kind};
pub use event::{Event, TraceRef, Waiting, What};
pub use failure::FailureClass;
pub use ids::{Owner, StepId, TaskId};
pub use state::{Actor, Entity, State, allowed};
pub use time::{running, session_step, span};
