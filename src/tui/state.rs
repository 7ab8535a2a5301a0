//! Everything the studio shows. Only `update` changes it; panes read it.

use std::time::Duration;

use ratatui::style::{Modifier, Style};
use ratatui_textarea::{TextArea, WrapMode};

use super::controls::Controls;
use super::history::HistoryView;
use super::output::OutputView;
use super::sentiment::SentimentView;
use super::theme::Theme;
use crate::engine::{
    GenerateRequest, LoadOptions, ModelInfo, RequestId, SamplerParams, StopReason,
};

/// Which pane takes the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Prompt,
    System,
    Controls,
    Output,
}

impl Focus {
    pub const ORDER: [Focus; 4] = [Focus::Prompt, Focus::System, Focus::Controls, Focus::Output];

    pub fn next(self) -> Self {
        let i = Self::ORDER.iter().position(|f| *f == self).unwrap_or(0);
        Self::ORDER[(i + 1) % Self::ORDER.len()]
    }

    pub fn previous(self) -> Self {
        let i = Self::ORDER.iter().position(|f| *f == self).unwrap_or(0);
        Self::ORDER[(i + Self::ORDER.len() - 1) % Self::ORDER.len()]
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ModelState {
    /// No model to load (none found); the message says how to get one.
    Missing(String),
    Loading {
        id: Option<RequestId>,
        name: String,
        fraction: f32,
    },
    Ready(Box<ModelInfo>),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    Idle,
    /// Asked for; the engine has not given it an id yet.
    Requested,
    Generating {
        id: RequestId,
        prompt_tokens: u32,
        context_size: u32,
        seed: Option<u32>,
        generated: u32,
        /// Since the first token.
        elapsed: Duration,
        time_to_first_token: Option<Duration>,
        cancelling: bool,
    },
}

impl RunState {
    pub fn id(&self) -> Option<RequestId> {
        match self {
            RunState::Generating { id, .. } => Some(*id),
            _ => None,
        }
    }

    pub fn is_busy(&self) -> bool {
        !matches!(self, RunState::Idle)
    }
}

/// What the status bar keeps showing about the last finished run.
#[derive(Debug, Clone, PartialEq)]
pub struct LastRun {
    pub stop_reason: StopReason,
    pub time_to_first_token: Duration,
    pub tokens_per_second: f64,
    pub generated: u32,
    pub context_used: u32,
    pub context_size: u32,
    pub seed: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub text: String,
}

/// The prompt preset last applied, whose blanks a send checks for.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivePreset {
    pub name: String,
    pub blanks: Vec<String>,
    /// The user was told about blanks once; the next send goes ahead.
    pub warned: bool,
}

pub struct State {
    pub focus: Focus,
    pub prompt: TextArea<'static>,
    pub system: TextArea<'static>,
    pub controls: Controls,
    pub output: OutputView,
    pub sentiment: SentimentView,
    pub history: HistoryView,
    pub model: ModelState,
    pub run: RunState,
    pub last_run: Option<LastRun>,
    pub load_options: Option<LoadOptions>,
    /// The last prompt sent, for regenerate.
    pub last_request: Option<GenerateRequest>,
    pub template: Option<String>,
    pub help_open: bool,
    pub mouse_enabled: bool,
    pub notice: Option<Notice>,
    /// Terminal size in cells.
    pub size: (u16, u16),
    pub theme: Theme,
    /// The keys in effect (defaults with the config file's overrides).
    pub keymap: super::keymap::Keymap,
    /// The open preset or model picker.
    pub picker: Option<super::picker::Picker>,
    /// Every preset (built-in and the user's), loaded at start.
    pub presets: Vec<crate::config::presets::Preset>,
    pub active_preset: Option<ActivePreset>,
    /// The sampler values the session started with; presets apply over these.
    pub base_sampler: SamplerParams,
    /// Extra directories the model picker scans (config and flags).
    pub model_dirs: Vec<std::path::PathBuf>,
    /// The sweep on screen (running or done), in place of the output and sentiment panes.
    pub sweep: Option<super::sweep::SweepView>,
    /// The prompt the sweep on screen was sent with.
    pub sweep_prompt: Option<crate::engine::Prompt>,
    /// The sweep editor popup, when open; the last one run, to reopen it as it was.
    pub sweep_editor: Option<super::sweep::SweepEditor>,
    pub last_sweep_editor: Option<super::sweep::SweepEditor>,
    /// The seed a sweep shares when the controls' seed is random.
    pub next_seed: u32,
    /// Token probabilities of the response on screen, heat colouring, inspect cursor.
    pub inspector: super::inspector::InspectorView,
    /// The history id of the run on screen, when known (a fork links to it).
    pub shown_run_id: Option<i64>,
    /// Configured servers: (name, url, the endpoint or why it is unusable).
    pub endpoints: Vec<(
        String,
        String,
        Result<crate::engine::remote::Endpoint, String>,
    )>,
    /// A fork just sent: its parent run and token index, linked once it is recorded.
    pub pending_fork: Option<(Option<i64>, u32)>,
    pub quit: bool,
}

impl State {
    pub fn new(sampler: SamplerParams, theme: Theme) -> Self {
        let mut state = Self {
            focus: Focus::Prompt,
            prompt: editor("Type a prompt (Enter: new line)", &theme),
            system: editor("Optional system prompt", &theme),
            base_sampler: sampler.clone(),
            controls: Controls::new(sampler),
            output: OutputView::default(),
            sentiment: SentimentView::default(),
            history: HistoryView::default(),
            model: ModelState::Missing(String::new()),
            run: RunState::Idle,
            last_run: None,
            load_options: None,
            last_request: None,
            template: None,
            help_open: false,
            mouse_enabled: false,
            notice: None,
            size: (80, 24),
            theme,
            keymap: super::keymap::Keymap::default(),
            picker: None,
            presets: crate::config::presets::built_in(),
            active_preset: None,
            model_dirs: Vec::new(),
            sweep: None,
            sweep_prompt: None,
            sweep_editor: None,
            last_sweep_editor: None,
            next_seed: 42,
            inspector: Default::default(),
            shown_run_id: None,
            pending_fork: None,
            endpoints: Vec::new(),
            quit: false,
        };
        state.refresh_editor_cursors();
        state
    }

    /// Only the focused editor shows a cursor.
    pub fn refresh_editor_cursors(&mut self) {
        let visible = Style::default().add_modifier(Modifier::REVERSED);
        let hidden = Style::default();
        let (prompt, system) = match self.focus {
            Focus::Prompt => (visible, hidden),
            Focus::System => (hidden, visible),
            _ => (hidden, hidden),
        };
        self.prompt.set_cursor_style(prompt);
        self.system.set_cursor_style(system);
    }

    pub fn set_notice(&mut self, kind: NoticeKind, text: impl Into<String>) {
        self.notice = Some(Notice {
            kind,
            text: text.into(),
        });
    }

    /// Live tokens per second of the run in progress.
    pub fn live_tokens_per_second(&self) -> Option<f64> {
        match &self.run {
            RunState::Generating {
                generated, elapsed, ..
            } if *generated > 1 && !elapsed.is_zero() => {
                Some(f64::from(*generated - 1) / elapsed.as_secs_f64())
            }
            _ => None,
        }
    }
}

fn editor(placeholder: &str, theme: &Theme) -> TextArea<'static> {
    let mut area = TextArea::default();
    area.set_wrap_mode(WrapMode::WordOrGlyph);
    area.set_placeholder_text(placeholder);
    area.set_placeholder_style(theme.muted());
    area.set_cursor_line_style(Style::default());
    area.set_max_histories(200);
    area
}
