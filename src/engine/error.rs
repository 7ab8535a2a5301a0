//! The engine's failures, each naming the file or value at fault and what to do.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum EngineError {
    #[error("model file {path} does not exist")]
    ModelMissing { path: PathBuf },
    #[error("{path} is a directory, not a GGUF model file")]
    ModelIsDirectory { path: PathBuf },
    #[error("cannot read model file {path}: {reason}")]
    ModelUnreadable { path: PathBuf, reason: String },
    #[error("{path} is not a usable GGUF model: {reason}")]
    ModelInvalid { path: PathBuf, reason: String },
    #[error("llama.cpp could not load {path}: {reason}")]
    ModelLoad { path: PathBuf, reason: String },
    #[error("loading {path} was cancelled")]
    LoadCancelled { path: PathBuf },
    #[error("could not create a llama.cpp context of {context_size} tokens: {reason}")]
    ContextCreate { context_size: u32, reason: String },
    #[error("no model is loaded")]
    NoModel,
    #[error(
        "the prompt is {prompt_tokens} tokens but the context holds {context_size}; \
         shorten the prompt or raise --ctx-size"
    )]
    PromptTooLong {
        prompt_tokens: u32,
        context_size: u32,
    },
    #[error("the prompt is empty")]
    EmptyPrompt,
    #[error("chat template: {reason}")]
    Template { reason: String },
    #[error("invalid sampler setting: {reason}")]
    InvalidSampler { reason: String },
    #[error("llama.cpp decode failed: {reason}")]
    Decode { reason: String },
    #[error("cancelled")]
    Cancelled,
    #[error("the engine worker has stopped")]
    WorkerGone,
    /// A remote server could not be used (unreachable, refused, an HTTP error with its message).
    #[error("{reason}")]
    Remote { reason: String },
    /// The stream of a remote answer ended before the answer did; what arrived is kept.
    #[error("the answer was cut off after {received} tokens: {reason}")]
    StreamCut { received: u32, reason: String },
    /// What this backend cannot do, said plainly.
    #[error("{what}")]
    Unsupported { what: String },
}

impl EngineError {
    /// Errors caused by what the user gave us (a bad file, a prompt too long): exit code 2.
    pub fn is_bad_input(&self) -> bool {
        !matches!(
            self,
            EngineError::Decode { .. }
                | EngineError::WorkerGone
                | EngineError::LoadCancelled { .. }
                | EngineError::Remote { .. }
                | EngineError::StreamCut { .. }
        )
    }
}
