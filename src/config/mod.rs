//! The config file: typed, strict, and merged under the command line.
//!
//! Precedence, highest first: command-line flags, `REFRAIN_*` environment variables (both
//! parsed by clap into `Option`s), a preset chosen with `--preset`, the config file, and the
//! built-in defaults. [`Config::apply_to`] fills only what the flags and environment left
//! unset, so the order holds by construction.

pub mod presets;
mod values;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::analysis::SentimentMethod;
use crate::engine::GpuLayers;
use crate::tui::keymap::{Action, Key};
use crate::tui::theme::ThemeName;

/// The documented default config, written by `refrain config init`. Every setting in it is
/// commented out, so the file only changes what its owner uncomments.
pub const DEFAULT_CONFIG: &str = include_str!("../../assets/config.toml");

/// The whole file. Every value is optional: what is absent falls through to the defaults.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub model: ModelConfig,
    #[serde(default)]
    pub sampler: SamplerConfig,
    #[serde(default)]
    pub studio: StudioConfig,
    #[serde(default)]
    pub history: HistoryConfig,
    /// Action name → the keys that replace its default keys.
    #[serde(default)]
    pub keys: BTreeMap<Action, Vec<Key>>,
    /// Named OpenAI-compatible servers (`--endpoint NAME`).
    #[serde(default)]
    pub endpoints: BTreeMap<String, EndpointConfig>,
}

/// A server refrain can generate on instead of the local engine.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointConfig {
    /// The server's root or its `/v1`: `http://gpu-box:8000/v1`.
    pub url: String,
    /// The model id to use [default: the first the server lists].
    pub model: Option<String>,
    /// The NAME of the environment variable holding the API key — never the key itself.
    pub api_key_env: Option<String>,
    /// Seconds of silence from the server before giving up [default: 60].
    #[serde(default, deserialize_with = "values::timeout")]
    pub timeout: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// A path, or a name `refrain models` lists.
    pub default: Option<PathBuf>,
    /// Scanned for models besides the standard places.
    #[serde(default)]
    pub dirs: Vec<PathBuf>,
    #[serde(default, deserialize_with = "values::context_size")]
    pub context_size: Option<u32>,
    #[serde(default, deserialize_with = "values::threads")]
    pub threads: Option<u32>,
    #[serde(default, deserialize_with = "values::batch_size")]
    pub batch_size: Option<u32>,
    #[serde(default, deserialize_with = "values::gpu_layers")]
    pub gpu_layers: Option<GpuLayers>,
}

/// Sampler values; also the `[sampler]` table of a preset.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplerConfig {
    #[serde(default, deserialize_with = "values::temperature")]
    pub temperature: Option<f32>,
    #[serde(default, deserialize_with = "values::top_k")]
    pub top_k: Option<i32>,
    #[serde(default, deserialize_with = "values::top_p")]
    pub top_p: Option<f32>,
    #[serde(default, deserialize_with = "values::min_p")]
    pub min_p: Option<f32>,
    #[serde(default, deserialize_with = "values::repeat_penalty")]
    pub repeat_penalty: Option<f32>,
    #[serde(default, deserialize_with = "values::repeat_last_n")]
    pub repeat_last_n: Option<i32>,
    #[serde(default, deserialize_with = "values::penalty")]
    pub presence_penalty: Option<f32>,
    #[serde(default, deserialize_with = "values::penalty")]
    pub frequency_penalty: Option<f32>,
    #[serde(default, deserialize_with = "values::seed")]
    pub seed: Option<crate::cli::Seed>,
    #[serde(default, deserialize_with = "values::max_tokens")]
    pub max_tokens: Option<u32>,
    pub stop: Option<Vec<String>>,
}

impl SamplerConfig {
    /// `self`'s values where set, else `lower`'s.
    pub fn over(&self, lower: &SamplerConfig) -> SamplerConfig {
        SamplerConfig {
            temperature: self.temperature.or(lower.temperature),
            top_k: self.top_k.or(lower.top_k),
            top_p: self.top_p.or(lower.top_p),
            min_p: self.min_p.or(lower.min_p),
            repeat_penalty: self.repeat_penalty.or(lower.repeat_penalty),
            repeat_last_n: self.repeat_last_n.or(lower.repeat_last_n),
            presence_penalty: self.presence_penalty.or(lower.presence_penalty),
            frequency_penalty: self.frequency_penalty.or(lower.frequency_penalty),
            seed: self.seed.or(lower.seed),
            max_tokens: self.max_tokens.or(lower.max_tokens),
            stop: self.stop.clone().or_else(|| lower.stop.clone()),
        }
    }

    /// Applies the values that are set onto full sampler parameters.
    pub fn apply(&self, params: &mut crate::engine::SamplerParams) {
        let merged = self.over(&SamplerConfig::default());
        macro_rules! set {
            ($($field:ident),*) => { $( if let Some(v) = merged.$field { params.$field = v; } )* };
        }
        set!(
            temperature,
            top_k,
            top_p,
            min_p,
            repeat_penalty,
            repeat_last_n,
            presence_penalty,
            frequency_penalty,
            max_tokens
        );
        if let Some(seed) = merged.seed {
            params.seed = seed.fixed();
        }
        if let Some(stop) = merged.stop {
            params.stop = stop;
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudioConfig {
    pub theme: Option<ThemeName>,
    #[serde(default, deserialize_with = "values::from_str_opt")]
    pub sentiment: Option<SentimentMethod>,
    pub mouse: Option<bool>,
    /// A built-in chat template name overriding the model's.
    pub template: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryConfig {
    pub enabled: Option<bool>,
}

/// Where the config file is: `REFRAIN_CONFIG`, else `config.toml` in the platform config dir
/// (`~/.config/refrain/` on Linux, `~/Library/Application Support/refrain/` on macOS).
pub fn default_path() -> Option<PathBuf> {
    std::env::var_os("REFRAIN_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| crate::paths::config_dir().map(|dir| dir.join("config.toml")))
}

/// A config file that could not be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based; 0 when the error has no position (an unreadable file).
    pub line: usize,
    pub column: usize,
    /// The dotted key the error is about, e.g. `sampler.temperature`, when known.
    pub key: Option<String>,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "config file {}", self.path.display())?;
        if self.line > 0 {
            write!(f, ", line {}, column {}", self.line, self.column)?;
        }
        if let Some(key) = &self.key {
            write!(f, ", key `{key}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// A parsed config and the file it came from (`None`: no file, the defaults).
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub config: Config,
    pub path: Option<PathBuf>,
}

/// Reads the config at `path`, or at [`default_path`] when `None`. A missing file at the
/// default place is no error (the defaults apply); a missing file named explicitly is.
pub fn load(explicit: Option<&Path>) -> Result<Loaded, ConfigError> {
    let Some(path) = explicit.map(Path::to_path_buf).or_else(default_path) else {
        return Ok(Loaded::default());
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        // At the default place, a file we cannot even see (no such file, or a directory we may
        // not enter, as for another user's home) means no config; one we see but cannot read
        // is an error.
        Err(_) if explicit.is_none() && std::fs::metadata(&path).is_err() => {
            return Ok(Loaded::default())
        }
        Err(error) => {
            return Err(ConfigError {
                path,
                line: 0,
                column: 0,
                key: None,
                message: format!("cannot read it: {error}"),
            })
        }
    };
    let mut config = parse(&text, &path)?;
    let base = path.parent().unwrap_or(Path::new("."));
    config.resolve_paths(base);
    Ok(Loaded {
        config,
        path: Some(path),
    })
}

/// Parses config text; `path` only names the file in errors.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let config: Config = toml::from_str(text).map_err(|error| located(text, path, &error))?;
    config.check_keys().map_err(|error| {
        let (line, column) = key_line(text, "keys", &error.action.name()).unwrap_or((0, 0));
        ConfigError {
            path: path.to_path_buf(),
            line,
            column,
            key: Some(format!("keys.{}", error.action.name())),
            message: error.message,
        }
    })?;
    Ok(config)
}

/// Turns a toml error into file, line, column and key.
pub(crate) fn located(text: &str, path: &Path, error: &toml::de::Error) -> ConfigError {
    let (line, column, key) = match error.span() {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            (line, column, key_at(text, span.start))
        }
        None => (0, 0, None),
    };
    ConfigError {
        path: path.to_path_buf(),
        line,
        column,
        key,
        message: error.message().trim().to_owned(),
    }
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The dotted key at byte `offset`: the table header above it plus the key on its line.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = &text[line_start..line_end];
    let trimmed = line.trim_start();
    if trimmed.starts_with('[') {
        // A table header itself (an unknown section).
        return Some(
            trimmed
                .trim_matches(|c| c == '[' || c == ']' || c == ' ')
                .to_owned(),
        );
    }
    let key = match line.find('=') {
        Some(eq) => line[..eq].trim(),
        // A value continuing an array from an earlier line: that line's key.
        None => return key_at(text, line_start.saturating_sub(1)).filter(|_| line_start > 0),
    };
    let key = key.trim_matches('"');
    if key.is_empty() {
        return None;
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && !l.starts_with("[["))
        .map(|l| {
            l.trim_matches(|c| c == '[' || c == ']' || c == ' ')
                .to_owned()
        });
    Some(match table {
        Some(table) => format!("{table}.{key}"),
        None => key.to_owned(),
    })
}

/// Where `key = …` is written inside `[table]`: 1-based line and column.
fn key_line(text: &str, table: &str, key: &str) -> Option<(usize, usize)> {
    let mut in_table = false;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_table = trimmed.trim_matches(|c| c == '[' || c == ']' || c == ' ') == table;
            continue;
        }
        let written = trimmed
            .split_once('=')
            .map(|(k, _)| k.trim().trim_matches('"'));
        if in_table && written == Some(key) {
            let column = line.len() - line.trim_start().len() + 1;
            return Some((index + 1, column));
        }
    }
    None
}

impl Config {
    /// Paths in the file are relative to the file's directory; `~/` is the home directory.
    fn resolve_paths(&mut self, base: &Path) {
        let resolve = |p: &Path| -> PathBuf {
            let expanded = crate::paths::expand_home(p);
            if expanded.is_absolute() {
                expanded
            } else {
                base.join(expanded)
            }
        };
        for dir in &mut self.model.dirs {
            *dir = resolve(dir);
        }
        if let Some(model) = &self.model.default {
            // A bare word is a model name, not a path.
            let is_name = model.components().count() == 1
                && model
                    .extension()
                    .is_none_or(|e| !e.eq_ignore_ascii_case("gguf"));
            if !is_name {
                self.model.default = Some(resolve(model));
            }
        }
    }

    /// No key may end up on two actions that apply in the same place.
    fn check_keys(&self) -> Result<(), crate::tui::keymap::KeymapError> {
        crate::tui::keymap::Keymap::with_overrides(&self.keys).map(drop)
    }

    /// The endpoint `spec` names: a URL, or a name in `[endpoints]`. Flags (`--model`,
    /// `--api-key-env`) override the named endpoint's values.
    pub fn endpoint(
        &self,
        spec: &str,
        model: Option<&PathBuf>,
        api_key_env: Option<&str>,
    ) -> Result<crate::engine::remote::Endpoint, String> {
        use crate::engine::remote::Endpoint;
        let model = model.map(|m| m.to_string_lossy().into_owned());
        let default_timeout = std::time::Duration::from_secs(60);
        if spec.starts_with("http://") || spec.starts_with("https://") {
            return Endpoint::new(spec, spec, model, api_key_env, default_timeout);
        }
        let Some(config) = self.endpoints.get(spec) else {
            let names: Vec<&str> = self.endpoints.keys().map(String::as_str).collect();
            return Err(if names.is_empty() {
                format!("no endpoint named '{spec}': give a URL, or add [endpoints.{spec}] with a url to the config file")
            } else {
                format!(
                    "no endpoint named '{spec}' in the config; there are: {}",
                    names.join(", ")
                )
            });
        };
        Endpoint::new(
            spec,
            &config.url,
            model.or_else(|| config.model.clone()),
            api_key_env.or(config.api_key_env.as_deref()),
            config
                .timeout
                .map(|s| std::time::Duration::from_secs(u64::from(s)))
                .unwrap_or(default_timeout),
        )
    }

    /// Fills the load, sampler and template values the command line and environment left
    /// unset. (Switches such as history and mouse are merged in [`crate::cli::Cli::settle`].)
    pub fn apply_to(&self, cli: &mut crate::cli::Cli) {
        self.apply_to_load(&mut cli.load);
        self.apply_to_sampler(&mut cli.sampler);
        if let Some(command) = &mut cli.command {
            if let Some(sampler) = command.sampler_mut() {
                self.apply_to_sampler(sampler);
            }
            if let Some(input) = command.prompt_mut() {
                if input.template.is_none() && !input.raw {
                    input.template = self.studio.template.clone();
                }
            }
        }
        if cli.template.is_none() {
            cli.template = self.studio.template.clone();
        }
    }

    pub fn apply_to_load(&self, load: &mut crate::cli::LoadArgs) {
        let model = &self.model;
        load.model = load.model.take().or_else(|| model.default.clone());
        load.ctx_size = load.ctx_size.or(model.context_size);
        load.threads = load.threads.or(model.threads);
        load.batch_size = load.batch_size.or(model.batch_size);
        load.gpu_layers = load.gpu_layers.or(model.gpu_layers);
        load.model_dirs.extend(model.dirs.iter().cloned());
    }

    pub fn apply_to_sampler(&self, sampler: &mut crate::cli::SamplerArgs) {
        sampler.fill_from(&self.sampler);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `# key = value` line of the shipped config, uncommented.
    fn uncommented_default() -> String {
        DEFAULT_CONFIG
            .lines()
            .map(|line| {
                let rest = line.strip_prefix("# ").unwrap_or(line);
                let is_setting = rest.split_once(" = ").is_some_and(|(key, _)| {
                    key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                }) || (rest.starts_with('[') && rest.ends_with(']'));
                if is_setting && line.starts_with("# ") {
                    rest.to_owned()
                } else {
                    line.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn shipped_config_parses_and_changes_nothing() {
        let config = parse(DEFAULT_CONFIG, Path::new("config.toml")).unwrap();
        assert_eq!(config, Config::default());
    }

    #[test]
    fn shipped_config_documents_the_real_defaults() {
        let text = uncommented_default();
        let config = parse(&text, Path::new("config.toml")).unwrap();
        let mut params = crate::engine::SamplerParams::default();
        let before = params.clone();
        config.sampler.apply(&mut params);
        assert_eq!(
            params, before,
            "the documented sampler values are the defaults"
        );
        assert_eq!(
            config.model.context_size,
            Some(crate::engine::LoadOptions::DEFAULT_CONTEXT_SIZE)
        );
        assert_eq!(
            config.model.batch_size,
            Some(crate::engine::LoadOptions::DEFAULT_BATCH_SIZE)
        );
        assert_eq!(config.model.gpu_layers, Some(GpuLayers::Count(0)));
        assert_eq!(config.studio.sentiment, Some(SentimentMethod::Both));
        assert_eq!(config.history.enabled, Some(true));
        // The documented keys are the default keys.
        let keymap = crate::tui::keymap::Keymap::with_overrides(&config.keys).unwrap();
        assert_eq!(keymap, crate::tui::keymap::Keymap::default());
        let mut actions: Vec<_> = keymap.bindings().iter().map(|b| b.action).collect();
        actions.sort();
        actions.dedup();
        assert_eq!(
            config.keys.len(),
            actions.len(),
            "the shipped config documents every action's keys"
        );
    }

    #[test]
    fn errors_name_line_column_and_key() {
        let text = "[sampler]\ntemperature = 0.7\ntop_p = \"high\"\n";
        let error = parse(text, Path::new("c.toml")).unwrap_err();
        assert_eq!((error.line, error.column), (3, 9));
        assert_eq!(error.key.as_deref(), Some("sampler.top_p"));

        let error = parse("[sampler]\ntemprature = 1\n", Path::new("c.toml")).unwrap_err();
        assert_eq!((error.line, error.column), (2, 1));
        assert_eq!(error.key.as_deref(), Some("sampler.temprature"));
        assert!(error.message.contains("unknown field"), "{}", error.message);
    }

    #[test]
    fn relative_paths_are_relative_to_the_file() {
        let mut config = parse(
            "[model]\ndefault = \"weights/a.gguf\"\ndirs = [\"/abs\", \"rel\"]\n",
            Path::new("x"),
        )
        .unwrap();
        config.resolve_paths(Path::new("/etc/refrain"));
        assert_eq!(
            config.model.default.as_deref(),
            Some(Path::new("/etc/refrain/weights/a.gguf"))
        );
        assert_eq!(
            config.model.dirs,
            vec![PathBuf::from("/abs"), PathBuf::from("/etc/refrain/rel")]
        );
        let mut named = parse("[model]\ndefault = \"smollm2\"\n", Path::new("x")).unwrap();
        named.resolve_paths(Path::new("/etc/refrain"));
        assert_eq!(named.model.default.as_deref(), Some(Path::new("smollm2")));
    }
}
