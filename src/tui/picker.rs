//! The preset and model pickers: one popup list with a fuzzy filter, and what each entry
//! shows beside it. State only; `picker_update` changes it and `panes::picker` draws it.

use std::path::PathBuf;

use crate::config::presets::Preset;
use crate::models::discover::FoundModel;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerKind {
    Presets,
    Models,
}

impl PickerKind {
    pub fn title(self) -> &'static str {
        match self {
            PickerKind::Presets => "Presets",
            PickerKind::Models => "Models",
        }
    }
}

/// What choosing an entry does.
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    Preset(Box<Preset>),
    Model(PathBuf),
    /// A model on an OpenAI-compatible server.
    Remote(Box<crate::engine::remote::Endpoint>),
    /// Listed so it is not hidden, but it cannot be loaded: the reason.
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The name the filter matches and the list shows.
    pub name: String,
    /// The group heading it belongs to ("Sampler", "Prompt forms", "Hugging Face", …).
    pub group: String,
    /// One line beside the name (quantisation and size; a preset's description).
    pub summary: String,
    /// Label/value lines for the detail panel.
    pub details: Vec<(String, String)>,
    /// A longer text under the details (a preset's templates).
    pub preview: String,
    pub choice: Choice,
    /// Marked as in use (the loaded model).
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Picker {
    pub kind: PickerKind,
    pub query: String,
    pub entries: Vec<Entry>,
    /// Indices into `entries` that match the query, best first.
    pub visible: Vec<usize>,
    /// Index into `visible`.
    pub selected: usize,
    /// Models are still being looked for.
    pub searching: bool,
}

impl Picker {
    pub fn new(kind: PickerKind, entries: Vec<Entry>) -> Self {
        let mut picker = Self {
            kind,
            query: String::new(),
            entries,
            visible: Vec::new(),
            selected: 0,
            searching: false,
        };
        picker.refilter();
        picker
    }

    /// A model picker waiting for discovery.
    pub fn searching_models() -> Self {
        let mut picker = Self::new(PickerKind::Models, Vec::new());
        picker.searching = true;
        picker
    }

    /// More entries (the servers, after the local models).
    pub fn add_entries(&mut self, entries: Vec<Entry>) {
        let query = std::mem::take(&mut self.query);
        let selected = self.selected;
        self.entries.extend(entries);
        self.query = query;
        self.refilter();
        self.selected = selected.min(self.visible.len().saturating_sub(1));
    }

    pub fn set_entries(&mut self, entries: Vec<Entry>) {
        self.entries = entries;
        self.searching = false;
        self.refilter();
        // Start on the model in use, when the filter is empty.
        if self.query.is_empty() {
            if let Some(at) = self.visible.iter().position(|&i| self.entries[i].current) {
                self.selected = at;
            }
        }
    }

    /// Re-ranks after the query changed; the selection goes to the best match.
    pub fn refilter(&mut self) {
        self.visible =
            super::fuzzy::rank(&self.query, self.entries.iter().map(|e| e.name.as_str()));
        self.selected = 0;
    }

    pub fn selected_entry(&self) -> Option<&Entry> {
        self.visible
            .get(self.selected)
            .and_then(|&i| self.entries.get(i))
    }

    pub fn move_selection(&mut self, delta: isize) {
        if self.visible.is_empty() {
            return;
        }
        let last = self.visible.len() - 1;
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }
}

/// Picker entries for presets.
pub fn preset_entries(presets: &[Preset]) -> Vec<Entry> {
    presets
        .iter()
        .map(|preset| {
            let mut details = Vec::new();
            if let Some(language) = &preset.language {
                details.push(("language".to_owned(), language.clone()));
            }
            let blanks = preset.placeholders();
            if !blanks.is_empty() {
                let listed: Vec<String> = blanks.iter().map(|b| format!("{{{b}}}")).collect();
                details.push(("fill in".to_owned(), listed.join(" ")));
            }
            details.extend(sampler_details(&preset.sampler));
            if let Some(file) = &preset.file {
                details.push(("file".to_owned(), file.display().to_string()));
            }
            let mut preview = String::new();
            if let Some(system) = &preset.system {
                preview.push_str(&format!("System: {system}\n\n"));
            }
            if let Some(prompt) = &preset.prompt {
                preview.push_str(prompt);
            }
            Entry {
                name: preset.name.clone(),
                group: if preset.is_prompt() {
                    "Prompt forms"
                } else {
                    "Sampler settings"
                }
                .to_owned(),
                summary: preset.description.clone(),
                details,
                preview,
                choice: Choice::Preset(Box::new(preset.clone())),
                current: false,
            }
        })
        .collect()
}

fn sampler_details(sampler: &crate::config::SamplerConfig) -> Vec<(String, String)> {
    let mut values = Vec::new();
    let mut add = |label: &str, value: Option<String>| {
        if let Some(value) = value {
            values.push(format!("{label} {value}"));
        }
    };
    add("temp", sampler.temperature.map(|v| format!("{v}")));
    add("top-k", sampler.top_k.map(|v| v.to_string()));
    add("top-p", sampler.top_p.map(|v| format!("{v}")));
    add("min-p", sampler.min_p.map(|v| format!("{v}")));
    add("repeat", sampler.repeat_penalty.map(|v| format!("{v}")));
    add("max", sampler.max_tokens.map(|v| v.to_string()));
    if values.is_empty() {
        Vec::new()
    } else {
        vec![("sampler".to_owned(), values.join(" · "))]
    }
}

/// What one configured server offers, as discovery found it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerModels {
    pub name: String,
    pub url: String,
    /// The endpoint (with its key), or why it cannot be used (a missing key variable).
    pub endpoint: Result<crate::engine::remote::Endpoint, String>,
    /// Its model ids, or why they could not be listed.
    pub models: Result<Vec<String>, String>,
}

/// Picker entries for servers: one per model, or one saying why the server is unusable.
pub fn server_entries(
    servers: &[ServerModels],
    current: Option<&crate::engine::remote::Endpoint>,
) -> Vec<Entry> {
    let mut entries = Vec::new();
    for server in servers {
        let group = "Servers (OpenAI-compatible)".to_owned();
        let problem = match (&server.endpoint, &server.models) {
            (Err(why), _) | (_, Err(why)) => Some(why.clone()),
            _ => None,
        };
        if let Some(why) = problem {
            entries.push(Entry {
                name: server.name.clone(),
                group,
                summary: format!("unavailable: {why}"),
                details: vec![
                    ("url".to_owned(), server.url.clone()),
                    ("unavailable".to_owned(), why.clone()),
                ],
                preview: String::new(),
                choice: Choice::Invalid(why),
                current: false,
            });
            continue;
        }
        let (Ok(endpoint), Ok(models)) = (&server.endpoint, &server.models) else {
            continue;
        };
        for model in models {
            let mut chosen = endpoint.clone();
            chosen.model = Some(model.clone());
            let is_current = current.is_some_and(|c| {
                c.base_url == chosen.base_url && c.model.as_deref() == Some(model.as_str())
            });
            entries.push(Entry {
                name: format!("{}: {model}", server.name),
                group: group.clone(),
                summary: server.url.clone(),
                details: vec![
                    ("server".to_owned(), server.name.clone()),
                    ("url".to_owned(), server.url.clone()),
                    ("model".to_owned(), model.clone()),
                    (
                        "note".to_owned(),
                        "generates on the server; model sentiment and forking need a local model"
                            .to_owned(),
                    ),
                ],
                preview: String::new(),
                choice: Choice::Remote(Box::new(chosen)),
                current: is_current,
            });
        }
    }
    entries
}

/// Picker entries for discovered models, grouped by where they were found (in the order the
/// places are scanned); `current` marks the loaded one.
pub fn model_entries(found: &[FoundModel], current: Option<&std::path::Path>) -> Vec<Entry> {
    let mut groups: Vec<&str> = Vec::new();
    for model in found {
        if !groups.contains(&model.source.kind) {
            groups.push(model.source.kind);
        }
    }
    let mut ordered: Vec<&FoundModel> = found.iter().collect();
    ordered.sort_by_key(|m| groups.iter().position(|g| *g == m.source.kind));
    ordered
        .into_iter()
        .map(|model| {
            let size = crate::models::human_bytes(model.size);
            let mut details = vec![
                ("found in".to_owned(), model.source.kind.to_owned()),
                ("path".to_owned(), model.path.display().to_string()),
                ("size".to_owned(), size.clone()),
            ];
            if model.parts > 1 {
                details.push(("parts".to_owned(), model.parts.to_string()));
            }
            let (summary, choice) = match &model.summary {
                Ok(summary) => {
                    let quant = summary.quantization.clone().unwrap_or_else(|| "?".into());
                    let arch = summary.architecture.clone().unwrap_or_else(|| "?".into());
                    details.push(("architecture".to_owned(), arch.clone()));
                    details.push((
                        "parameters".to_owned(),
                        crate::models::human_count(summary.parameters),
                    ));
                    details.push(("quantisation".to_owned(), quant.clone()));
                    if let Some(context) = summary.context_length {
                        details.push(("trained context".to_owned(), context.to_string()));
                    }
                    if let Some(layers) = summary.layers {
                        details.push(("layers".to_owned(), layers.to_string()));
                    }
                    details.push((
                        "chat template".to_owned(),
                        if summary.has_chat_template {
                            "yes"
                        } else {
                            "no"
                        }
                        .to_owned(),
                    ));
                    (
                        format!(
                            "{arch} {} {quant} {size}",
                            crate::models::human_count(summary.parameters)
                        ),
                        Choice::Model(model.path.clone()),
                    )
                }
                Err(why) => {
                    details.push(("invalid".to_owned(), why.clone()));
                    (format!("invalid: {why}"), Choice::Invalid(why.clone()))
                }
            };
            Entry {
                name: model.name.clone(),
                group: model.source.kind.to_owned(),
                summary,
                details,
                preview: String::new(),
                choice,
                current: current.is_some_and(|p| p == model.path),
            }
        })
        .collect()
}
