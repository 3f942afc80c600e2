//! Everything that draws for a terminal: tables, colour, progress lines.

pub mod color;
pub mod diagram;
pub mod live;
pub mod progress;
pub mod summary;
pub mod table;
