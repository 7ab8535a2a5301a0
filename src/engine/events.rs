//! What the engine reports back: progress, tokens, results and failures.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::EngineError;
use super::request::RequestId;

/// Why a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model produced an end-of-generation token.
    EndOfGeneration,
    /// One of the request's stop strings appeared.
    StopString,
    /// The request's token budget was spent.
    MaxTokens,
    /// The context window has no room for another token.
    ContextFull,
    /// The caller cancelled.
    Cancelled,
}

impl StopReason {
    /// The words a user reads.
    pub fn label(self) -> &'static str {
        match self {
            StopReason::EndOfGeneration => "end of generation",
            StopReason::StopString => "stop string",
            StopReason::MaxTokens => "max tokens",
            StopReason::ContextFull => "context full",
            StopReason::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Facts about the loaded model, for status lines and history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub path: std::path::PathBuf,
    pub name: String,
    pub architecture: String,
    /// e.g. "Q4_1", from the file type recorded in the GGUF.
    pub quantization: String,
    pub parameters: u64,
    pub size_bytes: u64,
    pub layers: u32,
    pub gpu_layers_offloaded: u32,
    pub gpu_offload_supported: bool,
    /// How many layers each GPU holds (empty on CPU).
    #[serde(default)]
    pub offload: Vec<super::offload::DeviceLayers>,
    pub context_size: u32,
    pub trained_context: u32,
    pub batch_size: u32,
    pub threads: u32,
    pub vocab_size: u32,
    pub has_chat_template: bool,
    #[serde(with = "duration_ms")]
    pub load_time: Duration,
}

/// Measurements of one generation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    /// A remote server's `system_fingerprint`, when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    #[serde(with = "duration_ms")]
    pub load_time: Duration,
    pub prompt_tokens: u32,
    #[serde(with = "duration_ms")]
    pub prompt_eval_time: Duration,
    pub prompt_tokens_per_second: f64,
    #[serde(with = "duration_ms")]
    pub time_to_first_token: Duration,
    pub generated_tokens: u32,
    #[serde(with = "duration_ms")]
    pub generation_time: Duration,
    pub tokens_per_second: f64,
    /// Tokens in the context when generation ended (prompt plus decoded output).
    pub context_used: u32,
    pub context_size: u32,
}

/// Per-run facts fixed before the first token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStarted {
    /// The exact text sent to the tokenizer (after templating).
    pub templated_prompt: String,
    /// Which chat template rendered it, in words ("embedded", "chatml (--template)", …).
    pub template: String,
    pub prompt_tokens: u32,
    pub context_size: u32,
    pub seed: u32,
}

/// The outcome of a generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFinished {
    pub text: String,
    pub stop_reason: StopReason,
    pub seed: u32,
    pub stats: RunStats,
}

/// A whole sweep's measurements.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SweepSummary {
    pub prompt_tokens: u32,
    /// Reading the prompt once, for every variant.
    #[serde(with = "duration_ms")]
    pub prompt_eval_time: Duration,
    /// From the first sampled token to the last variant's end.
    #[serde(with = "duration_ms")]
    pub generation_time: Duration,
    /// Tokens of all variants together.
    pub generated_tokens: u32,
    /// All variants' tokens per second of generation time.
    pub tokens_per_second: f64,
}

/// One row of a benchmark, in `llama-bench`'s terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchRow {
    /// "pp128", "tg128", …
    pub test: String,
    pub tokens: u32,
    /// Tokens per second of each repetition.
    pub samples: Vec<f64>,
}

impl BenchRow {
    pub fn mean(&self) -> f64 {
        if self.samples.is_empty() {
            return 0.0;
        }
        self.samples.iter().sum::<f64>() / self.samples.len() as f64
    }

    /// Sample standard deviation, as llama-bench reports it.
    pub fn stddev(&self) -> f64 {
        let n = self.samples.len();
        if n < 2 {
            return 0.0;
        }
        let mean = self.mean();
        let sum: f64 = self.samples.iter().map(|s| (s - mean).powi(2)).sum();
        (sum / (n as f64 - 1.0)).sqrt()
    }

    pub fn min(&self) -> f64 {
        self.samples.iter().copied().fold(f64::INFINITY, f64::min)
    }

    pub fn median(&self) -> f64 {
        let mut sorted = self.samples.clone();
        sorted.sort_by(f64::total_cmp);
        match sorted.len() {
            0 => 0.0,
            n if n % 2 == 1 => sorted[n / 2],
            n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        }
    }
}

/// Everything the worker sends back.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// Load progress in 0.0..=1.0.
    LoadProgress {
        id: RequestId,
        fraction: f32,
    },
    Loaded {
        id: RequestId,
        info: ModelInfo,
    },
    Started {
        id: RequestId,
        started: RunStarted,
    },
    /// The first token was sampled, this long after the request started.
    FirstToken {
        id: RequestId,
        time_to_first_token: Duration,
    },
    /// A piece of text that is final: complete UTF-8, and past any possible stop string.
    /// `generated` counts the tokens sampled so far, `elapsed` the time since the first one.
    Token {
        id: RequestId,
        text: String,
        generated: u32,
        elapsed: Duration,
    },
    Finished {
        id: RequestId,
        finished: RunFinished,
    },
    /// The token inspector's record of one sampled token (when asked for with
    /// `SamplerParams::top_logprobs`); sent before that token's text.
    TokenDetail {
        id: RequestId,
        detail: super::inspect::TokenDetail,
    },
    /// One result per text of a `Classify`, in order.
    Classified {
        id: RequestId,
        results: Vec<super::classify::ModelSentiment>,
    },
    BenchRow {
        id: RequestId,
        row: BenchRow,
    },
    /// A sweep read its prompt; `seeds` are the variants' seeds in order.
    SweepStarted {
        id: RequestId,
        started: RunStarted,
        seeds: Vec<u32>,
    },
    /// Final text of one variant, as [`EngineEvent::Token`].
    SweepToken {
        id: RequestId,
        variant: usize,
        text: String,
        generated: u32,
        elapsed: Duration,
    },
    /// One variant ended (the others may go on).
    SweepVariantFinished {
        id: RequestId,
        variant: usize,
        finished: RunFinished,
    },
    /// Every variant ended.
    SweepFinished {
        id: RequestId,
        summary: SweepSummary,
    },
    BenchDone {
        id: RequestId,
    },
    Failed {
        id: RequestId,
        error: EngineError,
    },
}

impl EngineEvent {
    pub fn id(&self) -> RequestId {
        match self {
            EngineEvent::LoadProgress { id, .. }
            | EngineEvent::Loaded { id, .. }
            | EngineEvent::Started { id, .. }
            | EngineEvent::FirstToken { id, .. }
            | EngineEvent::Token { id, .. }
            | EngineEvent::Finished { id, .. }
            | EngineEvent::TokenDetail { id, .. }
            | EngineEvent::Classified { id, .. }
            | EngineEvent::BenchRow { id, .. }
            | EngineEvent::SweepStarted { id, .. }
            | EngineEvent::SweepToken { id, .. }
            | EngineEvent::SweepVariantFinished { id, .. }
            | EngineEvent::SweepFinished { id, .. }
            | EngineEvent::BenchDone { id }
            | EngineEvent::Failed { id, .. } => *id,
        }
    }
}

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(value.as_secs_f64() * 1000.0)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let ms = f64::deserialize(deserializer)?;
        Ok(Duration::from_secs_f64(ms.max(0.0) / 1000.0))
    }
}
