//! refrain: a terminal studio for prompts on local GGUF models.
//!
//! Layers, data flowing one way: [`engine`] (llama.cpp on its own thread) → [`tui`] (the
//! studio) and [`cli`] (headless subcommands), with [`config`] (file, presets), [`paths`],
//! [`logging`] and [`fatal`] as shared plumbing.

pub mod analysis;
pub mod cli;
pub mod config;
pub mod engine;
pub mod fatal;
pub mod logging;
pub mod models;
pub mod paths;
pub mod store;
pub mod tui;
