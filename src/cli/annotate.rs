//! `tasker annotate ID TYPE [VALUE]`: attach a note to a task (Tasker's `task_annotations`).

use serde_json::Value;

use super::Global;
use crate::error::{Error, exit};
use crate::render::progress::Verbosity;
use crate::store::INTERNAL_ANNOTATIONS;

/// The most an annotation's value may hold: a note, not data.
const MAX_VALUE: usize = 64 * 1024;

/// Attach a note to a task: a ticket number, an incident link, a reason
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  tasker annotate 42 ticket OPS-1234
  tasker annotate 42 incident '{\"url\": \"https://status.example.com/i/9\", \"severity\": 2}'
  tasker annotate 42 reviewed
  tasker status 42                          shows the task's annotations
  tasker tasks list --annotation ticket=OPS-1234

Annotations are kept with the task, in the order added; any state, even while it runs.")]
pub struct Args {
    /// The task id
    #[arg(value_parser = super::task_id)]
    pub id: i64,
    /// The annotation's type: a word of your choosing (ticket, incident, reason …)
    #[arg(value_name = "TYPE", value_parser = annotation_type)]
    pub kind: String,
    /// Its value: JSON when it parses (`42`, `{"url": …}`), else text [default: null]
    #[arg(value_name = "VALUE")]
    pub value: Option<String>,
}

/// An annotation type: a word of letters, digits, `_`, `-`, `.` and `:`, not tasker's own.
pub(crate) fn annotation_type(s: &str) -> Result<String, String> {
    let ok = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:".contains(c));
    if !ok {
        return Err(
            "an annotation type is a word of letters, digits, `_`, `-`, `.` and `:` (at most 64, starting with a letter), such as `ticket`"
                .into(),
        );
    }
    if INTERNAL_ANNOTATIONS.contains(&s) {
        return Err(format!("`{s}` is tasker's own; choose another word"));
    }
    Ok(s.to_owned())
}

/// A value as `--set` reads one: JSON when it parses, else the text itself.
pub(crate) fn annotation_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

pub fn run(global: &Global, args: &Args) -> Result<u8, Error> {
    let value = match &args.value {
        Some(text) if text.len() > MAX_VALUE => {
            return Err(Error::Usage(format!(
                "the annotation is bigger than {}, the most one may be\n  hint: annotate with a link to the data instead",
                crate::limits::size(MAX_VALUE as u64)
            )));
        }
        Some(text) => annotation_value(text),
        None => Value::Null,
    };
    let mut store = super::existing_store(global, args.id)?;
    super::find_task(&*store, args.id)?;
    store.annotate(args.id, &args.kind, &value)?;
    if global.verbosity() != Verbosity::Quiet {
        super::say!(
            "task {}: annotated {} {}",
            args.id,
            args.kind,
            crate::text::printable(&crate::render::table::annotation_text(
                &crate::secrets::mask_under(&args.kind, &value)
            ))
        );
    }
    Ok(exit::OK)
}
