//! Who runs a task (an owner: pid, host, start time; whether it still lives) and where a
//! runner keeps its files. Shared by the engine, the hooks and the read-only views.

mod files;
pub mod owner;

pub use files::{input_dir, make_scratch, runner_mark, scratch_dir, sweep_dead_runners};
pub use owner::{alive, alive_here, hostname, this_process, uid};
