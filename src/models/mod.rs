//! Model files: GGUF metadata read from headers, and discovery across the places models live.

pub mod discover;
pub mod gguf;
