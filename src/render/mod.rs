//! Everything that draws for a terminal: tables, colour, progress lines.

pub mod color;
pub mod progress;
pub mod table;
