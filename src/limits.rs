//! The most tasker reads of each input, so that no input — a template, a context, a step's
//! result, a config file — can take its memory, and the bounded read that holds to them.

use std::io::Read;
use std::path::Path;

const MIB: u64 = 1024 * 1024;

/// A template file (a 100,000-step template is about 4 MiB).
pub const TEMPLATE: u64 = 32 * MIB;
/// A task's context, from `--context` (text or `@FILE`).
pub const CONTEXT: u64 = 8 * MIB;
/// A step's result: what it writes to `TASKER_OUTPUT`, a plugin's `result`, an HTTP
/// response body, `resolve --results`.
pub const RESULT: u64 = 4 * MIB;
/// What a step appends to `TASKER_EVENTS` (read up to this, the rest ignored).
pub const EVENTS: u64 = MIB;
/// A config file.
pub const CONFIG: u64 = MIB;

/// `n` bytes in MiB or KiB, for messages.
pub fn size(n: u64) -> String {
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else {
        format!("{} KiB", n.div_ceil(1024))
    }
}

/// What a bounded read found.
#[derive(Debug)]
pub enum Bounded {
    /// The whole file.
    All(Vec<u8>),
    /// The file holds more than the limit: its first `limit` bytes.
    TooBig(Vec<u8>),
}

/// Read at most `limit` bytes of `path` (a file, a pipe, a device: `/dev/zero` too).
pub fn read(path: &Path, limit: u64) -> std::io::Result<Bounded> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        bytes.truncate(limit as usize);
        return Ok(Bounded::TooBig(bytes));
    }
    Ok(Bounded::All(bytes))
}
