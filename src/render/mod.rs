//! Everything that draws for a terminal: tables, colour, progress lines.

pub mod color;
pub mod diagram;
pub mod live;
pub mod progress;
pub mod summary;
pub mod table;

/// `1 step`, `3 steps`: a count with its noun, singular when it is one.
pub fn count(n: usize, noun: &str) -> String {
    crate::text::count(n, noun)
}
