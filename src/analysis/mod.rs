//! How the text feels: sentiment scoring, pure and incremental. No I/O; the model-based
//! classifier lives in the engine and is reached through its handle.

pub mod lines;
pub mod vader;
