//! `tasker db`: where the store is, and its upkeep.

use std::time::Duration;

use serde_json::json;

use super::Global;
use crate::clock::now_ms;
use crate::error::{Error, exit};
use crate::model::State;
use crate::store::Backend;
use crate::templates::duration;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the store's path
    #[command(
        after_help = "Examples:\n  tasker db path\n  sqlite3 \"$(tasker db path)\" '.tables'"
    )]
    Path,
    /// Create the store or bring its schema up to date
    #[command(
        after_help = "Examples:\n  tasker db migrate\n  tasker --db /srv/tasker.db db migrate"
    )]
    Migrate,
    /// Check the store: PRAGMA integrity_check, foreign_key_check and every step's parents (exit 6 on problems)
    #[command(after_help = "Examples:\n  tasker db check\n  tasker db check --json")]
    Check(CheckArgs),
    /// Delete old finished tasks and everything that belongs to them
    #[command(
        after_help = "Examples:\n  tasker db prune --older-than 30d\n  tasker db prune --older-than 7d --status error --dry-run\n\nBy default complete, cancelled and resolved tasks go; `--status` picks states (a task\nin_progress is never removed)."
    )]
    Prune(PruneArgs),
    /// Rebuild the file to give freed space back to the system
    #[command(after_help = "Examples:\n  tasker db prune --older-than 90d && tasker db vacuum")]
    Vacuum,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Print as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Only tasks created longer ago than this (e.g. `30d`)
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub older_than: Duration,
    /// Only tasks in this state (repeatable) [default: complete, cancelled, resolved_manually]
    #[arg(long = "status", value_name = "S", value_parser = parse_state)]
    pub statuses: Vec<State>,
    /// Count what would be removed; remove nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print as JSON
    #[arg(long)]
    pub json: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    duration::parse(s)
}

fn parse_state(s: &str) -> Result<State, String> {
    match s.parse::<State>()? {
        State::InProgress => Err("a task in_progress is never pruned".into()),
        st => Ok(st),
    }
}

/// The store, which must exist: a missing or empty file is a store error (exit 6).
fn existing(global: &Global) -> Result<Box<dyn Backend>, Error> {
    let (path, _) = global.db_path();
    global.open_existing_store()?.ok_or_else(|| {
        let why = if global.db_file().is_none() {
            "the database holds no tasker store yet: nothing has run with it"
        } else if path.exists() {
            "the file is empty: nothing has been stored in it yet"
        } else {
            "there is no store there: nothing has run with it yet"
        };
        Error::Store(crate::store::StoreError::Open {
            path: path.display().to_string(),
            message: why.into(),
        })
    })
}

pub fn run(global: &Global, cmd: &Command) -> Result<u8, Error> {
    match cmd {
        Command::Path => {
            // Where the store is, or will be once something runs: the path either way. A
            // store tasker has no backend for is refused here too (its URL never echoed).
            global.location()?;
            let (path, _) = global.db_path();
            super::emit(&format!("{}\n", path.display()));
            if global.db_file().is_some()
                && !path.exists()
                && global.verbosity() != crate::render::progress::Verbosity::Quiet
            {
                super::say!("(no store there yet: the first `tasker run` creates it)");
            }
        }
        Command::Migrate => {
            let store = global.open_store()?;
            if global.verbosity() != crate::render::progress::Verbosity::Quiet {
                super::say!(
                    "{}: schema version {} (current: {})",
                    store.location(),
                    store.schema_version()?,
                    store.supported_version()
                );
            }
        }
        Command::Check(args) => {
            let store = existing(global)?;
            let problems = store.check()?;
            if args.json {
                super::emit(&format!(
                    "{}\n",
                    json!({"ok": problems.is_empty(), "problems": problems})
                ));
            } else if problems.is_empty() {
                super::emit(&format!("{}: ok\n", store.location()));
            } else {
                super::emit(&format!("{}\n", problems.join("\n")));
            }
            if !problems.is_empty() {
                return Ok(exit::STORE);
            }
        }
        Command::Prune(args) => {
            let mut store = existing(global)?;
            let states = if args.statuses.is_empty() {
                vec![State::Complete, State::Cancelled, State::ResolvedManually]
            } else {
                args.statuses.clone()
            };
            let before = now_ms() - args.older_than.as_millis() as i64;
            let pruned = store.prune(before, &states, args.dry_run)?;
            if args.json {
                super::emit(&format!(
                    "{}\n",
                    json!({"dry_run": args.dry_run, "removed": pruned})
                ));
            } else {
                let verb = if args.dry_run {
                    "would remove"
                } else {
                    "removed"
                };
                let count = |n: u64, noun| crate::render::count(n as usize, noun);
                super::emit(&format!(
                    "{verb} {}, {}, {}, {}\n",
                    count(pruned.tasks, "task"),
                    count(pruned.steps, "step"),
                    count(pruned.attempts, "attempt"),
                    count(pruned.events, "event")
                ));
            }
        }
        Command::Vacuum => {
            let mut store = existing(global)?;
            let (before, after) = store.vacuum()?;
            super::emit(&format!(
                "{}: {} KiB → {} KiB\n",
                store.location(),
                before / 1024,
                after / 1024
            ));
        }
    }
    Ok(exit::OK)
}
