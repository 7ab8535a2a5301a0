//! What a run record holds: everything needed to understand and reproduce the run.

use serde::{Deserialize, Serialize};

use crate::engine::{
    GenerateRequest, ModelInfo, ModelSentiment, Prompt, RunStarted, RunStats, SamplerParams,
    StopReason,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still generating (or its process died: the next open marks it interrupted).
    Running,
    Finished,
    /// Cut short: cancel, quit, a signal or a killed process. The partial output is kept.
    Interrupted,
    Failed,
}

impl RunStatus {
    /// How a run that ended with `error` is kept: a remote stream cut off mid-answer is
    /// interrupted (its partial text kept), anything else failed.
    pub fn after(error: &crate::engine::EngineError) -> Self {
        if matches!(error, crate::engine::EngineError::StreamCut { .. }) {
            RunStatus::Interrupted
        } else {
            RunStatus::Failed
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "running" => RunStatus::Running,
            "finished" => RunStatus::Finished,
            "failed" => RunStatus::Failed,
            _ => RunStatus::Interrupted,
        }
    }
}

/// The run as it starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    pub model_name: String,
    pub model_path: String,
    pub model_size: u64,
    pub engine_version: String,
    pub templated_prompt: String,
    pub system_prompt: Option<String>,
    pub user_prompt: String,
    pub raw: bool,
    pub template: Option<String>,
    /// With the seed actually used.
    pub sampler: SamplerParams,
}

/// The llama.cpp behind this build: the crate versions that vendor it.
pub const ENGINE_VERSION: &str = "llama-cpp-2 0.1.160 (llama-cpp-sys-2 0.1.161, ggml 0.26.0)";

impl NewRun {
    pub fn new(info: &ModelInfo, request: &GenerateRequest, started: &RunStarted) -> Self {
        let (system_prompt, user_prompt, raw, template) = match &request.prompt {
            Prompt::Chat {
                system,
                user,
                template,
            } => (system.clone(), user.clone(), false, template.clone()),
            Prompt::Raw(text) => (None, text.clone(), true, None),
        };
        let mut sampler = request.sampler.clone();
        sampler.seed = Some(started.seed);
        Self {
            model_name: info.name.clone(),
            model_path: info.path.display().to_string(),
            model_size: info.size_bytes,
            engine_version: ENGINE_VERSION.into(),
            templated_prompt: started.templated_prompt.clone(),
            system_prompt,
            user_prompt,
            raw,
            template,
            sampler,
        }
    }

    /// The request that reproduces this run exactly.
    pub fn request(&self) -> GenerateRequest {
        GenerateRequest {
            prompt: if self.raw {
                Prompt::Raw(self.user_prompt.clone())
            } else {
                Prompt::Chat {
                    system: self.system_prompt.clone(),
                    user: self.user_prompt.clone(),
                    template: self.template.clone(),
                }
            },
            sampler: self.sampler.clone(),
        }
    }
}

/// Sentiment readouts as recorded with the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SentimentRecord {
    /// Mean lexicon compound over the scored lines.
    pub lexicon_mean: Option<f64>,
    /// Per finished line; `None` for n/a.
    pub lexicon_lines: Vec<Option<f64>>,
    pub model: Option<ModelSentiment>,
    pub model_lines: Vec<ModelSentiment>,
}

impl SentimentRecord {
    /// The score shown as the list's glyph: the model's if it ran, else the lexicon's.
    pub fn headline(&self) -> Option<f64> {
        self.model.map(|m| m.score()).or(self.lexicon_mean)
    }
}

/// How the run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    pub status: RunStatus,
    pub output: String,
    pub stop_reason: Option<StopReason>,
    pub stats: Option<RunStats>,
    pub error: Option<String>,
}

/// A stored run, whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: i64,
    /// Unix milliseconds.
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub status: RunStatus,
    pub model_sha256: Option<String>,
    #[serde(flatten)]
    pub run: NewRun,
    pub output: String,
    pub stop_reason: Option<StopReason>,
    pub stats: Option<RunStats>,
    pub sentiment: Option<SentimentRecord>,
    pub starred: bool,
    pub note: String,
    pub error: Option<String>,
    /// The sweep this run is a variant of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepMembership>,
    /// The run this one was forked from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fork: Option<ForkLink>,
}

/// Where a forked run came from: its parent run and the token it was forked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkLink {
    pub parent: i64,
    /// 0-based token index in the parent's response.
    pub index: u32,
}

/// A run's place in a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepLink {
    pub id: i64,
    /// 0-based, in the order the variants were given.
    pub index: u32,
}

/// A sweep a run belongs to, as read back: its link and what the sweep varied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepMembership {
    pub id: i64,
    pub index: u32,
    /// "temperature × seed".
    pub varied: String,
}

/// One row of the history list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: i64,
    pub started_at: i64,
    pub model_name: String,
    pub temperature: f64,
    pub seed: u32,
    pub first_line: String,
    pub status: RunStatus,
    pub stop_reason: Option<StopReason>,
    pub starred: bool,
    pub sentiment: Option<f64>,
    /// The sweep it is a variant of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep_id: Option<i64>,
}

/// Which runs a list or search returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub starred_only: bool,
    /// Runs whose model name or path contains this.
    pub model: Option<String>,
    /// Unix milliseconds, inclusive.
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub limit: usize,
}

impl Default for Filter {
    fn default() -> Self {
        Self {
            starred_only: false,
            model: None,
            since: None,
            until: None,
            limit: 200,
        }
    }
}

/// The list's sentiment glyph.
pub fn sentiment_glyph(score: Option<f64>) -> &'static str {
    match score {
        Some(s) if s >= 0.05 => "+",
        Some(s) if s <= -0.05 => "−",
        Some(_) => "=",
        None => "·",
    }
}

/// Where two texts first differ, in characters; `None` when equal.
pub fn first_difference(a: &str, b: &str) -> Option<usize> {
    if a == b {
        return None;
    }
    Some(a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count())
}
