//! The studio's one place of change: `update(&mut State, Msg) -> Vec<Effect>`. Pure: no I/O,
//! no terminal, no engine calls; the runtime carries out the effects.

use std::time::Duration;

use ratatui::crossterm::event::{KeyEvent, KeyEventKind, MouseEvent, MouseEventKind};

use super::keymap::{Action, Scope};
use super::layout;
use super::sentiment::ModelReadout;
use super::state::{Focus, LastRun, ModelState, NoticeKind, RunState, State};
use super::{history_update, inspector_update, picker_update, sweep_update};
use crate::engine::{EngineEvent, GenerateRequest, LoadOptions, Prompt, RequestId, StopReason};
use crate::store::worker::{HistoryCommand, HistoryEvent};
use crate::store::{NewRun, RunStatus};

/// Everything that can happen to the studio.
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(KeyEvent),
    Paste(String),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Engine(EngineEvent),
    /// The engine accepted a generation under this id.
    GenerationSent(RequestId),
    /// The engine accepted a load under this id.
    LoadSent(RequestId),
    /// The engine accepted a sweep under this id.
    SweepSent(RequestId),
    /// The engine accepted a sentiment classification under this id.
    ClassifySent(RequestId),
    /// Something from the history thread.
    History(HistoryEvent),
    /// Model discovery (for the model picker) finished.
    ModelsFound(Vec<crate::models::discover::FoundModel>),
    /// The configured servers' models (for the model picker).
    ServersFound(Vec<super::picker::ServerModels>),
    /// SIGTERM or SIGHUP: leave now, cleanly.
    Terminate,
}

/// What `update` asks the runtime to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Load(LoadOptions),
    Generate(GenerateRequest),
    Cancel(RequestId),
    /// Classify these texts' sentiment with the model.
    Classify(Vec<String>),
    History(HistoryCommand),
    CopyToClipboard(String),
    SetMouseCapture(bool),
    /// Look for models (the standard places plus these directories) off the UI thread;
    /// the answer is [`Msg::ModelsFound`].
    DiscoverModels(Vec<std::path::PathBuf>),
    /// Ask the configured servers for their models, off the UI thread ([`Msg::ServersFound`]).
    DiscoverServers(
        Vec<(
            String,
            String,
            Result<crate::engine::remote::Endpoint, String>,
        )>,
    ),
    Sweep(crate::engine::SweepRequest),
    /// Stop one variant of a sweep.
    CancelVariant(RequestId, usize),
    /// Continue the response from a token with another token (the inspector's fork).
    Fork(crate::engine::ForkRequest),
    Quit,
}

/// The effects to run when the studio opens.
pub fn start(state: &mut State) -> Vec<Effect> {
    match state.load_options.clone() {
        Some(options) => {
            let name = match &options.remote {
                Some(endpoint) => format!("{} (connecting)", endpoint.public_url()),
                None => file_name(&options.model_path),
            };
            state.model = ModelState::Loading {
                id: None,
                name,
                fraction: 0.0,
            };
            vec![Effect::Load(options)]
        }
        None => Vec::new(),
    }
}

pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) if key.kind != KeyEventKind::Release => on_key(state, key),
        Msg::Key(_) => Vec::new(),
        Msg::Paste(text) => {
            let text = text.replace("\r\n", "\n").replace('\r', "\n");
            match state.focus {
                Focus::Prompt => {
                    state.prompt.insert_str(&text);
                }
                Focus::System => {
                    state.system.insert_str(&text);
                }
                Focus::Controls => {
                    for c in text.trim().chars() {
                        state.controls.type_char(c);
                    }
                }
                Focus::Output => {}
            }
            Vec::new()
        }
        Msg::Mouse(mouse) => {
            match mouse.kind {
                MouseEventKind::ScrollUp => state.output.scroll_by(-3),
                MouseEventKind::ScrollDown => state.output.scroll_by(3),
                _ => {}
            }
            Vec::new()
        }
        Msg::Resize(width, height) => {
            resize(state, width, height);
            Vec::new()
        }
        Msg::Engine(event) => on_engine(state, event),
        Msg::GenerationSent(id) => {
            if matches!(state.run, RunState::Requested) {
                state.run = RunState::Generating {
                    id,
                    prompt_tokens: 0,
                    context_size: 0,
                    seed: None,
                    generated: 0,
                    elapsed: Duration::ZERO,
                    time_to_first_token: None,
                    cancelling: false,
                };
            }
            Vec::new()
        }
        Msg::LoadSent(id) => {
            if let ModelState::Loading { id: slot, .. } = &mut state.model {
                *slot = Some(id);
            }
            Vec::new()
        }
        Msg::SweepSent(id) => {
            if let Some(sweep) = state.sweep.as_mut().filter(|s| s.id.is_none()) {
                sweep.id = Some(id);
            }
            Vec::new()
        }
        Msg::ClassifySent(id) => {
            if state.sentiment.model == ModelReadout::Requested {
                state.sentiment.model = ModelReadout::Running(id);
            }
            Vec::new()
        }
        Msg::History(event) => history_update::on_event(state, event),
        Msg::ModelsFound(found) => picker_update::models_found(state, found),
        Msg::ServersFound(servers) => picker_update::servers_found(state, servers),
        Msg::Terminate => quit(state),
    }
}

pub fn resize(state: &mut State, width: u16, height: u16) {
    state.size = (width, height);
    if let Some(areas) = layout::areas(width, height) {
        let inner = layout::inner(areas.output);
        state.output.resize(inner.width, inner.height);
    }
    sweep_update::resize_columns(state);
}

/// Cancels run `id` and closes its history record as interrupted, partial text kept.
pub(super) fn cancel_and_close_record(state: &State, id: RequestId, effects: &mut Vec<Effect>) {
    effects.push(Effect::Cancel(id));
    if state.history.records() {
        effects.push(Effect::History(HistoryCommand::Abandon {
            status: RunStatus::Interrupted,
            error: None,
        }));
    }
}

pub(super) fn quit(state: &mut State) -> Vec<Effect> {
    state.quit = true;
    let mut effects = Vec::new();
    if let Some(id) = state.run.id() {
        // The engine's answer will not be waited for: keep the partial run as interrupted.
        cancel_and_close_record(state, id, &mut effects);
    }
    effects.extend(sweep_update::stop_sweep(state));
    effects.push(Effect::Quit);
    effects
}

fn scope(state: &State) -> Scope {
    match state.focus {
        Focus::Prompt | Focus::System => Scope::Editor,
        Focus::Controls => Scope::Controls,
        Focus::Output if state.sweep.is_some() => Scope::Sweep,
        Focus::Output if state.inspector.cursor.is_some() => Scope::Inspect,
        Focus::Output => Scope::Output,
    }
}

fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let action = state.keymap.lookup(scope(state), &key);
    if state.sweep_editor.is_some() && !state.help_open {
        return sweep_update::editor_key(state, key);
    }
    if state.picker.is_some() && !state.help_open {
        return picker_update::on_key(state, key);
    }
    if state.history.open && !state.help_open {
        return history_update::on_key(state, key);
    }
    if state.help_open {
        // The help overlay eats keys: any of its toggles or Esc closes it.
        if matches!(action, Some(Action::ToggleHelp | Action::Cancel)) {
            state.help_open = false;
        } else if matches!(action, Some(Action::Quit)) {
            return quit(state);
        }
        return Vec::new();
    }
    if let Some(action) = action {
        return on_action(state, action);
    }
    match state.focus {
        Focus::Prompt => {
            state.prompt.input(key);
        }
        Focus::System => {
            state.system.input(key);
        }
        Focus::Controls => {
            use ratatui::crossterm::event::KeyCode;
            match key.code {
                KeyCode::Char(c) if !state.controls.type_char(c) => {
                    state.controls.hint = Some(format!("'{c}' is not part of a number"));
                }
                KeyCode::Backspace => {
                    state.controls.typed.pop();
                }
                _ => {}
            }
        }
        Focus::Output => {}
    }
    Vec::new()
}

fn on_action(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Send => send(state),
        Action::Regenerate => regenerate(state),
        Action::Cancel => {
            if !state.controls.typed.is_empty() && state.focus == Focus::Controls {
                state.controls.typed.clear();
                return Vec::new();
            }
            if let Some(effects) = sweep_update::cancel_or_close(state) {
                return effects;
            }
            if state.inspector.cursor.is_some() && state.focus == Focus::Output {
                state.inspector.cursor = None;
                return Vec::new();
            }
            cancel(state)
        }
        Action::Quit => quit(state),
        Action::QuitOrCancel => {
            if state.sweep.as_ref().is_some_and(|s| s.running) {
                sweep_update::cancel_or_close(state).unwrap_or_default()
            } else if state.run.is_busy() {
                cancel(state)
            } else {
                quit(state)
            }
        }
        Action::FocusNext | Action::FocusPrevious => {
            state.controls.typed.clear();
            state.focus = if action == Action::FocusNext {
                state.focus.next()
            } else {
                state.focus.previous()
            };
            state.refresh_editor_cursors();
            Vec::new()
        }
        Action::ToggleHelp => {
            state.help_open = !state.help_open;
            Vec::new()
        }
        Action::CopyOutput => {
            let text = state.output.text().to_owned();
            if text.is_empty() {
                state.set_notice(NoticeKind::Info, "nothing to copy yet");
                Vec::new()
            } else {
                state.set_notice(
                    NoticeKind::Info,
                    format!("copied {} characters (OSC 52)", text.chars().count()),
                );
                vec![Effect::CopyToClipboard(text)]
            }
        }
        Action::CycleSentimentMethod => {
            state.sentiment.method = state.sentiment.method.next();
            state.set_notice(
                NoticeKind::Info,
                format!(
                    "sentiment: {} (from the next run)",
                    state.sentiment.method.label()
                ),
            );
            Vec::new()
        }
        Action::ToggleHistory => history_update::toggle(state),
        Action::OpenPresets => picker_update::open_presets(state),
        Action::OpenModels => picker_update::open_models(state),
        Action::PickerUp | Action::PickerDown | Action::PickerChoose => Vec::new(),
        Action::OpenSweep => sweep_update::open_editor(state),
        Action::ToggleHeat
        | Action::Inspect
        | Action::InspectPrevious
        | Action::InspectNext
        | Action::AlternativeUp
        | Action::AlternativeDown
        | Action::Fork => inspector_update::on_action(state, action),
        Action::SweepPrevious
        | Action::SweepNext
        | Action::SweepMaximise
        | Action::SweepCancelOne
        | Action::SweepKeep => sweep_update::on_action(state, action).unwrap_or_default(),
        Action::ScrollUp | Action::ScrollDown | Action::ScrollPageUp | Action::ScrollPageDown
            if state.sweep.is_some() && state.focus == Focus::Output =>
        {
            sweep_update::on_action(state, action).unwrap_or_default()
        }
        Action::HistoryUp
        | Action::HistoryDown
        | Action::HistoryLoad
        | Action::HistoryReplay
        | Action::HistoryStar
        | Action::HistoryDelete => Vec::new(),
        Action::ToggleMouse => {
            state.mouse_enabled = !state.mouse_enabled;
            let word = if state.mouse_enabled {
                "on: wheel scrolls the output"
            } else {
                "off: the terminal selects text"
            };
            state.set_notice(NoticeKind::Info, format!("mouse {word}"));
            vec![Effect::SetMouseCapture(state.mouse_enabled)]
        }
        Action::ScrollPageUp => scroll(state, -state.output.page()),
        Action::ScrollPageDown => scroll(state, state.output.page()),
        Action::ScrollUp => scroll(state, -1),
        Action::ScrollDown => scroll(state, 1),
        Action::ScrollTop => {
            state.output.scroll_to_top();
            Vec::new()
        }
        Action::ScrollBottom => {
            state.output.scroll_to_bottom();
            Vec::new()
        }
        Action::Undo | Action::Redo => {
            let editor = if state.focus == Focus::System {
                &mut state.system
            } else {
                &mut state.prompt
            };
            if action == Action::Undo {
                editor.undo();
            } else {
                editor.redo();
            }
            Vec::new()
        }
        Action::SelectPrevious | Action::SelectNext => {
            let count = super::controls::FIELDS.len();
            let c = &mut state.controls;
            c.typed.clear();
            c.selected = if action == Action::SelectNext {
                (c.selected + 1) % count
            } else {
                (c.selected + count - 1) % count
            };
            Vec::new()
        }
        Action::Decrease => step(state, -1.0, false),
        Action::Increase => step(state, 1.0, false),
        Action::DecreaseCoarse => step(state, -1.0, true),
        Action::IncreaseCoarse => step(state, 1.0, true),
        Action::ToggleRandomSeed => {
            if state.controls.selected_field() == super::controls::Field::Seed {
                state.controls.toggle_random_seed();
            } else {
                state.controls.hint = Some("r toggles the seed: select it first".into());
            }
            Vec::new()
        }
        Action::ResetField => {
            state.controls.reset_selected();
            Vec::new()
        }
        Action::ApplyTyped => {
            state.controls.apply_typed();
            Vec::new()
        }
    }
}

fn scroll(state: &mut State, delta: isize) -> Vec<Effect> {
    state.output.scroll_by(delta);
    Vec::new()
}

fn step(state: &mut State, direction: f64, coarse: bool) -> Vec<Effect> {
    state.controls.step(direction, coarse);
    Vec::new()
}

fn send(state: &mut State) -> Vec<Effect> {
    let user = state.prompt.lines().join("\n");
    if user.trim().is_empty() {
        state.set_notice(
            NoticeKind::Error,
            "the prompt is empty: type something first",
        );
        return Vec::new();
    }
    let unfilled = picker_update::unfilled_blanks(state);
    if let Some(active) = state.active_preset.as_mut() {
        if !unfilled.is_empty() && !active.warned {
            active.warned = true;
            let listed: Vec<String> = unfilled.iter().map(|b| format!("{{{b}}}")).collect();
            let again = state.keymap.first_key(Action::Send);
            state.set_notice(
                NoticeKind::Error,
                format!(
                    "still blank: {} — fill it in, or press {again} again to send as is",
                    listed.join(" ")
                ),
            );
            return Vec::new();
        }
    }
    let system = state.system.lines().join("\n");
    let request = GenerateRequest {
        prompt: Prompt::Chat {
            system: (!system.trim().is_empty()).then_some(system),
            user,
            template: state.template.clone(),
        },
        sampler: state.controls.params.clone(),
    };
    start_generation(state, request)
}

/// The last prompt again, with the controls as they are now (so a turned temperature applies);
/// a random seed draws a new one, a fixed seed repeats.
fn regenerate(state: &mut State) -> Vec<Effect> {
    let Some(previous) = state.last_request.clone() else {
        state.set_notice(
            NoticeKind::Info,
            "nothing to regenerate yet: send a prompt first",
        );
        return Vec::new();
    };
    let request = GenerateRequest {
        prompt: previous.prompt,
        sampler: state.controls.params.clone(),
    };
    start_generation(state, request)
}

pub(super) fn start_generation(state: &mut State, request: GenerateRequest) -> Vec<Effect> {
    match &state.model {
        ModelState::Ready(_) | ModelState::Loading { .. } => {}
        ModelState::Missing(message) | ModelState::Failed(message) => {
            let message = format!("no model loaded: {message}");
            state.set_notice(NoticeKind::Error, message);
            return Vec::new();
        }
    }
    let mut effects = begin_new_response(state);
    let mut request = request;
    // The studio always records token probabilities: the inspector and the heat colouring
    // need them after the fact, and they cost a few per cent.
    request.sampler.top_logprobs = Some(super::inspector::ALTERNATIVES);
    state.output.clear();
    state.inspector.clear();
    state.run = RunState::Requested;
    state.last_request = Some(request.clone());
    effects.push(Effect::Generate(request));
    effects
}

/// What every new response (a run or a fork) does first: cancel what runs, reset the views.
pub(super) fn begin_new_response(state: &mut State) -> Vec<Effect> {
    let mut effects = Vec::new();
    if let Some(id) = state.run.id() {
        // Its answer will be dropped as stale: close its record now, so a failure of the new
        // request can never be written onto it.
        cancel_and_close_record(state, id, &mut effects);
    }
    // A plain run replaces a sweep on screen.
    effects.extend(sweep_update::stop_sweep(state));
    state.sweep = None;
    // The engine serves one request at a time: a classification still running would delay
    // the new generation, and its result is for the old response anyway.
    if let ModelReadout::Running(id) = state.sentiment.model {
        effects.push(Effect::Cancel(id));
    }
    state.sentiment.reset();
    state.history.replay = None;
    state.notice = None;
    state.pending_fork = None;
    state.shown_run_id = None;
    effects
}

fn cancel(state: &mut State) -> Vec<Effect> {
    match &mut state.run {
        RunState::Generating { id, cancelling, .. } => {
            *cancelling = true;
            vec![Effect::Cancel(*id)]
        }
        _ => Vec::new(),
    }
}

fn on_engine(state: &mut State, event: EngineEvent) -> Vec<Effect> {
    if sweep_update::owns(state, &event) {
        return sweep_update::on_engine(state, event);
    }
    let current_run = state.run.id();
    let current_load = match &state.model {
        ModelState::Loading { id, .. } => *id,
        _ => None,
    };
    let id = event.id();
    let mut effects = Vec::new();
    match event {
        EngineEvent::LoadProgress { fraction, .. } if Some(id) == current_load => {
            if let ModelState::Loading { fraction: slot, .. } = &mut state.model {
                *slot = fraction;
            }
        }
        EngineEvent::Loaded { info, .. } if Some(id) == current_load => {
            let wanted_gpu = state
                .load_options
                .as_ref()
                .is_some_and(|o| o.gpu_layers != crate::engine::GpuLayers::Count(0));
            if wanted_gpu && !info.gpu_offload_supported {
                state.set_notice(NoticeKind::Info, crate::engine::no_gpu_hint());
            }
            state.model = ModelState::Ready(Box::new(info));
        }
        EngineEvent::Failed { error, .. } if Some(id) == current_load => {
            state.model = ModelState::Failed(error.to_string());
            state.set_notice(NoticeKind::Error, error.to_string());
        }
        EngineEvent::Started { started, .. } if Some(id) == current_run => {
            if let (true, ModelState::Ready(info), Some(request)) =
                (state.history.records(), &state.model, &state.last_request)
            {
                effects.push(Effect::History(HistoryCommand::Begin {
                    run: NewRun::new(info, request, &started),
                    model_path: info.path.clone(),
                }));
                if let Some((Some(parent), index)) = state.pending_fork.take() {
                    effects.push(Effect::History(HistoryCommand::LinkFork { parent, index }));
                }
            }
            if let RunState::Generating {
                prompt_tokens,
                context_size,
                seed,
                ..
            } = &mut state.run
            {
                *prompt_tokens = started.prompt_tokens;
                *context_size = started.context_size;
                *seed = Some(started.seed);
            }
        }
        EngineEvent::Token {
            text,
            generated: count,
            elapsed: since_first,
            ..
        } if Some(id) == current_run => {
            state.output.push(&text);
            state.sentiment.push(&text);
            if state.history.records() && !text.is_empty() {
                effects.push(Effect::History(HistoryCommand::Progress(text)));
            }
            if let RunState::Generating {
                generated,
                elapsed,
                time_to_first_token,
                ..
            } = &mut state.run
            {
                *generated = count;
                *elapsed = since_first;
                if time_to_first_token.is_none() {
                    // Measured by the engine at the end; until then, the first token's arrival.
                    *time_to_first_token = Some(Duration::ZERO);
                }
            }
        }
        EngineEvent::TokenDetail { detail, .. } if Some(id) == current_run => {
            state.inspector.push(detail);
        }
        EngineEvent::FirstToken {
            time_to_first_token: ttft,
            ..
        } if Some(id) == current_run => {
            if let RunState::Generating {
                time_to_first_token,
                ..
            } = &mut state.run
            {
                *time_to_first_token = Some(ttft);
            }
        }
        EngineEvent::Finished { finished, .. } if Some(id) == current_run => {
            let stats = &finished.stats;
            state.last_run = Some(LastRun {
                stop_reason: finished.stop_reason,
                time_to_first_token: stats.time_to_first_token,
                tokens_per_second: stats.tokens_per_second,
                generated: stats.generated_tokens,
                context_used: stats.context_used,
                context_size: stats.context_size,
                seed: finished.seed,
            });
            if finished.stop_reason == StopReason::ContextFull {
                state.set_notice(
                    NoticeKind::Error,
                    format!("context full at {} tokens: start a new run, or reopen with a larger --ctx-size", stats.context_size),
                );
            }
            state.run = RunState::Idle;
            let classify = state.sentiment.finish(&finished.text);
            history_update::judge_replay(state, &finished.text);
            if state.history.records() {
                effects.push(Effect::History(HistoryCommand::Finish(finished)));
                effects.push(Effect::History(HistoryCommand::Sentiment(
                    state.sentiment.record(),
                )));
            }
            if let Some(texts) = classify {
                effects.push(Effect::Classify(texts));
            }
        }
        EngineEvent::Classified { results, .. }
            if state.sentiment.model == ModelReadout::Running(id) =>
        {
            state.sentiment.model_results(results);
            if state.history.records() {
                effects.push(Effect::History(HistoryCommand::Sentiment(
                    state.sentiment.record(),
                )));
            }
        }
        EngineEvent::Failed { error, .. } if state.sentiment.model == ModelReadout::Running(id) => {
            state.sentiment.model = ModelReadout::Failed(error.to_string());
        }
        EngineEvent::Failed { error, .. } if Some(id) == current_run => {
            if state.history.records() {
                effects.push(Effect::History(HistoryCommand::Abandon {
                    status: RunStatus::after(&error),
                    error: Some(error.to_string()),
                }));
            }
            state.set_notice(NoticeKind::Error, error.to_string());
            state.run = RunState::Idle;
        }
        // Events of requests we no longer track (superseded runs) are dropped.
        _ => {}
    }
    effects
}

pub(super) fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;
