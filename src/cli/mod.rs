//! The headless subcommands, built on the same engine as the studio.

mod bench;
mod history;
mod models;
mod run;
mod sentiment;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::engine::{
    EngineError, EngineEvent, EngineHandle, GpuLayers, LoadOptions, ModelInfo, Preflight,
    RequestId, SamplerParams,
};

pub use bench::{bench, bench_ui};
pub use history::{history, history_path, open_history};
pub use models::{devices, models};
pub use run::run;
pub use sentiment::{eval_sentiment, sentiment};

/// Exit code for bad input: a bad model file, a prompt that does not fit, a bad flag.
pub const EXIT_BAD_INPUT: i32 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "refrain",
    version,
    about = "A terminal studio for prompts on local GGUF models (llama.cpp inside).",
    long_about = "A terminal studio for prompts on local GGUF models (llama.cpp inside).\n\n\
        With no subcommand, opens the studio. Every studio capability is also a subcommand.\n\
        The model is --model, else REFRAIN_MODEL, else the first *.gguf in ./models/."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<CommandLine>,
    /// Echo logs (llama.cpp's included) to stderr as well as the log file.
    #[arg(long, global = true)]
    pub verbose: bool,
    /// Where the history database lives [default: REFRAIN_DATA_DIR, else the platform data dir].
    #[arg(long, global = true, value_name = "DIR", env = "REFRAIN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Keep no history of this session's runs (incognito).
    #[arg(long, global = true)]
    pub no_history: bool,
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub sampler: SamplerArgs,
    /// Studio: use this built-in chat template instead of the model's (chatml, llama3, gemma, …).
    #[arg(long, value_name = "NAME")]
    pub template: Option<String>,
    /// Studio: sentiment method — lexicon (live), model (after each response) or both.
    #[arg(long, default_value = "both", value_name = "METHOD")]
    pub sentiment: crate::analysis::SentimentMethod,
    /// Studio: capture the mouse so the wheel scrolls the output (F2 toggles; off keeps the
    /// terminal's own text selection).
    #[arg(long)]
    pub mouse: bool,
}

#[derive(Debug, Subcommand)]
pub enum CommandLine {
    /// Generate from a prompt and stream the answer to stdout (stats to stderr).
    Run(RunArgs),
    /// Measure prompt processing and generation speed the way llama-bench does.
    Bench(BenchArgs),
    /// Every GGUF model found: ./models, --dir, Hugging Face, llama.cpp, LM Studio and Ollama
    /// caches, with metadata read from the file headers (weights are never loaded).
    Models {
        /// Also scan this directory (repeatable; REFRAIN_MODEL_DIRS adds more).
        #[arg(long = "dir", value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// List the compute devices llama.cpp sees instead (CPU; GPUs in a GPU build).
        #[arg(long)]
        devices: bool,
        #[arg(long)]
        json: bool,
    },
    /// Sentiment of a text, line by line and overall (lexicon and/or the model).
    Sentiment(SentimentArgs),
    /// The history of runs: list, show, search, export, replay, star, rm.
    #[command(subcommand)]
    History(HistoryCommand),
    /// Evaluate against labelled data.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Check that a model file can be read (used in a child process before loading).
    #[command(hide = true)]
    CheckModel { path: PathBuf },
}

#[derive(Debug, Args)]
pub struct SentimentArgs {
    /// The text: a file, or '-' for stdin [default: stdin].
    #[arg(value_name = "FILE|-")]
    pub input: Option<PathBuf>,
    /// lexicon (VADER, English, instant), model (the loaded GGUF, any language) or both.
    #[arg(long, default_value = "both", value_name = "METHOD")]
    pub method: crate::analysis::SentimentMethod,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Which runs `history list` and `history search` show.
#[derive(Debug, Args)]
pub struct HistoryFilterArgs {
    #[arg(long, short = 'n', default_value_t = 20)]
    pub limit: usize,
    #[arg(long)]
    pub starred: bool,
    /// Only runs whose model name or path contains this.
    #[arg(long, value_name = "M")]
    pub model: Option<String>,
    /// Only runs started on or after this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only runs started on or before this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Runs, newest first.
    List {
        #[command(flatten)]
        filter: HistoryFilterArgs,
        #[arg(long)]
        json: bool,
    },
    /// One run in full.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Full-text search over prompts and outputs.
    Search {
        query: String,
        #[command(flatten)]
        filter: HistoryFilterArgs,
        #[arg(long)]
        json: bool,
    },
    /// Export runs as Markdown, JSON or JSONL.
    Export {
        /// Run ids (or --all).
        ids: Vec<i64>,
        #[arg(long)]
        all: bool,
        #[arg(long, default_value = "md", value_parser = ["md", "json", "jsonl"])]
        format: String,
        /// Write to this file instead of stdout.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Re-run with identical settings (same seed) and report whether the text matched.
    Replay {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Star (or with --off, unstar) a run.
    Star {
        id: i64,
        #[arg(long)]
        off: bool,
    },
    /// Set a run's note.
    Note { id: i64, text: String },
    /// Delete a run.
    Rm { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Accuracy, per-class precision/recall/F1, macro-F1, confusion matrix, coverage and
    /// throughput of a sentiment method on labelled data.
    Sentiment(EvalSentimentArgs),
}

#[derive(Debug, Args)]
pub struct EvalSentimentArgs {
    /// Labelled data: TSV `text<TAB>label` or JSONL `{"text","label"}`; labels
    /// positive/negative[/neutral] or 1/0.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// lexicon, model or both.
    #[arg(long, default_value = "lexicon", value_name = "METHOD")]
    pub method: crate::analysis::SentimentMethod,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// How to load the model.
#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// GGUF model file, or a name `refrain models` lists [default: REFRAIN_MODEL, else the first
    /// *.gguf in ./models/]
    #[arg(long, short = 'm', global = true, value_name = "PATH|NAME")]
    pub model: Option<PathBuf>,
    /// Context size in tokens.
    #[arg(long, short = 'c', global = true, value_name = "N", default_value_t = LoadOptions::DEFAULT_CONTEXT_SIZE)]
    pub ctx_size: u32,
    /// CPU threads [default: the number of cores].
    #[arg(long, short = 't', global = true, value_name = "N")]
    pub threads: Option<u32>,
    /// Logical batch size for prompt processing.
    #[arg(long, short = 'b', global = true, value_name = "N", default_value_t = LoadOptions::DEFAULT_BATCH_SIZE)]
    pub batch_size: u32,
    /// Layers to offload to the GPU: a number or 'all' (needs a GPU build; 0 on CPU).
    #[arg(long, global = true, value_name = "N|all", default_value = "0")]
    pub gpu_layers: GpuLayers,
}

impl LoadArgs {
    pub fn to_options(&self) -> Result<LoadOptions, String> {
        let model_path = crate::paths::resolve_model(self.model.as_deref())?;
        Ok(LoadOptions {
            model_path,
            context_size: self.ctx_size,
            threads: self.threads,
            batch_size: self.batch_size,
            gpu_layers: self.gpu_layers,
            preflight: checker_preflight(),
        })
    }
}

/// Vet models in a child process running this same binary.
pub fn checker_preflight() -> Preflight {
    match std::env::current_exe() {
        Ok(program) => Preflight::ChildProcess { program },
        Err(_) => Preflight::HeaderOnly,
    }
}

/// Sampler flags, named as llama.cpp's users expect.
#[derive(Debug, Clone, Args)]
pub struct SamplerArgs {
    /// Temperature; 0 is greedy.
    #[arg(long, value_name = "T", default_value_t = SamplerParams::default().temperature)]
    pub temperature: f32,
    /// Keep the K most likely tokens; 0 disables.
    #[arg(long, value_name = "K", default_value_t = SamplerParams::default().top_k)]
    pub top_k: i32,
    /// Nucleus sampling: keep tokens up to cumulative probability P; 1 disables.
    #[arg(long, value_name = "P", default_value_t = SamplerParams::default().top_p)]
    pub top_p: f32,
    /// Drop tokens below P times the top token's probability; 0 disables.
    #[arg(long, value_name = "P", default_value_t = SamplerParams::default().min_p)]
    pub min_p: f32,
    /// Penalty for repeating recent tokens; 1 disables.
    #[arg(long, value_name = "X", default_value_t = SamplerParams::default().repeat_penalty)]
    pub repeat_penalty: f32,
    /// How many recent tokens the penalties look at.
    #[arg(long, value_name = "N", default_value_t = SamplerParams::default().repeat_last_n)]
    pub repeat_last_n: i32,
    /// Penalty for any token already present; 0 disables.
    #[arg(long, value_name = "X", default_value_t = 0.0)]
    pub presence_penalty: f32,
    /// Penalty growing with how often a token appeared; 0 disables.
    #[arg(long, value_name = "X", default_value_t = 0.0)]
    pub frequency_penalty: f32,
    /// Random seed [default: a new random seed each run, reported in the stats].
    #[arg(long, short = 's', value_name = "N")]
    pub seed: Option<u32>,
    /// Most tokens to generate.
    #[arg(long, short = 'n', value_name = "N", default_value_t = SamplerParams::default().max_tokens)]
    pub max_tokens: u32,
    /// Stop before this text (repeatable); it is never printed.
    #[arg(long, value_name = "TEXT")]
    pub stop: Vec<String>,
}

impl SamplerArgs {
    pub fn to_params(&self) -> SamplerParams {
        SamplerParams {
            temperature: self.temperature,
            top_k: self.top_k,
            top_p: self.top_p,
            min_p: self.min_p,
            repeat_penalty: self.repeat_penalty,
            repeat_last_n: self.repeat_last_n,
            presence_penalty: self.presence_penalty,
            frequency_penalty: self.frequency_penalty,
            seed: self.seed,
            max_tokens: self.max_tokens,
            stop: self.stop.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The prompt; '-' reads it from stdin.
    #[arg(value_name = "PROMPT")]
    pub prompt: String,
    /// System prompt (chat mode).
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,
    /// Complete the prompt as raw text, without a chat template.
    #[arg(long, conflicts_with_all = ["system", "template"])]
    pub raw: bool,
    /// Use this built-in chat template instead of the model's (chatml, llama3, gemma, …).
    #[arg(long, value_name = "NAME")]
    pub template: Option<String>,
    /// One JSON object per line: token events, then a final object with text, stop reason, stats.
    #[arg(long)]
    pub json: bool,
    /// Do not print stats to stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    #[command(flatten)]
    pub sampler: SamplerArgs,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Prompt tokens for the prompt-processing test (pp).
    #[arg(
        short = 'p',
        long = "n-prompt",
        value_name = "N",
        default_value_t = 128
    )]
    pub prompt_tokens: u32,
    /// Tokens for the generation test (tg).
    #[arg(short = 'n', long = "n-gen", value_name = "N", default_value_t = 128)]
    pub generate_tokens: u32,
    /// Repetitions of each test.
    #[arg(
        short = 'r',
        long = "repetitions",
        value_name = "N",
        default_value_t = 5
    )]
    pub repetitions: u32,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Instead: compare generation speed inside the studio (update + a frame drawn on a
    /// 120x40 TestBackend at up to 60 fps) with plain generation, same prompt and seed.
    #[arg(long)]
    pub ui: bool,
}

/// An error for the binary's edge: what to print and which exit code to use.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub exit_code: i32,
}

impl Failure {
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit_code: EXIT_BAD_INPUT,
        }
    }
}

impl From<EngineError> for Failure {
    fn from(error: EngineError) -> Self {
        Self {
            exit_code: if error.is_bad_input() {
                EXIT_BAD_INPUT
            } else {
                1
            },
            message: error.to_string(),
        }
    }
}

/// Waits (blocking) for the load `id` to finish. Progress is ignored here.
pub fn wait_for_load(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<EngineEvent>,
    id: RequestId,
) -> Result<ModelInfo, Failure> {
    while let Some(event) = events.blocking_recv() {
        match event {
            EngineEvent::Loaded { id: got, info } if got == id => return Ok(info),
            EngineEvent::Failed { id: got, error } if got == id => return Err(error.into()),
            _ => {}
        }
    }
    Err(EngineError::WorkerGone.into())
}

/// Loads the model named by `load`, reporting failures the CLI way.
pub fn start_engine(
    load: &LoadOptions,
) -> Result<
    (
        EngineHandle,
        tokio::sync::mpsc::UnboundedReceiver<EngineEvent>,
        ModelInfo,
    ),
    Failure,
> {
    let (engine, mut events) = EngineHandle::spawn();
    let id = engine.load(load.clone());
    let info = wait_for_load(&mut events, id)?;
    Ok((engine, events, info))
}
