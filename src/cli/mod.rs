//! The headless subcommands, built on the same engine as the studio.

mod bench;
mod config;
mod fork;
mod history;
mod models;
mod run;
mod sentiment;
mod sweep;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::engine::{
    EngineError, EngineEvent, EngineHandle, GpuLayers, LoadOptions, ModelInfo, Preflight,
    RequestId, SamplerParams,
};

pub use bench::{bench, bench_inspector, bench_sweep, bench_ui};
pub use config::{config, presets};
pub use fork::fork;
pub use history::{history, history_path, open_history, recording_path};
pub use models::{devices, models, server_models};
pub use run::run;
pub use sentiment::{eval_sentiment, sentiment};
pub use sweep::{planned, sweep};

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
    /// The config file [default: REFRAIN_CONFIG, else config.toml in the platform config dir;
    /// `refrain config path` prints it]
    #[arg(long, global = true, value_name = "FILE", env = "REFRAIN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where the history database lives [default: REFRAIN_DATA_DIR, else the platform data dir].
    #[arg(long, global = true, value_name = "DIR", env = "REFRAIN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Keep no history of this session's runs (incognito).
    #[arg(
        long,
        global = true,
        env = "REFRAIN_NO_HISTORY",
        conflicts_with = "history"
    )]
    pub no_history: bool,
    /// Keep history even where the config file turns it off.
    #[arg(long, global = true)]
    pub history: bool,
    /// Start from a preset: sampler values, and for prompt presets a system prompt and a prompt
    /// template (`refrain presets` lists them).
    #[arg(long, global = true, value_name = "NAME", env = "REFRAIN_PRESET")]
    pub preset: Option<String>,
    #[command(flatten)]
    pub load: LoadArgs,
    #[command(flatten)]
    pub sampler: SamplerArgs,
    /// Studio: use this built-in chat template instead of the model's (chatml, llama3, gemma, …).
    #[arg(long, value_name = "NAME")]
    pub template: Option<String>,
    /// Studio: sentiment method — lexicon (live), model (after each response) or both
    /// [default: both]
    #[arg(long, value_name = "METHOD", env = "REFRAIN_SENTIMENT")]
    pub sentiment: Option<crate::analysis::SentimentMethod>,
    /// Studio: auto (colour unless NO_COLOR), dark, light or mono [default: auto]
    #[arg(long, value_name = "THEME", env = "REFRAIN_THEME")]
    pub theme: Option<crate::tui::theme::ThemeName>,
    /// Studio: capture the mouse so the wheel scrolls the output (F2 toggles; off keeps the
    /// terminal's own text selection).
    #[arg(long, conflicts_with = "no_mouse")]
    pub mouse: bool,
    /// Studio: do not capture the mouse, even where the config file asks to.
    #[arg(long)]
    pub no_mouse: bool,
    /// What the flags, environment and config file decided (filled by [`Cli::settle`]).
    #[arg(skip)]
    pub settled: Settled,
}

/// Settings that merge flags with the config file, resolved once at start.
#[derive(Debug, Clone, Default)]
pub struct Settled {
    pub history: bool,
    pub mouse: bool,
    pub sentiment: crate::analysis::SentimentMethod,
    pub theme: crate::tui::theme::ThemeName,
    pub keys: std::collections::BTreeMap<crate::tui::keymap::Action, Vec<crate::tui::keymap::Key>>,
    /// The `--preset`, when given.
    pub preset: Option<crate::config::presets::Preset>,
    /// The config file in effect, when there is one.
    pub config_path: Option<PathBuf>,
    /// The config's servers: (name, url, the endpoint or why it cannot be used).
    pub endpoints: Vec<(
        String,
        String,
        Result<crate::engine::remote::Endpoint, String>,
    )>,
}

impl Cli {
    /// Merges the config file (and `--preset`) under the flags and environment. Commands that
    /// manage the config itself skip this, so a broken file can still be inspected and mended.
    pub fn settle(&mut self) -> Result<(), Failure> {
        let loaded = crate::config::load(self.config.as_deref())
            .map_err(|error| Failure::bad_input(error.to_string()))?;
        if let Some(name) = self.preset.clone() {
            let presets = crate::config::presets::all().map_err(Failure::bad_input)?;
            let preset = crate::config::presets::find(&presets, &name)
                .map_err(Failure::bad_input)?
                .clone();
            // A preset sits between the environment and the config file.
            self.sampler.fill_from(&preset.sampler);
            if let Some(sampler) = self.command.as_mut().and_then(CommandLine::sampler_mut) {
                sampler.fill_from(&preset.sampler);
            }
            self.settled.preset = Some(preset);
        }
        let config = &loaded.config;
        // The endpoint first: `--model` names the server's model there, and the config's
        // local default model must not.
        if let Some(spec) = self.load.endpoint_arg.clone() {
            let endpoint = config
                .endpoint(
                    &spec,
                    self.load.model.as_ref(),
                    self.load.api_key_env.as_deref(),
                )
                .map_err(Failure::bad_input)?;
            self.load.endpoint = Some(endpoint);
        }
        config.apply_to(self);
        let studio = &config.studio;
        self.settled.history = if self.no_history {
            false
        } else {
            self.history || config.history.enabled.unwrap_or(true)
        };
        self.settled.mouse = if self.no_mouse {
            false
        } else {
            self.mouse || studio.mouse.unwrap_or(false)
        };
        self.settled.sentiment = self.sentiment.or(studio.sentiment).unwrap_or_default();
        self.settled.theme = self.theme.or(studio.theme).unwrap_or_default();
        self.settled.keys = config.keys.clone();
        self.settled.endpoints = config
            .endpoints
            .iter()
            .map(|(name, endpoint)| {
                (
                    name.clone(),
                    crate::engine::remote::strip_userinfo(&endpoint.url),
                    config.endpoint(name, None, None),
                )
            })
            .collect();
        self.settled.config_path = loaded.path;
        Ok(())
    }
}

#[derive(Debug, Subcommand)]
pub enum CommandLine {
    /// Generate from a prompt and stream the answer to stdout (stats to stderr).
    Run(RunArgs),
    /// Generate, then continue the response from token N with another token the model
    /// considered there (the inspector's fork); both are recorded, the fork linked to its parent.
    Fork(ForkArgs),
    /// One prompt, several temperatures / seeds / top-p / min-p / top-k at once (shared prompt
    /// cache, one batch per step), with diversity and sentiment per variant.
    Sweep(SweepArgs),
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
    /// The config file: where it is, a documented default, and whether it is valid.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Sampler and prompt presets (built in, and yours in the config dir's presets/).
    Presets {
        /// Show this preset in full instead of the list.
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Check that a model file can be read (used in a child process before loading).
    #[command(hide = true)]
    CheckModel { path: PathBuf },
}

impl CommandLine {
    /// The subcommand's own sampler flags (`run`, `fork`), which the preset and config fill.
    pub fn sampler_mut(&mut self) -> Option<&mut SamplerArgs> {
        match self {
            CommandLine::Run(args) => Some(&mut args.sampler),
            CommandLine::Fork(args) => Some(&mut args.sampler),
            _ => None,
        }
    }

    /// The subcommand's prompt flags (`run`, `fork`, `sweep`).
    pub fn prompt_mut(&mut self) -> Option<&mut PromptArgs> {
        match self {
            CommandLine::Run(args) => Some(&mut args.input),
            CommandLine::Fork(args) => Some(&mut args.input),
            CommandLine::Sweep(args) => Some(&mut args.input),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Subcommand)]
pub enum ConfigCommand {
    /// Print the config file's path (whether or not it exists).
    Path,
    /// Write the documented default config there (every setting commented out).
    Init {
        /// Replace an existing file (it is kept as config.toml.bak).
        #[arg(long)]
        force: bool,
    },
    /// Check the config file and print the settings in effect, flags and environment included.
    Check,
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
    /// Only runs whose model name or path contains this. (Not `--model`: that global flag
    /// names the model to load, and clap cannot hold both.)
    #[arg(long = "by-model", value_name = "TEXT")]
    pub by_model: Option<String>,
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
    /// One run in full (for a sweep's variant: the whole sweep, side by side).
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
        /// Every variant of this sweep (Markdown puts them side by side).
        #[arg(long, value_name = "SWEEP_ID", conflicts_with = "all")]
        sweep: Option<i64>,
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

/// How to load the model. Unset values come from the config file, then the defaults.
#[derive(Debug, Clone, Default, Args)]
pub struct LoadArgs {
    /// GGUF model file, or a name `refrain models` lists [default: the config's model.default,
    /// else the first *.gguf in ./models/]
    #[arg(
        long,
        short = 'm',
        global = true,
        value_name = "PATH|NAME",
        env = "REFRAIN_MODEL"
    )]
    pub model: Option<PathBuf>,
    /// Context size in tokens [default: 4096]
    #[arg(
        long,
        short = 'c',
        global = true,
        value_name = "N",
        env = "REFRAIN_CTX_SIZE"
    )]
    pub ctx_size: Option<u32>,
    /// CPU threads [default: the number of cores]
    #[arg(
        long,
        short = 't',
        global = true,
        value_name = "N",
        env = "REFRAIN_THREADS"
    )]
    pub threads: Option<u32>,
    /// Logical batch size for prompt processing [default: 512]
    #[arg(
        long,
        short = 'b',
        global = true,
        value_name = "N",
        env = "REFRAIN_BATCH_SIZE"
    )]
    pub batch_size: Option<u32>,
    /// Layers to offload to the GPU: a number, 'all', or 'auto' (as many as fit in free device
    /// memory); needs a GPU build [default: 0]
    #[arg(
        long,
        global = true,
        value_name = "N|all|auto",
        env = "REFRAIN_GPU_LAYERS"
    )]
    pub gpu_layers: Option<GpuLayers>,
    /// Model directories from the config file (the environment's REFRAIN_MODEL_DIRS is read
    /// where models are discovered).
    #[arg(skip)]
    pub model_dirs: Vec<PathBuf>,
    /// Generate on an OpenAI-compatible server: an endpoint named in the config file, or a URL
    /// (llama-server, vLLM, Ollama: `http://host:8080/v1`). `--model` then names the server's
    /// model [default: the first it lists].
    #[arg(
        long = "endpoint",
        global = true,
        value_name = "NAME|URL",
        env = "REFRAIN_ENDPOINT"
    )]
    pub endpoint_arg: Option<String>,
    /// The environment variable holding the endpoint's API key (the key itself never goes in
    /// flags, files, history or logs).
    #[arg(long, global = true, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// The endpoint resolved from `--endpoint` and the config (filled by `Cli::settle`).
    #[arg(skip)]
    pub endpoint: Option<crate::engine::remote::Endpoint>,
}

impl LoadArgs {
    pub fn to_options(&self) -> Result<LoadOptions, String> {
        if let Some(endpoint) = &self.endpoint {
            let mut options = LoadOptions::new(endpoint.public_url());
            options.remote = Some(endpoint.clone());
            return Ok(options);
        }
        let model_path = crate::paths::resolve_model(self.model.as_deref(), &self.model_dirs)?;
        Ok(LoadOptions {
            model_path,
            context_size: self.ctx_size.unwrap_or(LoadOptions::DEFAULT_CONTEXT_SIZE),
            threads: self.threads,
            batch_size: self.batch_size.unwrap_or(LoadOptions::DEFAULT_BATCH_SIZE),
            gpu_layers: self.gpu_layers.unwrap_or(GpuLayers::Count(0)),
            preflight: checker_preflight(),
            remote: None,
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

/// A seed: fixed, or a new random one each run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    Fixed(u32),
    Random,
}

impl Seed {
    pub fn fixed(self) -> Option<u32> {
        match self {
            Seed::Fixed(n) => Some(n),
            Seed::Random => None,
        }
    }
}

impl std::str::FromStr for Seed {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.eq_ignore_ascii_case("random") {
            return Ok(Seed::Random);
        }
        text.parse()
            .map(Seed::Fixed)
            .map_err(|_| format!("expected a seed from 0 to 4294967295 or 'random', got '{text}'"))
    }
}

/// Sampler flags, named as llama.cpp's users expect. Unset values come from `--preset`, then
/// the config file, then the defaults.
#[derive(Debug, Clone, Default, Args)]
pub struct SamplerArgs {
    /// Temperature; 0 is greedy [default: 0.8]
    #[arg(long, value_name = "T", env = "REFRAIN_TEMPERATURE")]
    pub temperature: Option<f32>,
    /// Keep the K most likely tokens; 0 disables [default: 40]
    #[arg(long, value_name = "K", env = "REFRAIN_TOP_K")]
    pub top_k: Option<i32>,
    /// Nucleus sampling: keep tokens up to cumulative probability P; 1 disables [default: 0.95]
    #[arg(long, value_name = "P", env = "REFRAIN_TOP_P")]
    pub top_p: Option<f32>,
    /// Drop tokens below P times the top token's probability; 0 disables [default: 0.05]
    #[arg(long, value_name = "P", env = "REFRAIN_MIN_P")]
    pub min_p: Option<f32>,
    /// Penalty for repeating recent tokens; 1 disables [default: 1]
    #[arg(long, value_name = "X", env = "REFRAIN_REPEAT_PENALTY")]
    pub repeat_penalty: Option<f32>,
    /// How many recent tokens the penalties look at [default: 64]
    #[arg(long, value_name = "N", env = "REFRAIN_REPEAT_LAST_N")]
    pub repeat_last_n: Option<i32>,
    /// Penalty for any token already present; 0 disables [default: 0]
    #[arg(long, value_name = "X", env = "REFRAIN_PRESENCE_PENALTY")]
    pub presence_penalty: Option<f32>,
    /// Penalty growing with how often a token appeared; 0 disables [default: 0]
    #[arg(long, value_name = "X", env = "REFRAIN_FREQUENCY_PENALTY")]
    pub frequency_penalty: Option<f32>,
    /// Random seed, or 'random' for a new one each run (reported in the stats) [default: random]
    #[arg(long, short = 's', value_name = "N|random", env = "REFRAIN_SEED")]
    pub seed: Option<Seed>,
    /// Most tokens to generate [default: 1024]
    #[arg(long, short = 'n', value_name = "N", env = "REFRAIN_MAX_TOKENS")]
    pub max_tokens: Option<u32>,
    /// Stop before this text (repeatable); it is never printed.
    #[arg(long, value_name = "TEXT")]
    pub stop: Vec<String>,
}

impl SamplerArgs {
    /// The values set here, as a layer.
    pub fn as_layer(&self) -> crate::config::SamplerConfig {
        crate::config::SamplerConfig {
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
            stop: (!self.stop.is_empty()).then(|| self.stop.clone()),
        }
    }

    /// Fills what is unset from a lower layer (a preset, the config file).
    pub fn fill_from(&mut self, lower: &crate::config::SamplerConfig) {
        let merged = self.as_layer().over(lower);
        self.temperature = merged.temperature;
        self.top_k = merged.top_k;
        self.top_p = merged.top_p;
        self.min_p = merged.min_p;
        self.repeat_penalty = merged.repeat_penalty;
        self.repeat_last_n = merged.repeat_last_n;
        self.presence_penalty = merged.presence_penalty;
        self.frequency_penalty = merged.frequency_penalty;
        self.seed = merged.seed;
        self.max_tokens = merged.max_tokens;
        self.stop = merged.stop.unwrap_or_default();
    }

    /// Full parameters: what is set here over the defaults.
    pub fn to_params(&self) -> SamplerParams {
        let mut params = SamplerParams::default();
        self.as_layer().apply(&mut params);
        params
    }
}

/// The prompt of a run or a sweep: text, or a prompt preset's template filled from `--var`.
#[derive(Debug, Args)]
pub struct PromptArgs {
    /// The prompt; '-' reads it from stdin. Optional with a prompt --preset, whose template
    /// is then filled from --var.
    #[arg(value_name = "PROMPT")]
    pub prompt: Option<String>,
    /// A value for a preset's {placeholder}: --var subject="autumn rain" (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// System prompt (chat mode).
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,
    /// Complete the prompt as raw text, without a chat template.
    #[arg(long, conflicts_with_all = ["system", "template"])]
    pub raw: bool,
    /// Use this built-in chat template instead of the model's (chatml, llama3, gemma, …).
    #[arg(long, value_name = "NAME")]
    pub template: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub input: PromptArgs,
    /// One JSON object per line: token events, then a final object with text, stop reason, stats.
    #[arg(long)]
    pub json: bool,
    /// Per-token probabilities and the K most likely alternatives (0–20): in --json as
    /// OpenAI-style `logprobs`, otherwise a table on stderr.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(0..=20))]
    pub logprobs: Option<u32>,
    /// Do not print stats to stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    #[command(flatten)]
    pub sampler: SamplerArgs,
}

#[derive(Debug, Args)]
pub struct ForkArgs {
    #[command(flatten)]
    pub input: PromptArgs,
    /// The token (0-based) to fork at; the tokens before it are kept.
    #[arg(long, value_name = "N")]
    pub at: u32,
    /// Which alternative goes there: its rank among the most likely (0 = the most likely)
    /// [default: the most likely one other than the token written].
    #[arg(long, value_name = "RANK")]
    pub alternative: Option<u32>,
    /// Alternatives to consider (and to report in --json).
    #[arg(long, value_name = "K", default_value_t = 5, value_parser = clap::value_parser!(u32).range(2..=20))]
    pub alternatives: u32,
    /// One JSON object: the fork point, both texts, their token probabilities and run ids.
    #[arg(long)]
    pub json: bool,
    /// Do not print the fork point and the parent's text to stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    #[command(flatten)]
    pub sampler: SamplerArgs,
}

/// `refrain sweep`: each list flag with two or more values is a dimension (one, or two as a
/// grid); a single value just sets it.
#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub input: PromptArgs,
    /// Temperatures, e.g. 0.3,0.8,1.3.
    #[arg(long, value_name = "LIST")]
    pub temperature: Option<String>,
    /// Seeds, e.g. 1,2 [default: one random seed shared by every variant].
    #[arg(long, alias = "seed", value_name = "LIST")]
    pub seeds: Option<String>,
    /// Top-p values.
    #[arg(long, value_name = "LIST")]
    pub top_p: Option<String>,
    /// Min-p values.
    #[arg(long, value_name = "LIST")]
    pub min_p: Option<String>,
    /// Top-k values.
    #[arg(long, value_name = "LIST")]
    pub top_k: Option<String>,
    /// Most tokens each variant generates.
    #[arg(long, short = 'n', value_name = "N")]
    pub max_tokens: Option<u32>,
    /// Penalty for repeating recent tokens; 1 disables.
    #[arg(long, value_name = "X")]
    pub repeat_penalty: Option<f32>,
    /// Stop before this text (repeatable).
    #[arg(long, value_name = "TEXT")]
    pub stop: Vec<String>,
    /// One JSON object per variant (text, parameters, stats, metrics), then a summary object.
    #[arg(long)]
    pub json: bool,
    /// Do not print progress and the summary to stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(name, value)| (name.trim().to_owned(), value.to_owned()))
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| format!("expected NAME=VALUE, got '{text}'"))
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
    #[arg(long, conflicts_with = "sweep")]
    pub ui: bool,
    /// Instead: an N-way sweep (temperatures 0.6…1.2, one seed) against the same N variants
    /// run one after another, each generating --n-gen tokens.
    #[arg(long, value_name = "N", conflicts_with = "inspector")]
    pub sweep: Option<usize>,
    /// Instead: generation with the token inspector on (5 alternatives) against without it,
    /// same prompt and seed.
    #[arg(long)]
    pub inspector: bool,
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
    let (engine, mut events) = match &load.remote {
        Some(endpoint) => EngineHandle::spawn_remote(endpoint.clone()),
        None => EngineHandle::spawn(),
    };
    let id = engine.load(load.clone());
    let info = wait_for_load(&mut events, id)?;
    Ok((engine, events, info))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
