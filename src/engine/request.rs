//! What callers ask of the engine: load options, generation requests and sampler values.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Identifies one command sent to the engine; every event names the id it answers.
pub type RequestId = u64;

/// How many layers to offload to a GPU backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GpuLayers {
    Count(u32),
    All,
    /// As many as fit in free device memory, estimated from the GGUF's tensor sizes.
    Auto,
}

impl GpuLayers {
    /// The value llama.cpp takes: a count, where "all" is any number above the layer count.
    /// `Auto` must be resolved first ([`crate::engine::offload::auto_layers`]); unresolved it
    /// offloads nothing.
    pub fn as_llama_count(self) -> u32 {
        match self {
            GpuLayers::Count(n) => n,
            GpuLayers::All => 999,
            GpuLayers::Auto => 0,
        }
    }
}

impl std::str::FromStr for GpuLayers {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.eq_ignore_ascii_case("all") {
            return Ok(GpuLayers::All);
        }
        if text.eq_ignore_ascii_case("auto") {
            return Ok(GpuLayers::Auto);
        }
        text.parse::<u32>()
            .map(GpuLayers::Count)
            .map_err(|_| format!("expected a number of layers, 'all' or 'auto', got '{text}'"))
    }
}

impl std::fmt::Display for GpuLayers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GpuLayers::Count(n) => write!(f, "{n}"),
            GpuLayers::All => write!(f, "all"),
            GpuLayers::Auto => write!(f, "auto"),
        }
    }
}

/// How to vet a model file before llama.cpp reads it in this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preflight {
    /// Run `PROGRAM check-model PATH` in a child process, so a file that makes llama.cpp abort
    /// takes down the child, not us. The verdict is cached per (path, size, mtime).
    ChildProcess { program: PathBuf },
    /// Only the in-process header checks (for tests of pure logic, or when no binary is at hand).
    HeaderOnly,
}

/// Everything needed to load a model and create its context.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadOptions {
    pub model_path: PathBuf,
    pub context_size: u32,
    /// `None`: llama.cpp's choice from the number of cores.
    pub threads: Option<u32>,
    pub batch_size: u32,
    pub gpu_layers: GpuLayers,
    pub preflight: Preflight,
    /// Generate on this OpenAI-compatible server instead of loading `model_path` here.
    pub remote: Option<super::remote::Endpoint>,
}

impl LoadOptions {
    pub const DEFAULT_CONTEXT_SIZE: u32 = 4096;
    pub const DEFAULT_BATCH_SIZE: u32 = 512;

    pub fn new(model_path: impl Into<PathBuf>) -> Self {
        Self {
            model_path: model_path.into(),
            context_size: Self::DEFAULT_CONTEXT_SIZE,
            threads: None,
            batch_size: Self::DEFAULT_BATCH_SIZE,
            gpu_layers: GpuLayers::Count(0),
            preflight: Preflight::HeaderOnly,
            remote: None,
        }
    }
}

/// Continue an earlier response from one of its tokens, with another token there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForkRequest {
    /// The earlier response's prompt, with the sampler settings for the continuation.
    pub request: GenerateRequest,
    /// The earlier response's tokens before the fork point (kept as they were).
    pub prefix: Vec<i32>,
    /// The token placed at the fork point instead of the one sampled there.
    pub token: i32,
}

/// Most variants one sweep runs at once (the context is created with this many sequences).
pub const MAX_SWEEP_VARIANTS: usize = 8;

/// One prompt, several sampler settings, decoded together over one shared prompt cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRequest {
    pub prompt: Prompt,
    /// 2 to [`MAX_SWEEP_VARIANTS`] settings; each variant is a sequence of its own.
    pub variants: Vec<SamplerParams>,
}

/// The prompt: chat messages rendered through a template, or raw text completed as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Prompt {
    Chat {
        system: Option<String>,
        user: String,
        /// A built-in llama.cpp template name (chatml, llama3, gemma, …) overriding the GGUF's own.
        template: Option<String>,
    },
    Raw(String),
}

/// Sampler values, named as llama.cpp's users know them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplerParams {
    /// 0 means greedy.
    pub temperature: f32,
    /// 0 disables.
    pub top_k: i32,
    /// 1 disables.
    pub top_p: f32,
    /// 0 disables.
    pub min_p: f32,
    /// 1 disables.
    pub repeat_penalty: f32,
    /// How many recent tokens the penalties look at.
    pub repeat_last_n: i32,
    pub presence_penalty: f32,
    pub frequency_penalty: f32,
    /// `None`: pick a random seed; the one used is reported back.
    pub seed: Option<u32>,
    pub max_tokens: u32,
    /// Generation ends before any of these strings; they are never part of the text.
    pub stop: Vec<String>,
    /// The token inspector: record each token's probability and this many alternatives
    /// ([`crate::engine::EngineEvent::TokenDetail`]). `None`: off, no cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
}

impl Default for SamplerParams {
    fn default() -> Self {
        Self {
            temperature: 0.8,
            top_k: 40,
            top_p: 0.95,
            min_p: 0.05,
            repeat_penalty: 1.0,
            repeat_last_n: 64,
            presence_penalty: 0.0,
            frequency_penalty: 0.0,
            seed: None,
            max_tokens: 1024,
            stop: Vec::new(),
            top_logprobs: None,
        }
    }
}

/// One generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    pub prompt: Prompt,
    pub sampler: SamplerParams,
}

/// A `llama-bench`-style measurement: prompt processing of `prompt_tokens`, then generation of
/// `generate_tokens`, each repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenchSpec {
    pub prompt_tokens: u32,
    pub generate_tokens: u32,
    pub repetitions: u32,
}
